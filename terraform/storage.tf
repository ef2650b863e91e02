###############################################################################
# Landing bucket: one folder per feed, newline-delimited JSON files.
#
# Lifecycle: a file (landed or already processed) is kept untouched for at least
# `landing_retention_days` (>= 7, validated) after upload. Then it is either deleted
# or, when archival is configured, moved to ARCHIVE (and optionally deleted later).
# Every lifecycle age below is >= landing_retention_days by construction (see the
# validations in variables.tf). Long-term history lives in the raw dataset, which
# never expires, so full rebuilds do not need the files.
###############################################################################

resource "google_storage_bucket" "landing" {
  project  = var.project_id
  name     = local.landing_bucket_name
  location = local.storage_location
  labels   = merge(local.labels, { purpose = "landing" })

  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy

  versioning {
    enabled = var.landing_versioning_enabled
  }

  # No archival: delete at the retention age.
  dynamic "lifecycle_rule" {
    for_each = var.landing_archive_after_days == null ? [1] : []
    content {
      condition {
        age = var.landing_retention_days
      }
      action {
        type = "Delete"
      }
    }
  }

  # Archival: move to ARCHIVE instead (age >= landing_retention_days, validated).
  dynamic "lifecycle_rule" {
    for_each = var.landing_archive_after_days == null ? [] : [1]
    content {
      condition {
        age                   = var.landing_archive_after_days
        matches_storage_class = ["STANDARD"]
      }
      action {
        type          = "SetStorageClass"
        storage_class = "ARCHIVE"
      }
    }
  }

  # Archival with a final deletion (age > landing_archive_after_days, validated).
  dynamic "lifecycle_rule" {
    for_each = var.landing_archive_delete_after_days == null ? [] : [1]
    content {
      condition {
        age = var.landing_archive_delete_after_days
      }
      action {
        type = "Delete"
      }
    }
  }

  # With versioning, overwritten or deleted versions are kept for the same period.
  dynamic "lifecycle_rule" {
    for_each = var.landing_versioning_enabled ? [1] : []
    content {
      condition {
        days_since_noncurrent_time = var.landing_retention_days
        with_state                 = "ARCHIVED"
      }
      action {
        type = "Delete"
      }
    }
  }

  depends_on = [google_project_service.apis]
}

###############################################################################
# Exports bucket: what the frontend consumes (changes export, snapshot, run
# metrics). Written by the orchestrator only, read by the frontend only.
###############################################################################

resource "google_storage_bucket" "exports" {
  project  = var.project_id
  name     = local.exports_bucket_name
  location = local.storage_location
  labels   = merge(local.labels, { purpose = "exports" })

  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy

  versioning {
    enabled = false
  }

  # Per-run export folders expire after exports_retention_days (>= 7, validated).
  # The warehouse (marts) keeps the history; matches_prefix can exempt a stable
  # object such as a latest/ snapshot.
  dynamic "lifecycle_rule" {
    for_each = var.exports_retention_days == null ? [] : [1]
    content {
      condition {
        age            = var.exports_retention_days
        matches_prefix = var.exports_expiring_prefixes
      }
      action {
        type = "Delete"
      }
    }
  }

  depends_on = [google_project_service.apis]
}
