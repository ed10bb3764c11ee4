# Production shape (issue 7): deploy/ (docker-compose, HAProxy, Rasa endpoints), its
# container-free twin `make topology`, the PostgreSQL/Redis/two-Rasa tests, load and fault tests.
TEST_TARGETS += test-prod
BENCH_TARGETS += bench-load
.PHONY: topology test-prod test-prod-quick bench-load

# PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) are started, or installed from Debian's
# packages, when down; the tests say loudly why they skip only when neither works.
# In the foreground: service :8001, sticky Rasa pool :5015 -> Rasa :5006 and :5007, actions :5056.
topology: $(SVC_STAMP) $(RASA_STAMP) rasa-model
	HOTLINE_RASA_MODEL=$(RASA_MODEL) $(PY) scripts/topology.py

# Service replicas on PostgreSQL (fast), then the two-Rasa topology, observability and the fault
# tests (slow: one topology for the whole session, ~2.5 GB RSS, a few minutes on 2 cores).
test-prod: $(SVC_STAMP) $(RASA_STAMP) rasa-model
	HOTLINE_RASA_MODEL=$(RASA_MODEL) $(PY) -m pytest -q -p no:cacheprovider tests/prod

# Only what needs no Rasa model (PostgreSQL replicas, metrics, logs).
test-prod-quick: $(SVC_STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -m "not slow" tests/prod

# 100 chat senders x 10 turns and 50 copilot agents x 10 calls through the whole topology;
# writes bench/results/load.json (throughput, p50/p95/p99, errors, answer/ticket checks, RSS).
bench-load: $(SVC_STAMP) $(RASA_STAMP) rasa-model
	@mkdir -p bench/results
	HOTLINE_RASA_MODEL=$(RASA_MODEL) $(PY) bench/bench_load.py --out bench/results/load.json
