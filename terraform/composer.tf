###############################################################################
# Cloud Composer 3 environment running Airflow 3.
#
# The environment runs as the orchestrator service account. Airflow and dbt use
# its credentials through Application Default Credentials, so no key is created
# and dbt's BigQuery profile uses `method: oauth`.
#
# The DAGs are not deployed by Terraform: CI syncs the repository's DAG folder
# (and the dbt project) to the environment bucket, see README.md and the
# `composer_dag_gcs_prefix` output.
###############################################################################

locals {
  # What the DAGs read to switch from the local DuckDB default to production.
  pipeline_env_variables = {
    MAIN_IMAGE_DBT_TARGET           = "bigquery"
    MAIN_IMAGE_DBT_PROJECT_DIR      = var.dbt_project_dir
    MAIN_IMAGE_DBT_SCHEMA_PREFIX    = var.dataset_prefix
    MAIN_IMAGE_GCP_PROJECT          = var.project_id
    MAIN_IMAGE_BQ_LOCATION          = local.bigquery_location
    MAIN_IMAGE_BQ_DATASET_RAW       = google_bigquery_dataset.raw.dataset_id
    MAIN_IMAGE_BQ_DATASET_STAGING   = google_bigquery_dataset.staging.dataset_id
    MAIN_IMAGE_BQ_DATASET_MARTS     = google_bigquery_dataset.marts.dataset_id
    MAIN_IMAGE_BQ_DATASET_REPORTING = google_bigquery_dataset.reporting.dataset_id
    MAIN_IMAGE_LANDING_BUCKET       = google_storage_bucket.landing.name
    MAIN_IMAGE_LANDING_URI          = "gs://${google_storage_bucket.landing.name}"
    MAIN_IMAGE_EXPORTS_BUCKET       = google_storage_bucket.exports.name
    MAIN_IMAGE_EXPORTS_URI          = "gs://${google_storage_bucket.exports.name}"
  }
}

resource "google_composer_environment" "this" {
  project = var.project_id
  name    = var.composer_environment_name
  region  = var.region
  labels  = local.labels

  config {
    environment_size = var.composer_environment_size

    software_config {
      image_version            = var.composer_image_version
      pypi_packages            = var.composer_pypi_packages
      airflow_config_overrides = var.composer_airflow_config_overrides
      # Module variables win over caller-supplied extras.
      env_variables = merge(var.composer_extra_env_variables, local.pipeline_env_variables)
    }

    node_config {
      service_account = google_service_account.orchestrator.email
    }
  }

  # The environment's service account must hold its roles before creation,
  # otherwise environment creation fails.
  depends_on = [
    google_project_service.apis,
    google_project_iam_member.orchestrator,
    google_service_account_iam_member.composer_agent_v2_ext,
  ]
}
