# The Rasa assistant, dialogue half (issue 3): domain, stories, actions, the trained model.
#
# Commands the `make run` supervisor (service/supervisor.py) starts, from the repo root:
#   action server:  .venv-rasa/bin/rasa run actions -p 5055 --actions actions
#   Rasa server:    .venv-rasa/bin/rasa run --enable-api --cors "*" -p 5005 -m $(RASA_MODEL) --endpoints bot/endpoints.yml
# (`make actions-serve` / `make rasa-serve` run exactly these.) The action server opens urgent
# tickets through the service: HOTLINE_TICKETS=http (default) | fake, HOTLINE_SERVICE_URL,
# HOTLINE_BOT_TOKEN; HOTLINE_AS_OF fixes the day of the question.
#
# The model is named after a hash of everything training reads (scripts/model_hash.py) and kept
# in a cache outside the tree, so an unchanged hash never trains again, even on a fresh clone.
TEST_TARGETS += test-bot
BENCH_TARGETS += bench-bot bench-chat
.PHONY: rasa-model rasa-serve actions-serve test-bot bench-bot bench-chat rasa-validate

RASA := $(RASA_VENV)/bin/rasa
MODEL_HASH := $(shell python3 scripts/model_hash.py)
RASA_MODEL := bot/models/$(MODEL_HASH).tar.gz
export RASA_MODEL
RASA_CACHE_SH := $${HOTLINE_CACHE:-$$HOME/.cache/hotline-12345}/models
RASA_TRAIN_DATA := bot/data nlu_data/nlu
# Rasa's own telemetry stays off on CI and developer machines alike.
export RASA_TELEMETRY_ENABLED := false

rasa-model: $(RASA_MODEL)

# Order-only prerequisites: a newer venv stamp or regenerated NLU assets alone never retrain
# (their inputs are already in the hash).
$(RASA_MODEL): | $(RASA_STAMP) nlu-assets
	@set -e; cache="$(RASA_CACHE_SH)"; mkdir -p "$$cache" bot/models; \
	if [ -s "$$cache/$(MODEL_HASH).tar.gz" ]; then \
	  echo "rasa-model: $(MODEL_HASH) from the cache ($$cache)"; \
	  cp "$$cache/$(MODEL_HASH).tar.gz" "$@.tmp" && mv "$@.tmp" "$@"; \
	else \
	  echo "rasa-model: training $(MODEL_HASH) (inputs changed)"; \
	  $(RASA) train --config bot/config.yml --domain bot/domain --data $(RASA_TRAIN_DATA) \
	    --out bot/models --fixed-model-name $(MODEL_HASH); \
	  test -s "$@"; \
	  cp "$@" "$$cache/$(MODEL_HASH).tar.gz.tmp.$$$$" && mv "$$cache/$(MODEL_HASH).tar.gz.tmp.$$$$" "$$cache/$(MODEL_HASH).tar.gz"; \
	fi

rasa-serve: rasa-model
	$(RASA) run --enable-api --cors "*" -p 5005 -m $(RASA_MODEL) --endpoints bot/endpoints.yml

actions-serve: | $(RASA_STAMP)
	$(RASA) run actions -p 5055 --actions actions

# Errors fail the build; warnings (responses only custom actions use) are printed.
rasa-validate: | $(RASA_STAMP) nlu-assets
	$(RASA) data validate --config bot/config.yml --domain bot/domain --data $(RASA_TRAIN_DATA)

# Data validation, the action tests, the test conversations against the trained model, and the
# live end-to-end chat (real Rasa server + action server with fake tickets).
test-bot: rasa-validate rasa-model
	$(RASA_PY) -m pytest -q -p no:cacheprovider tests/actions
	# --e2e: each user line goes through the model's NLU (intent and extractor entities are
	# checked against the annotations), then the dialogue policies; any wrong prediction fails.
	$(RASA) test core --e2e --stories bot/tests -m $(RASA_MODEL) --fail-on-prediction-errors \
	  --out build/bot/test-conversations
	HOTLINE_RASA_MODEL=$(RASA_MODEL) $(RASA_PY) -m pytest -q -p no:cacheprovider -m rasa tests/bot

# Median and p95 of /model/parse and of a whole chat turn, on live servers (200 calls each).
bench-bot: rasa-model
	@mkdir -p bench/results
	HOTLINE_RASA_MODEL=$(RASA_MODEL) $(RASA_PY) bench/bench_bot.py --calls 200 --out bench/results/bot.json

# Chat turns end to end, before and after the precompiled action-response validator, in one run
# (two systems of its own, one after the other, on ports 8021/5025/5075): bench/results/chat.json.
bench-chat: $(SVC_STAMP) rasa-model
	@mkdir -p bench/results
	HOTLINE_RASA_MODEL=$(RASA_MODEL) $(PY) bench/bench_chat.py --profile --out bench/results/chat.json
