# Analytics: the analysts' dashboard over the reporting marts and dbt's documentation site.
# `make run` builds the demo warehouse; `make dashboard` then opens the page on it
# (http://127.0.0.1:$(DASHBOARD_PORT)); `make docs` serves dbt docs with the lineage graph and
# the exposures (http://127.0.0.1:$(DOCS_PORT)). Both run in the foreground: Ctrl-C stops them.
# `make run SHADOW_SCORING_VERSION=v2 && make dashboard-screenshot` retakes the README's picture
# (and the Scoring shadow page's, docs/scoring.md) from the demo warehouse.

DASHBOARD_PORT ?= 8501
DASHBOARD_WAREHOUSE ?= $(WAREHOUSE)
DOCS_PORT ?= 8081
DOCS_WAREHOUSE ?= $(WAREHOUSE)
DOCS_TARGET_PATH ?= target/docs
DASHBOARD_SCREENSHOT ?= docs/dashboard.png
DASHBOARD_SHADOW_SCREENSHOT ?= docs/img/dashboard-shadow.png

.PHONY: dashboard dashboard-screenshot docs test-dashboard

dashboard: setup ## the analysts' dashboard (Streamlit) on the demo warehouse (after `make run`)
	$(BIN)/python -m main_image.cli dashboard --warehouse $(DASHBOARD_WAREHOUSE) --port $(DASHBOARD_PORT)

dashboard-screenshot: setup setup-system ## docs/dashboard.png + the shadow page from the demo warehouse (after `make run SHADOW_SCORING_VERSION=v2`)
	$(BIN)/python -m main_image.dev.dashboard_screenshot --warehouse $(DASHBOARD_WAREHOUSE) \
		--out $(DASHBOARD_SCREENSHOT) --shadow-out $(DASHBOARD_SHADOW_SCREENSHOT)

docs: setup ## dbt docs generate + serve (lineage, exposures) on 127.0.0.1:$(DOCS_PORT)
	cd dbt_project && MAIN_IMAGE_WAREHOUSE=$(abspath $(DOCS_WAREHOUSE)) \
		$(abspath $(BIN))/dbt docs generate --profiles-dir . --target-path $(DOCS_TARGET_PATH) --quiet
	@echo "docs: http://127.0.0.1:$(DOCS_PORT) (Ctrl-C stops it)"
	cd dbt_project && MAIN_IMAGE_WAREHOUSE=$(abspath $(DOCS_WAREHOUSE)) \
		$(abspath $(BIN))/dbt docs serve --profiles-dir . --target-path $(DOCS_TARGET_PATH) \
		--host 127.0.0.1 --port $(DOCS_PORT) --no-browser

test-dashboard: setup setup-system ## the dashboard's browser test (chromium + Playwright)
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_analytics.py -k dashboard
