# Two commands set everything up: `make run` and `make test` (see README.md).
# Each area adds its own targets in mk/*.mk; this file holds the environments they share.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV := .venv
RASA_VENV := .venv-rasa
PY := $(VENV)/bin/python
RASA_PY := $(RASA_VENV)/bin/python
# A venv is rebuilt only when its requirements change: the stamp carries their content hash.
SVC_STAMP := $(VENV)/.stamp-$(shell cat requirements/service.txt pyproject.toml | sha256sum | cut -c1-12)
RASA_STAMP := $(RASA_VENV)/.stamp-$(shell cat requirements/rasa.txt pyproject.toml | sha256sum | cut -c1-12)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# This machine's pip config lists local package folders; pip warns once per package it does not
# find there. Keep pip's exit status (pipefail), drop that noise.
PIP_QUIET := 2>&1 | { grep -v "is neither a file nor a directory" || true; }

# Areas append to these.
TEST_TARGETS :=
BENCH_TARGETS :=

include $(sort $(wildcard mk/*.mk))

.PHONY: help venv rasa-venv test bench run clean
help:
	@echo "make run    start the whole system on 127.0.0.1:8000 (installs and trains what is missing)"
	@echo "make test   run every test suite"
	@echo "make bench  run the benchmarks and write bench/results/"

$(SVC_STAMP): requirements/service.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements/service.txt $(PIP_QUIET)
	$(PY) -m pip install -q --no-deps -e . $(PIP_QUIET)
	@rm -f $(VENV)/.stamp-*; touch $@

$(RASA_STAMP): requirements/rasa.txt pyproject.toml
	@test -x $(RASA_PY) || $$(scripts/find-python310) -m venv $(RASA_VENV)
	$(RASA_PY) -m pip install -q -r requirements/rasa.txt $(PIP_QUIET)
	$(RASA_PY) -m pip install -q --no-deps -e . $(PIP_QUIET)
	@rm -f $(RASA_VENV)/.stamp-*; touch $@

venv: $(SVC_STAMP)
rasa-venv: $(RASA_STAMP)

# Fast suites first, so a broken rule fails in seconds rather than after a Rasa training.
TEST_ORDER := test-policy test-screening test-service test-wechat test-web test-nlu test-bot test-prod
test: $(foreach t,$(TEST_ORDER),$(filter $(t),$(TEST_TARGETS))) $(filter-out $(TEST_ORDER),$(TEST_TARGETS))
	@echo "all test suites passed"

bench: $(BENCH_TARGETS)
	@$(PY) scripts/bench_report.py

clean:
	rm -rf var/ bot/models/ build/ .pytest_cache .hypothesis
