# Main image selection pipeline: production infrastructure on Google Cloud.
#
# Ownership split:
#   * Terraform (this folder) owns the buckets, the BigQuery datasets, the service
#     accounts, every IAM grant and the Cloud Composer environment.
#   * dbt owns the tables and views inside the datasets (it creates, replaces and
#     migrates them on every run). Terraform never declares a google_bigquery_table,
#     so a `terraform apply` can neither drop nor fight over a dbt model.
#
# Resources are split by concern: storage.tf, bigquery.tf, iam.tf, composer.tf.

locals {
  bigquery_location = coalesce(var.bigquery_location, var.region)
  storage_location  = upper(coalesce(var.storage_location, var.region))

  landing_bucket_name = coalesce(var.landing_bucket_name, "${var.project_id}-main-image-landing")
  exports_bucket_name = coalesce(var.exports_bucket_name, "${var.project_id}-main-image-exports")

  # Module labels are applied last so callers cannot remove them.
  labels = merge(var.labels, {
    app        = "main-image"
    managed-by = "terraform"
  })

  required_apis = [
    "bigquery.googleapis.com",
    "composer.googleapis.com",
    "iam.googleapis.com",
    "storage.googleapis.com",
  ]
}

data "google_project" "this" {
  project_id = var.project_id
}

resource "google_project_service" "apis" {
  for_each = var.enable_apis ? toset(local.required_apis) : toset([])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}
