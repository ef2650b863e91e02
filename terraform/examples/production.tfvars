# Example production values. No secrets belong here: credentials come from ADC or
# the CI workload identity, and Airflow secrets from Secret Manager.
#
#   terraform init && terraform apply -var-file=examples/production.tfvars

project_id = "acme-main-image-prod"
region     = "europe-west1"

labels = {
  env         = "prod"
  team        = "content-data"
  cost-center = "metasearch"
}

# Landing: never touch a file before 14 days; move it to ARCHIVE at 30 days and
# delete it at 2 years. The raw dataset keeps every line regardless.
landing_retention_days            = 14
landing_archive_after_days        = 30
landing_archive_delete_after_days = 730
landing_versioning_enabled        = true

landing_writer_principals = [
  "serviceAccount:partner-feeds@acme-ingest-prod.iam.gserviceaccount.com",
  "serviceAccount:image-tagging@acme-ml-prod.iam.gserviceaccount.com",
]

exports_retention_days = 30

# Datasets raw, staging, marts, reporting (no prefix: the project is dedicated to
# the pipeline). A prefix must match the dbt var `schema_prefix`.
dataset_prefix = ""

analyst_principals = [
  "group:product-analysts@acme.example",
]

composer_environment_name = "main-image-prod"
composer_image_version    = "composer-3-airflow-3.1.7-build.13"
composer_environment_size = "ENVIRONMENT_SIZE_SMALL"

composer_airflow_config_overrides = {
  "core-dags_are_paused_at_creation" = "True"
}

composer_extra_env_variables = {
  MAIN_IMAGE_ENV = "prod"
}

# The image service (service.tf): its container image; secrets are generated into Secret Manager.
service_image = "europe-west1-docker.pkg.dev/acme-main-image-prod/main-image/service:1.0.0"
