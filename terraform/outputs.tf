output "landing_bucket_name" {
  description = "Name of the landing bucket (feeds land under <feed>/ prefixes)."
  value       = google_storage_bucket.landing.name
}

output "landing_bucket_url" {
  description = "gs:// URL of the landing bucket."
  value       = google_storage_bucket.landing.url
}

output "exports_bucket_name" {
  description = "Name of the exports bucket the frontend reads the changes export and snapshot from."
  value       = google_storage_bucket.exports.name
}

output "exports_bucket_url" {
  description = "gs:// URL of the exports bucket."
  value       = google_storage_bucket.exports.url
}

output "bigquery_location" {
  description = "BigQuery location of the datasets (use it as `location` in the dbt BigQuery profile)."
  value       = local.bigquery_location
}

output "raw_dataset_id" {
  description = "Dataset ID of the raw layer."
  value       = google_bigquery_dataset.raw.dataset_id
}

output "staging_dataset_id" {
  description = "Dataset ID of the staging layer."
  value       = google_bigquery_dataset.staging.dataset_id
}

output "marts_dataset_id" {
  description = "Dataset ID of the marts layer (snapshot, changes)."
  value       = google_bigquery_dataset.marts.dataset_id
}

output "reporting_dataset_id" {
  description = "Dataset ID of the reporting layer (the only one analysts can read)."
  value       = google_bigquery_dataset.reporting.dataset_id
}

output "orchestrator_service_account_email" {
  description = "Email of the service account Composer, Airflow and dbt run as."
  value       = google_service_account.orchestrator.email
}

output "frontend_service_account_email" {
  description = "Email of the frontend's read-only service account (objectViewer on the exports bucket)."
  value       = google_service_account.frontend.email
}

output "composer_environment_name" {
  description = "Name of the Cloud Composer environment."
  value       = google_composer_environment.this.name
}

output "composer_airflow_uri" {
  description = "URL of the Airflow web UI of the Composer environment."
  value       = google_composer_environment.this.config[0].airflow_uri
}

output "composer_dag_gcs_prefix" {
  description = "gs:// prefix of the environment's DAG folder; CI syncs the repository's DAGs (and the dbt project under dbt/) there."
  value       = google_composer_environment.this.config[0].dag_gcs_prefix
}

output "composer_env_variables" {
  description = "MAIN_IMAGE_* environment variables set in Airflow (no secrets); handy to reproduce the production configuration locally."
  value       = local.pipeline_env_variables
}
