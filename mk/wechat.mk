# The WeChat Official Account channel (issue 5): /wechat, each message once, the 5-second rule.
TEST_TARGETS += test-wechat
BENCH_TARGETS += bench-wechat
.PHONY: test-wechat bench-wechat

# The protocol byte for byte over HTTP (signatures, AES safe mode, retries, deadline, outbox),
# on SQLite and on PostgreSQL (127.0.0.1:5432, a schema of its own per run); then an outside
# client written from WeChat's public docs against the real service (uvicorn on 127.0.0.1:8108).
test-wechat: $(SVC_STAMP)
	$(PY) -m pytest -q -p no:cacheprovider tests/wechat tests/wechat_outside

# Passive-reply p50/p99 (plain and safe mode) and 50 concurrent senders against a live uvicorn;
# with the real Rasa too when one answers on :5005.
bench-wechat: $(SVC_STAMP)
	@mkdir -p bench/results
	$(PY) bench/bench_wechat.py --out bench/results/wechat.json
