# NLU side of issue 3: the generated NLU assets (jieba user dictionary + spaCy blank-zh pipeline with
# entity_ruler patterns, both from policy_kb's tables), the fact extractor's tests in both
# environments, and the held-out NLU gate (trains only when its inputs changed; model cached in
# $${HOTLINE_CACHE:-$$HOME/.cache/hotline-12345}/nlu/<hash>.tar.gz).
.PHONY: nlu-assets test-extraction test-nlu nlu-gate bench-extraction
TEST_TARGETS += test-nlu
BENCH_TARGETS += bench-extraction

NLU_ASSETS := build/nlu/manifest.json
NLU_ASSET_INPUTS := $(wildcard extraction/*.py) $(wildcard policy_kb/data/*.yaml) policy_kb/tables.py \
	scripts/build_nlu_assets.py bot/components/spacy_zh.py

# Rebuilt only when the tables, the lexicon or the builder change (the manifest is written last).
$(NLU_ASSETS): $(NLU_ASSET_INPUTS) $(RASA_STAMP)
	$(RASA_PY) scripts/build_nlu_assets.py --out build/nlu

nlu-assets: $(NLU_ASSETS)

test-extraction: $(SVC_STAMP) $(RASA_STAMP)
	$(PY) -m pytest -q tests/extraction tests/nlu/test_nlu_data.py
	# the same extractor must behave identically on the Rasa side (Python 3.10)
	$(RASA_PY) -m pytest -q -p no:cacheprovider tests/extraction

nlu-gate: $(RASA_STAMP) $(NLU_ASSETS)
	$(RASA_PY) tests/nlu/gate.py --out bench/results/nlu.json

test-nlu: test-extraction $(NLU_ASSETS)
	$(RASA_PY) -m pytest -q -p no:cacheprovider tests/nlu
	$(MAKE) --no-print-directory nlu-gate

bench-extraction: $(SVC_STAMP)
	@mkdir -p bench/results
	$(PY) tests/extraction/bench_extraction.py --out bench/results/extraction.json
