# policy_kb: the 20 measures as rules (issue 2)
TEST_TARGETS += test-policy
BENCH_TARGETS += bench-policy
.PHONY: test-policy bench-policy
test-policy: $(SVC_STAMP) $(RASA_STAMP)
	$(PY) -m pytest -q tests/policy
	# policy_kb must run unchanged on the Rasa side (Python 3.10, only PyYAML)
	$(RASA_PY) -m pytest -q -p no:cacheprovider tests/policy/test_golden_cases.py
bench-policy: $(SVC_STAMP)
	@mkdir -p bench/results
	$(PY) bench/bench_policy.py --out bench/results/policy.json
