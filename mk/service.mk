# The service (issue 4): FastAPI app, tickets, accounts; `make run` starts the whole system.
TEST_TARGETS += test-service
BENCH_TARGETS += bench-service
.PHONY: test-service bench-service run

# Real SQLite and real PostgreSQL (127.0.0.1:5432, db `test`, a schema of its own per run):
# the tests marked `postgres` start the local cluster if it is down, and are skipped with a
# loud reason only when PostgreSQL cannot be reached at all.
# tests/contract: an outside client of shared/contract.md §4–§5 against uvicorn on 127.0.0.1:8107.
test-service: $(SVC_STAMP)
	$(PY) -m pytest -q -p no:cacheprovider tests/service
	$(PY) -m pytest -q -p no:cacheprovider tests/contract

# Policy evaluate and copilot analyze p50/p95 over HTTP against a live uvicorn; tickets/s.
bench-service: $(SVC_STAMP)
	@mkdir -p bench/results
	$(PY) bench/bench_service.py --out bench/results/service.json

# The whole system in the foreground: action server, Rasa server, service on 127.0.0.1:8000.
# Ctrl-C stops everything. rasa-model (mk/bot.mk) trains the model when it is missing.
run: $(SVC_STAMP) $(RASA_STAMP) rasa-model
	$(PY) -m service.supervisor
