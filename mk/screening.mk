# screening: proactive screening of low-income registers (issue 8)
TEST_TARGETS += test-screening
BENCH_TARGETS += bench-screening
.PHONY: test-screening bench-screening
test-screening: $(SVC_STAMP)
	$(PY) -m pytest -q tests/screening
# 1,000,000 synthetic households end to end on all cores; writes bench/results/screening.json
bench-screening: $(SVC_STAMP)
	@mkdir -p bench/results
	$(PY) bench/bench_screening.py --rows $${SCREENING_BENCH_ROWS:-1000000} --out bench/results/screening.json
