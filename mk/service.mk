# The image service (plugins/main_image/service/, README "The image service"): `make serve`
# starts a local instance (SQLite, local blob folder, the landing/ folder) with development
# secrets generated into $(SERVICE_DIR)/dev-secrets.env and printed once, when generated.

SERVICE_HOST ?= 127.0.0.1
SERVICE_PORT ?= 8000
SERVICE_DIR ?= service
SERVICE_SECRETS := $(SERVICE_DIR)/dev-secrets.env

.PHONY: serve bench-service

serve: setup ## run the image service locally (http://$(SERVICE_HOST):$(SERVICE_PORT)/docs), dev secrets printed once
	@$(BIN)/python -m main_image.service.devsecrets $(SERVICE_SECRETS)
	@set -a && . $(abspath $(SERVICE_SECRETS)) && set +a && \
	MAIN_IMAGE_ENV=development \
	MAIN_IMAGE_PUBLIC_BASE_URL=$${MAIN_IMAGE_PUBLIC_BASE_URL:-http://$(SERVICE_HOST):$(SERVICE_PORT)} \
	MAIN_IMAGE_DATABASE_URL=$${MAIN_IMAGE_DATABASE_URL:-sqlite:///$(abspath $(SERVICE_DIR))/service.db} \
	MAIN_IMAGE_BLOB_URI=$${MAIN_IMAGE_BLOB_URI:-$(abspath $(SERVICE_DIR))/blobs} \
	MAIN_IMAGE_LANDING_DIR=$${MAIN_IMAGE_LANDING_DIR:-$(CURDIR)/landing} \
	$(BIN)/python -m main_image.cli serve --host $(SERVICE_HOST) --port $(SERVICE_PORT)

bench-service: setup ## benchmark the image service (uploads/s, latency, memory, stats at scale)
	$(BIN)/python benchmarks/service_bench.py
