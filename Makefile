# Main-image pipeline: the developer entry points. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
export PYTHONPATH := $(CURDIR)/plugins
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DO_NOT_TRACK := 1

SAMPLE_DIR ?= sample_data
SAMPLE_HOTELS ?= 200
WAREHOUSE ?= warehouse/demo.duckdb
# make run SCORING_VERSION=v2, or SHADOW_SCORING_VERSION=v2 to compare (docs/scoring.md)
SCORING_VERSION ?= v1
SHADOW_SCORING_VERSION ?=
EXPORTS ?= exports

.PHONY: help setup run test test-python test-dbt lint clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

setup: $(STAMP) ## create .venv with the pinned requirements and the main-image CLI (idempotent)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.3.1" "setuptools==80.9.0" "wheel==0.45.1"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)
	@echo "setup: $(VENV) is ready"

run: setup ## generate sample data and run the pipeline twice (initial load, later delivery) on DuckDB
	$(BIN)/python -m main_image.dev.demo --hotels $(SAMPLE_HOTELS) --sample-dir $(SAMPLE_DIR) \
		--warehouse $(WAREHOUSE) --exports $(EXPORTS) \
		--scoring-version $(SCORING_VERSION) --shadow-scoring-version "$(SHADOW_SCORING_VERSION)" \
		--database-url "sqlite:///$(abspath $(SERVICE_DIR))/service.db"

# `make test` runs every test file on TEST_WORKERS pytest-xdist workers side by side (a file
# whole on one worker, so its module fixtures run once; the slowest files start first, in the
# order of tests/conftest.py, which xdist would otherwise replace by "most tests first").
# TEST_WORKERS=1 runs them one after another.
TEST_WORKERS ?= 2

test: setup setup-system setup-bqemulator ## the whole suite: lint, then pipeline, Airflow end to end and BigQuery emulator tests
	$(MAKE) --no-print-directory lint
	BQ_EMULATOR_VENV=$(abspath $(BQEMU_VENV)) $(BIN)/python -m pytest -q -p no:cacheprovider \
		-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "not (airflow and bigquery)" tests/

test-python: setup ## pytest without the Airflow and BigQuery parts (conformance, invariants, properties, dbt)
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not airflow and not bigquery" tests/

lint: setup ## ruff on the Python code, sqlfluff on the dbt SQL; terraform fmt when installed
	$(BIN)/ruff check plugins tests dags benchmarks dbt_project/sqlfluff_dbt_context
	$(BIN)/sqlfluff lint --processes 2 dbt_project/models dbt_project/macros
	@if command -v terraform >/dev/null 2>&1; then terraform fmt -check -recursive terraform; \
	else echo "lint: terraform not installed, skipping terraform fmt"; fi

clean: ## remove generated data, warehouses and dbt artefacts (keeps .venv)
	rm -rf $(SAMPLE_DIR) warehouse $(EXPORTS) dbt_project/target dbt_project/logs

# Targets owned by the Airflow, BigQuery and benchmark parts live in mk/*.mk.
-include mk/*.mk
