###############################################################################
# BigQuery datasets, one per layer. Terraform owns the datasets (location,
# labels, expiration defaults, IAM); dbt owns every table and view inside them.
#
# Access is managed only with google_bigquery_dataset_iam_member (iam.tf). Do not
# add `access` blocks here or google_bigquery_dataset_access resources: the
# provider documents that they fight with the IAM member resources. A consequence
# is that authorized views/datasets are not used: reporting models that analysts
# query must be materialized as tables in the reporting dataset (a view there
# reading marts would fail for analysts, who cannot read marts).
#
# Dataset IDs are <dataset_prefix><layer>, exactly what dbt computes from its
# `schema_prefix` var and the folder's +schema (generate_schema_name.sql).
#
# Default table expiration:
#   raw        none. System of record: landing files are deleted after a few days,
#              so full rebuilds (the convergence invariant) replay from raw.
#   staging    none by default, opt-in with staging_default_table_expiration_days.
#              The stg_* models are append-only incremental tables: one that
#              expired would be rebuilt from every raw line on the next run (a
#              full scan), and one expiring during a run would fail that run.
#              Intermediate tables are rebuilt on every run anyway. dbt-bigquery
#              gives its own __dbt_tmp tables a 12 hour expiration already.
#   marts      none. Snapshot and change log are needed to replay changes.
#   reporting  none. Run metrics are a history the Product department reads.
###############################################################################

resource "google_bigquery_dataset" "raw" {
  project       = var.project_id
  dataset_id    = "${var.dataset_prefix}raw"
  friendly_name = "Main image: raw"
  description   = "Raw feed lines as loaded from the landing bucket, and rejected records with reason codes. Tables managed by dbt / the loader, not Terraform."
  location      = local.bigquery_location
  labels        = merge(local.labels, { layer = "raw" })

  delete_contents_on_destroy = var.dataset_delete_contents_on_destroy

  depends_on = [google_project_service.apis]
}

resource "google_bigquery_dataset" "staging" {
  project       = var.project_id
  dataset_id    = "${var.dataset_prefix}staging"
  friendly_name = "Main image: staging"
  description   = "dbt staging and intermediate models (validated records, latest states, candidates, scores). Tables managed by dbt, not Terraform."
  location      = local.bigquery_location
  labels        = merge(local.labels, { layer = "staging" })

  default_table_expiration_ms = var.staging_default_table_expiration_days == null ? null : var.staging_default_table_expiration_days * 24 * 60 * 60 * 1000

  delete_contents_on_destroy = var.dataset_delete_contents_on_destroy

  depends_on = [google_project_service.apis]
}

resource "google_bigquery_dataset" "marts" {
  project       = var.project_id
  dataset_id    = "${var.dataset_prefix}marts"
  friendly_name = "Main image: marts"
  description   = "Published main images: current snapshot, change log (CDC) and selection history. Tables managed by dbt, not Terraform."
  location      = local.bigquery_location
  labels        = merge(local.labels, { layer = "marts" })

  delete_contents_on_destroy = var.dataset_delete_contents_on_destroy

  depends_on = [google_project_service.apis]
}

resource "google_bigquery_dataset" "reporting" {
  project       = var.project_id
  dataset_id    = "${var.dataset_prefix}reporting"
  friendly_name = "Main image: reporting"
  description   = "Reporting marts for the Product department and analysts (run metrics, image and usage statistics). Materialized as tables by dbt."
  location      = local.bigquery_location
  labels        = merge(local.labels, { layer = "reporting" })

  delete_contents_on_destroy = var.dataset_delete_contents_on_destroy

  depends_on = [google_project_service.apis]
}

locals {
  datasets = {
    raw       = google_bigquery_dataset.raw.dataset_id
    staging   = google_bigquery_dataset.staging.dataset_id
    marts     = google_bigquery_dataset.marts.dataset_id
    reporting = google_bigquery_dataset.reporting.dataset_id
  }
}
