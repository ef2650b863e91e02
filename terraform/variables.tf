###############################################################################
# Project and location
###############################################################################

variable "project_id" {
  description = "ID of the existing Google Cloud project that hosts the pipeline (buckets, datasets, service accounts, Composer). Prefer a project dedicated to this pipeline: the Composer worker role is granted at project level."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a valid Google Cloud project ID (6-30 characters: lowercase letters, digits, hyphens)."
  }
}

variable "region" {
  description = "Region of the Composer environment and, unless overridden, of the buckets and BigQuery datasets. Keeping everything in one region lets BigQuery load jobs read the landing bucket without cross-region restrictions."
  type        = string
  default     = "europe-west1"
}

variable "bigquery_location" {
  description = "BigQuery location of the four datasets (e.g. \"EU\" or \"europe-west1\"). null means the same as `region`. Must be compatible with the landing bucket location for load jobs."
  type        = string
  default     = null
}

variable "storage_location" {
  description = "Location of the landing and exports buckets. null means the same as `region` (a regional bucket next to BigQuery and Composer)."
  type        = string
  default     = null
}

variable "enable_apis" {
  description = "Whether to enable the Google APIs the pipeline needs (Composer, BigQuery, Cloud Storage, IAM). APIs are never disabled on destroy."
  type        = bool
  default     = true
}

variable "labels" {
  description = "Labels added to every labelled resource (buckets, datasets, Composer). `app` and `managed-by` are always set by the module and cannot be overridden."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for k, v in var.labels :
      can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))
    ])
    error_message = "Label keys must match ^[a-z][a-z0-9_-]{0,62}$ and values ^[a-z0-9_-]{0,63}$ (Google Cloud label rules)."
  }
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete non-empty buckets. Keep false in production; true is only meant for throw-away test projects."
  type        = bool
  default     = false
}

###############################################################################
# Landing bucket (input feeds)
###############################################################################

variable "landing_bucket_name" {
  description = "Name of the landing bucket (one folder per feed: images/, image_tags/, obiq_scores/, main_images/, admin_overrides/, user_events/). null means \"<project_id>-main-image-landing\"."
  type        = string
  default     = null
}

variable "landing_retention_days" {
  description = "Minimum age, in days since upload, before the lifecycle may touch a landed or processed file. With archival off, files are deleted at exactly this age. Must be >= 7 so that a week of missed runs can still be replayed from the files (the raw BigQuery dataset stays the long-term system of record)."
  type        = number
  default     = 7

  validation {
    condition     = var.landing_retention_days >= 7 && floor(var.landing_retention_days) == var.landing_retention_days
    error_message = "landing_retention_days must be a whole number >= 7."
  }
}

variable "landing_archive_after_days" {
  description = "Optional archival: when set, landed files move to the ARCHIVE storage class at this age instead of being deleted at `landing_retention_days`. Must be >= landing_retention_days. null disables archival."
  type        = number
  default     = null

  validation {
    condition = (
      var.landing_archive_after_days == null ? true :
      var.landing_archive_after_days >= var.landing_retention_days && floor(var.landing_archive_after_days) == var.landing_archive_after_days
    )
    error_message = "landing_archive_after_days must be null or a whole number >= landing_retention_days."
  }
}

variable "landing_archive_delete_after_days" {
  description = "Only with archival: delete archived files at this age (days since upload). Must be > landing_archive_after_days (which is itself >= landing_retention_days); ARCHIVE has a 365-day minimum storage duration, so earlier deletion is billed as if kept 365 days. null keeps archived files forever."
  type        = number
  default     = null

  validation {
    condition = (
      var.landing_archive_delete_after_days == null ? true :
      var.landing_archive_after_days == null ? false :
      var.landing_archive_delete_after_days > var.landing_archive_after_days && var.landing_archive_delete_after_days >= var.landing_retention_days
    )
    error_message = "landing_archive_delete_after_days requires landing_archive_after_days and must be > landing_archive_after_days and >= landing_retention_days."
  }
}

variable "landing_versioning_enabled" {
  description = "Enable object versioning on the landing bucket (protects against accidental overwrite of a delivered file). Noncurrent versions are deleted `landing_retention_days` after they became noncurrent."
  type        = bool
  default     = false
}

variable "landing_writer_principals" {
  description = "IAM principals that deliver feed files (partners, hotel feeds, the stream sink, the frontend's main_images corrections), e.g. [\"serviceAccount:partner-sink@other-project.iam.gserviceaccount.com\"]. They get roles/storage.objectCreator on the landing bucket only: they can add files, not read, overwrite or delete them."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.landing_writer_principals : can(regex("^(serviceAccount|group|user):", p))])
    error_message = "Each landing writer must be an IAM principal such as \"serviceAccount:...\", \"group:...\" or \"user:...\"."
  }
}

###############################################################################
# Exports bucket (changes / snapshot / run metrics for the frontend)
###############################################################################

variable "exports_bucket_name" {
  description = "Name of the exports bucket the frontend reads the changes export (and the snapshot) from. null means \"<project_id>-main-image-exports\"."
  type        = string
  default     = null
}

variable "exports_retention_days" {
  description = "Delete export files older than this many days (days since upload), restricted to `exports_expiring_prefixes` when that is not empty. Must be >= 7 so that the frontend can catch up after a week of downtime. null disables deletion."
  type        = number
  default     = 30

  validation {
    condition     = var.exports_retention_days == null ? true : var.exports_retention_days >= 7
    error_message = "exports_retention_days must be null or >= 7."
  }
}

variable "exports_expiring_prefixes" {
  description = "Object name prefixes `exports_retention_days` applies to. Empty (default) means every object: the exports are per-run folders (<run_id>/changes.jsonl, snapshot.jsonl, metrics.json) and the marts keep the full history, so a run older than the retention is no longer needed. List prefixes only to exempt a stable object, e.g. a latest/ snapshot that a long pause in runs must not delete."
  type        = list(string)
  default     = []
}

###############################################################################
# BigQuery datasets (Terraform owns datasets, dbt owns the tables in them)
###############################################################################

variable "dataset_prefix" {
  description = "Prefix of the four dataset IDs: <prefix>raw, <prefix>staging, <prefix>marts, <prefix>reporting. It must equal the dbt var `schema_prefix` (dbt_project/macros/utils/generate_schema_name.sql and the raw source), which Airflow receives as MAIN_IMAGE_DBT_SCHEMA_PREFIX. Empty by default: a dedicated project per environment."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[A-Za-z0-9_]*$", var.dataset_prefix)) && length(var.dataset_prefix) <= 1000
    error_message = "dataset_prefix may only contain letters, digits and underscores (at most 1000 characters)."
  }
}

variable "staging_default_table_expiration_days" {
  description = "Optional default table expiration of the staging dataset, in days. null (default) means no expiration: staging holds the append-only incremental stg_* models, and an expired one forces a full rebuild from raw (or fails the run it expires in). Set it only if every staging model is a view or a table rebuilt on each run."
  type        = number
  default     = null

  validation {
    condition     = var.staging_default_table_expiration_days == null ? true : var.staging_default_table_expiration_days >= 1
    error_message = "staging_default_table_expiration_days must be null or >= 1."
  }
}

variable "dataset_delete_contents_on_destroy" {
  description = "Whether `terraform destroy` may drop the datasets together with their dbt-managed tables. Keep false in production."
  type        = bool
  default     = false
}

###############################################################################
# Principals
###############################################################################

variable "orchestrator_service_account_id" {
  description = "account_id of the service account the Composer environment (Airflow workers, dbt) runs as."
  type        = string
  default     = "main-image-orchestrator"
}

variable "frontend_service_account_id" {
  description = "account_id of the service account the frontend uses to read the exports bucket (read-only, no BigQuery access)."
  type        = string
  default     = "main-image-frontend"
}

variable "analyst_principals" {
  description = "IAM principals of the analysts, e.g. [\"group:product-analysts@example.com\"]. They get roles/bigquery.dataViewer on the reporting dataset only, plus roles/bigquery.jobUser on the project to run queries."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.analyst_principals : can(regex("^(group|serviceAccount|user):", p))])
    error_message = "Each analyst principal must start with \"group:\", \"serviceAccount:\" or \"user:\"."
  }
}

###############################################################################
# Cloud Composer 3 (Airflow 3)
###############################################################################

variable "composer_environment_name" {
  description = "Name of the Cloud Composer environment."
  type        = string
  default     = "main-image"
}

variable "composer_image_version" {
  description = "Cloud Composer 3 image with Airflow 3, format composer-3-airflow-<airflow version>-build.<n>. Pin an exact build (not an alias) so plans stay stable; list the available ones with `gcloud composer environments list-upgrades` or the Composer version list. The DAGs must stay compatible with this Airflow version, which may be older than the one used locally."
  type        = string
  default     = "composer-3-airflow-3.1.7-build.13"

  validation {
    condition     = can(regex("^composer-3-airflow-3\\.", var.composer_image_version))
    error_message = "composer_image_version must be a Cloud Composer 3 image with Airflow 3 (composer-3-airflow-3.x.y[-build.n])."
  }
}

variable "composer_environment_size" {
  description = "Composer 3 environment size preset (ENVIRONMENT_SIZE_SMALL, ENVIRONMENT_SIZE_MEDIUM, ENVIRONMENT_SIZE_LARGE). A daily batch run fits SMALL."
  type        = string
  default     = "ENVIRONMENT_SIZE_SMALL"

  validation {
    condition     = contains(["ENVIRONMENT_SIZE_SMALL", "ENVIRONMENT_SIZE_MEDIUM", "ENVIRONMENT_SIZE_LARGE"], var.composer_environment_size)
    error_message = "composer_environment_size must be ENVIRONMENT_SIZE_SMALL, ENVIRONMENT_SIZE_MEDIUM or ENVIRONMENT_SIZE_LARGE."
  }
}

variable "composer_pypi_packages" {
  description = "Extra PyPI packages installed into the Composer environment (name => version specifier). dbt-bigquery runs the models, astronomer-cosmos renders the dbt project as Airflow tasks. Compatible-release pins on the versions of requirements.txt (exact pins risk conflicts with the packages preinstalled in the Composer image)."
  type        = map(string)
  default = {
    "dbt-core"          = "~=1.11.16"
    "dbt-bigquery"      = "~=1.11.3"
    "astronomer-cosmos" = "~=1.15.1"
  }
}

variable "composer_airflow_config_overrides" {
  description = "Airflow configuration overrides (\"section-key\" => value), e.g. {\"core-dags_are_paused_at_creation\" = \"True\"}."
  type        = map(string)
  default     = {}
}

variable "composer_extra_env_variables" {
  description = "Additional environment variables for Airflow (no secrets: use Secret Manager). The MAIN_IMAGE_* variables set by this module take precedence."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for k in keys(var.composer_extra_env_variables) :
      can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k)) && !startswith(k, "AIRFLOW__")
    ])
    error_message = "Environment variable names must match ^[A-Za-z_][A-Za-z0-9_]*$ and must not start with AIRFLOW__ (use composer_airflow_config_overrides)."
  }
}

variable "dbt_project_dir" {
  description = "Path of the dbt project inside the Composer workers (exported as MAIN_IMAGE_DBT_PROJECT_DIR). The environment bucket's dags/ folder is mounted at /home/airflow/gcs/dags, so syncing dbt_project/ to gs://<composer bucket>/dags/dbt_project gives the default."
  type        = string
  default     = "/home/airflow/gcs/dags/dbt_project"
}
