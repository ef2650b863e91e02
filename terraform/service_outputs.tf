# Outputs of the image service (service.tf).

output "service_url" {
  description = "URL Cloud Run serves the image service on."
  value       = google_cloud_run_v2_service.service.uri
}

output "service_public_base_url" {
  description = "Base URL of the cdn_url and upload_url the service hands out."
  value       = local.service_base_url
}

output "service_account_email" {
  description = "Email of the image service's service account."
  value       = google_service_account.service.email
}

output "images_bucket_name" {
  description = "Bucket of the image bytes."
  value       = google_storage_bucket.images.name
}

output "service_sql_connection_name" {
  description = "Cloud SQL connection name (project:region:instance) of the service's database."
  value       = google_sql_database_instance.service.connection_name
}

output "service_secret_ids" {
  description = "Secret Manager secret ids of the service's configuration, by environment variable (values are not output)."
  value       = { for id, variable in local.service_secrets : variable => google_secret_manager_secret.service[id].secret_id }
}
