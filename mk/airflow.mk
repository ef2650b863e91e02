# Local Airflow 3: `make airflow` runs `airflow standalone` (api-server + UI, scheduler,
# dag-processor, triggerer) with the pipeline DAGs, the embedded DuckDB warehouse and sample
# landing data; UI on http://localhost:$(AIRFLOW_PORT). See docs/airflow.md.

AIRFLOW_HOME_DIR ?= $(CURDIR)/airflow_home
AIRFLOW_PORT ?= 8080
AIRFLOW_POOL ?= main_image_duckdb
AIRFLOW_WAREHOUSE ?= warehouse/main_image.duckdb
AIRFLOW_LANDING ?= landing
AIRFLOW_EXPORTS ?= $(EXPORTS)
AIRFLOW_SAMPLE_HOTELS ?= $(SAMPLE_HOTELS)
AIRFLOW_SCHEDULE ?= @daily
# The manifest Cosmos renders the dbt task group from (written by `dbt parse`). It lives outside
# dbt_project/target so that CLI runs rewriting that folder never race the DAG parser.
AIRFLOW_DBT_TARGET ?= $(AIRFLOW_HOME_DIR)/dbt_target

# Quiet, explicit local settings (docs/airflow.md#a-quiet-log):
# * the JWT secret the api-server signs task tokens with (HS512 wants >= 64 bytes; Airflow's own
#   default is 16 random bytes and PyJWT warns about it in every task): random, generated once by
#   `make airflow-setup` into the git-ignored Airflow home, never in the repository;
# * OpenLineage (the provider is installed; Cosmos emits dbt lineage): events go to a file in
#   the Airflow home. Production points AIRFLOW__OPENLINEAGE__TRANSPORT at its backend.
AIRFLOW_JWT_SECRET_FILE = $(AIRFLOW_HOME_DIR)/.jwt_secret
# two INFO lines per task ("will use file transport", "emitted START event") are not for users
AIRFLOW_QUIET_LOGGERS = openlineage.client=WARNING airflow.providers.openlineage=WARNING
AIRFLOW_OPENLINEAGE_FILE ?= $(AIRFLOW_HOME_DIR)/openlineage.jsonl

AIRFLOW_ENV = \
	AIRFLOW_HOME=$(AIRFLOW_HOME_DIR) \
	AIRFLOW__API_AUTH__JWT_SECRET="$$(cat $(AIRFLOW_JWT_SECRET_FILE) 2>/dev/null)" \
	AIRFLOW__OPENLINEAGE__NAMESPACE=main_image \
	AIRFLOW__LOGGING__NAMESPACE_LEVELS="$(AIRFLOW_QUIET_LOGGERS)" \
	AIRFLOW__OPENLINEAGE__TRANSPORT='{"type": "file", "log_file_path": "$(AIRFLOW_OPENLINEAGE_FILE)", "append": true}' \
	AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags \
	AIRFLOW__CORE__LOAD_EXAMPLES=False \
	AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=True \
	AIRFLOW__API__PORT=$(AIRFLOW_PORT) \
	AIRFLOW__API__BASE_URL=http://localhost:$(AIRFLOW_PORT) \
	AIRFLOW__CORE__EXECUTION_API_SERVER_URL=http://localhost:$(AIRFLOW_PORT)/execution/ \
	AIRFLOW__CORE__PARALLELISM=4 \
	MAIN_IMAGE_WAREHOUSE=$(abspath $(AIRFLOW_WAREHOUSE)) \
	MAIN_IMAGE_LANDING_DIR=$(abspath $(AIRFLOW_LANDING)) \
	MAIN_IMAGE_EXPORTS_DIR=$(abspath $(AIRFLOW_EXPORTS)) \
	MAIN_IMAGE_DBT_MANIFEST=$(AIRFLOW_DBT_TARGET)/manifest.json \
	MAIN_IMAGE_SCHEDULE='$(AIRFLOW_SCHEDULE)' \
	PATH=$(abspath $(BIN)):$$PATH

.PHONY: airflow airflow-setup airflow-manifest airflow-sample airflow-cli airflow-clean test-airflow

airflow: airflow-setup ## Airflow 3 standalone with the DAGs, DuckDB and sample data (UI :8080)
	@echo "airflow: UI on http://localhost:$(AIRFLOW_PORT) (no login locally); Ctrl-C stops it"
	$(AIRFLOW_ENV) $(BIN)/airflow standalone

$(AIRFLOW_JWT_SECRET_FILE): # a random development JWT secret, once per Airflow home (git-ignored)
	@mkdir -p $(AIRFLOW_HOME_DIR)
	@umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(64))" > $@

airflow-setup: setup airflow-manifest airflow-sample $(AIRFLOW_JWT_SECRET_FILE) ## metadata DB, pool, manifest, sample data
	$(AIRFLOW_ENV) $(BIN)/airflow db migrate > $(AIRFLOW_HOME_DIR)/db-migrate.log
	$(AIRFLOW_ENV) $(BIN)/airflow pools set $(AIRFLOW_POOL) 1 \
		"The DuckDB warehouse: one writing task at a time" > /dev/null

airflow-manifest: setup ## dbt parse: the manifest the rebuild DAG checks scoring versions against
	$(BIN)/dbt parse --project-dir dbt_project --profiles-dir dbt_project \
		--target-path $(AIRFLOW_DBT_TARGET) --quiet

airflow-sample: setup ## generate sample landing data when the landing zone is empty
	$(BIN)/python -m main_image.landing sample --if-empty --landing-dir $(AIRFLOW_LANDING) \
		--sample-dir $(SAMPLE_DIR)/airflow --hotels $(AIRFLOW_SAMPLE_HOTELS)

airflow-cli: $(AIRFLOW_JWT_SECRET_FILE) ## the airflow CLI on the local Airflow: make airflow-cli ARGS="dags list"
	$(AIRFLOW_ENV) $(BIN)/airflow $(ARGS)

airflow-clean: ## remove the local Airflow home (metadata DB, logs, manifest)
	rm -rf $(AIRFLOW_HOME_DIR)

test-airflow: setup ## Airflow tests: `airflow dags test` end to end, reruns, crash-then-rerun, UI
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "airflow and not bigquery" tests/
