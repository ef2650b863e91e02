# BigQuery: the dbt project on the local BigQuery API emulator (docs/bigquery.md,
# docs/bq_emulator_notes.md). The emulator has its own virtualenv: its FastAPI/Starlette pins
# conflict with Airflow's.

BQEMU_VENV ?= .venv-bqemulator
BQEMU_BIN := $(BQEMU_VENV)/bin
BQEMU_STAMP := $(BQEMU_VENV)/.setup-stamp
BQEMU_PORT ?= 9050

.PHONY: setup-bqemulator test-bigquery test-airflow-bigquery bq-emulator

setup-bqemulator: $(BQEMU_STAMP) ## create .venv-bqemulator (the BigQuery API emulator) from requirements-bqemulator.txt

$(BQEMU_STAMP): requirements-bqemulator.txt
	@test -x $(BQEMU_BIN)/python || $(PYTHON) -m venv $(BQEMU_VENV)
	$(BQEMU_BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-bqemulator.txt
	@touch $(BQEMU_STAMP)
	@echo "setup-bqemulator: $(BQEMU_VENV) is ready"

test-bigquery: setup setup-bqemulator ## dbt on the BigQuery emulator must give DuckDB's snapshot and changes
	BQ_EMULATOR_VENV=$(abspath $(BQEMU_VENV)) \
		$(BIN)/python -m pytest -q -p no:cacheprovider -m "bigquery and not airflow" tests/

# Opt-in (about 3 minutes more than make test): `airflow dags test` with the Cosmos task group
# on the emulator (tests/test_airflow_bigquery.py).
test-airflow-bigquery: setup setup-bqemulator ## `airflow dags test` of the pipeline DAG on the BigQuery emulator
	BQ_EMULATOR_VENV=$(abspath $(BQEMU_VENV)) \
		$(BIN)/python -m pytest -q -p no:cacheprovider -m "airflow and bigquery" tests/

bq-emulator: setup setup-bqemulator ## run the emulator in the foreground on 127.0.0.1:$(BQEMU_PORT) (Ctrl-C stops)
	BQ_EMULATOR_VENV=$(abspath $(BQEMU_VENV)) $(BIN)/python -m main_image.dev.bq_emulator --port $(BQEMU_PORT)

