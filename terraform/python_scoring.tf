###############################################################################
# Python scoring versions on BigQuery (docs/scoring.md).
#
# dbt-bigquery runs a Python model (e.g. int_images_scored_v3) outside BigQuery SQL:
#   * submission_method "bigframes" (default): a Colab Enterprise notebook execution
#     running BigQuery DataFrames, in `python_scoring_region`;
#   * submission_method "serverless": a Dataproc Serverless (Spark) batch in that region.
# Both stage the compiled model in a bucket (`gcs_bucket` in profiles.yml, env
# MAIN_IMAGE_BQ_PYTHON_BUCKET). Nothing here exists unless `enable_python_scoring`
# is true: SQL scoring versions (v1, v2) need none of it.
###############################################################################

variable "enable_python_scoring" {
  description = "Create the bucket, APIs and roles that Python scoring versions need on BigQuery (also set the dbt var python_scoring_on_bigquery to true). false: only SQL versions run in production."
  type        = bool
  default     = false
}

variable "python_scoring_submission_method" {
  description = "How dbt submits Python models: \"bigframes\" (BigQuery DataFrames in a Colab Enterprise notebook execution) or \"serverless\" (Dataproc Serverless). Selects the APIs and roles granted to the orchestrator; set the same value in MAIN_IMAGE_BQ_PYTHON_SUBMISSION_METHOD."
  type        = string
  default     = "bigframes"

  validation {
    condition     = contains(["bigframes", "serverless"], var.python_scoring_submission_method)
    error_message = "python_scoring_submission_method must be \"bigframes\" or \"serverless\"."
  }
}

variable "python_scoring_region" {
  description = "Region where Python models execute (profiles.yml compute_region, env MAIN_IMAGE_BQ_PYTHON_REGION). null means the same as `region`; keep it next to the BigQuery datasets."
  type        = string
  default     = null
}

variable "python_scoring_bucket_name" {
  description = "Name of the staging bucket of Python models (compiled code, notebook logs). null means \"<project_id>-main-image-python-models\"."
  type        = string
  default     = null
}

variable "python_scoring_staging_retention_days" {
  description = "Days the staged code and logs of Python model runs are kept before deletion (they are only useful to debug a run)."
  type        = number
  default     = 14

  validation {
    condition     = var.python_scoring_staging_retention_days >= 1
    error_message = "python_scoring_staging_retention_days must be at least 1."
  }
}

locals {
  python_scoring_region = coalesce(var.python_scoring_region, var.region)
  python_scoring_bucket = coalesce(var.python_scoring_bucket_name, "${var.project_id}-main-image-python-models")

  python_scoring_apis = {
    bigframes  = ["aiplatform.googleapis.com", "compute.googleapis.com", "dataform.googleapis.com"]
    serverless = ["dataproc.googleapis.com", "compute.googleapis.com"]
  }
  # Project-level roles (notebook executions and batches are project resources).
  python_scoring_roles = {
    bigframes  = ["roles/aiplatform.colabEnterpriseUser", "roles/bigquery.user"]
    serverless = ["roles/dataproc.editor", "roles/dataproc.worker"]
  }
}

resource "google_project_service" "python_scoring" {
  for_each = var.enable_python_scoring && var.enable_apis ? toset(local.python_scoring_apis[var.python_scoring_submission_method]) : toset([])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

resource "google_storage_bucket" "python_scoring" {
  count = var.enable_python_scoring ? 1 : 0

  project  = var.project_id
  name     = local.python_scoring_bucket
  location = upper(local.python_scoring_region)
  labels   = merge(local.labels, { purpose = "python-models" })

  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy

  lifecycle_rule {
    condition {
      age = var.python_scoring_staging_retention_days
    }
    action {
      type = "Delete"
    }
  }
}

# The orchestrator writes the compiled models and reads their logs.
resource "google_storage_bucket_iam_member" "orchestrator_python_scoring" {
  count = var.enable_python_scoring ? 1 : 0

  bucket = google_storage_bucket.python_scoring[0].name
  role   = "roles/storage.objectUser"
  member = google_service_account.orchestrator.member
}

resource "google_project_iam_member" "orchestrator_python_scoring" {
  for_each = var.enable_python_scoring ? toset(local.python_scoring_roles[var.python_scoring_submission_method]) : toset([])

  project = var.project_id
  role    = each.value
  member  = google_service_account.orchestrator.member
}

# Batches and notebook runtimes run as the orchestrator's service account.
resource "google_service_account_iam_member" "orchestrator_acts_as_itself" {
  count = var.enable_python_scoring ? 1 : 0

  service_account_id = google_service_account.orchestrator.name
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.orchestrator.member
}

output "python_scoring_bucket" {
  description = "Staging bucket of Python scoring models (profiles.yml gcs_bucket, env MAIN_IMAGE_BQ_PYTHON_BUCKET); null when enable_python_scoring is false."
  value       = var.enable_python_scoring ? google_storage_bucket.python_scoring[0].name : null
}

output "python_scoring_region" {
  description = "Region where Python models execute (env MAIN_IMAGE_BQ_PYTHON_REGION)."
  value       = local.python_scoring_region
}
