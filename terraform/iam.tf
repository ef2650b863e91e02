###############################################################################
# Service accounts and IAM, least privilege.
#
# Only additive *_iam_member resources are used (never *_iam_policy/_binding,
# never roles/owner or roles/editor), and grants are made on the bucket or the
# dataset whenever the role can be granted there. The only project-level grants
# are roles that have no narrower scope:
#   * roles/bigquery.jobUser (BigQuery jobs belong to a project) for the
#     orchestrator and the analysts;
#   * roles/composer.worker for the orchestrator, required by Composer for the
#     environment's service account;
#   * roles/cloudsql.client for the orchestrator (service.tf): its publish task
#     writes the image service's serving copy into Cloud SQL.
#
#   principal     | landing bucket | exports bucket | raw/staging/marts | reporting  | project
#   --------------|----------------|----------------|-------------------|------------|----------------------------
#   orchestrator  | objectUser     | objectUser     | dataEditor        | dataEditor | jobUser, composer.worker, cloudsql.client
#   frontend      | -              | objectViewer   | -                 | -          | -
#   analysts      | -              | -              | -                 | dataViewer | jobUser
#   feed writers  | objectCreator  | -              | -                 | -          | -
###############################################################################

resource "google_service_account" "orchestrator" {
  project      = var.project_id
  account_id   = var.orchestrator_service_account_id
  display_name = "Main image orchestrator (Cloud Composer / dbt)"
  description  = "Runs the Composer environment: loads feeds from the landing bucket, runs dbt on BigQuery, writes the exports."

  depends_on = [google_project_service.apis]
}

resource "google_service_account" "frontend" {
  project      = var.project_id
  account_id   = var.frontend_service_account_id
  display_name = "Main image frontend (exports reader)"
  description  = "Reads the main image changes and snapshot exports. No BigQuery access."

  depends_on = [google_project_service.apis]
}

# --- Orchestrator -------------------------------------------------------------

resource "google_project_iam_member" "orchestrator" {
  for_each = toset([
    "roles/composer.worker",
    "roles/bigquery.jobUser",
  ])

  project = var.project_id
  role    = each.value
  member  = google_service_account.orchestrator.member
}

# Reads and moves landed files (objectUser: get, list, create, delete; no IAM).
resource "google_storage_bucket_iam_member" "orchestrator_landing" {
  bucket = google_storage_bucket.landing.name
  role   = "roles/storage.objectUser"
  member = google_service_account.orchestrator.member
}

# Writes and overwrites the exports (snapshot is rewritten on every run).
resource "google_storage_bucket_iam_member" "orchestrator_exports" {
  bucket = google_storage_bucket.exports.name
  role   = "roles/storage.objectUser"
  member = google_service_account.orchestrator.member
}

# dbt creates, replaces and merges tables in every layer.
resource "google_bigquery_dataset_iam_member" "orchestrator_data_editor" {
  for_each = local.datasets

  project    = var.project_id
  dataset_id = each.value
  role       = "roles/bigquery.dataEditor"
  member     = google_service_account.orchestrator.member
}

# Composer 2/3 with a user-managed service account: the Composer service agent
# (created when the Composer API is enabled) needs the V2 extension role on that
# account. Granted on the account itself, not on the project.
resource "google_service_account_iam_member" "composer_agent_v2_ext" {
  service_account_id = google_service_account.orchestrator.name
  role               = "roles/composer.ServiceAgentV2Ext"
  member             = "serviceAccount:service-${data.google_project.this.number}@cloudcomposer-accounts.iam.gserviceaccount.com"

  depends_on = [google_project_service.apis]
}

# --- Frontend: read the exports bucket, nothing else ------------------------------

resource "google_storage_bucket_iam_member" "frontend_exports_viewer" {
  bucket = google_storage_bucket.exports.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.frontend.member
}

# --- Analysts: read the reporting dataset only, and run query jobs -----------------

resource "google_bigquery_dataset_iam_member" "analyst_reporting_viewer" {
  for_each = toset(var.analyst_principals)

  project    = var.project_id
  dataset_id = google_bigquery_dataset.reporting.dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = each.value
}

resource "google_project_iam_member" "analyst_job_user" {
  for_each = toset(var.analyst_principals)

  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = each.value
}

# --- Feed writers: add files to the landing bucket, nothing else -------------------

resource "google_storage_bucket_iam_member" "landing_writers" {
  for_each = toset(var.landing_writer_principals)

  bucket = google_storage_bucket.landing.name
  role   = "roles/storage.objectCreator"
  member = each.value
}
