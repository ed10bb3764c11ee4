# Staff pages (issue 6): copilot, county queue, daily stats — tested in headless Chromium.
# Chromium is Debian's package (/usr/bin/chromium), installed here when missing (CI runs as root),
# with a small Chinese font so the screenshots under test-artifacts/web/ are readable.
# Playwright's Python package drives it through executable_path and never downloads a browser.
TEST_TARGETS += test-web
BENCH_TARGETS += bench-web
.PHONY: chromium test-web bench-web

CHROMIUM := /usr/bin/chromium
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

chromium:
	@if [ ! -x $(CHROMIUM) ] || [ ! -e $(CJK_FONT) ]; then \
	  echo "chromium: installing Debian's chromium and fonts-wqy-microhei"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-wqy-microhei; \
	fi
	@test -x $(CHROMIUM)

# Live uvicorn on a temporary SQLite database; screenshots go to test-artifacts/web/.
test-web: $(SVC_STAMP) chromium
	$(PY) -m pytest -q -p no:cacheprovider tests/web

# Keystroke-to-result p95 over 30 edits and the queue page with 10,000 tickets.
bench-web: $(SVC_STAMP) chromium
	@mkdir -p bench/results
	$(PY) bench/bench_web.py --edits 30 --tickets 10000 --out bench/results/web.json
