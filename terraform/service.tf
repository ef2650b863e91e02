###############################################################################
# The image service (README "The image service"): Cloud Run, Cloud SQL for
# PostgreSQL, Secret Manager, and a private bucket for the image bytes.
#
# Least privilege for the service's own account:
#
#   resource                    | role                               | why
#   ----------------------------|------------------------------------|-------------------------------
#   landing bucket              | storage.objectCreator              | writes images/ feed files (create-only)
#   images bucket               | storage.objectCreator              | writes each blob once (create-only)
#   images bucket               | storage.objectViewer               | serves the bytes, checks presence
#   each of its 4 secrets       | secretmanager.secretAccessor       | reads its configuration
#   project                     | cloudsql.client                    | the Cloud SQL connection (no narrower scope)
#
# Nothing else: no delete or overwrite on either bucket, no BigQuery, no other secret.
# Partners reach the service over HTTPS (public invoker by default: the application
# checks the admin / frontend tokens and the signed upload links itself).
###############################################################################

locals {
  images_bucket_name = coalesce(var.images_bucket_name, "${var.project_id}-main-image-images")
  service_base_url = coalesce(
    var.service_public_base_url,
    "https://${var.service_name}-${data.google_project.this.number}.${var.region}.run.app",
  )
  service_apis = ["run.googleapis.com", "sqladmin.googleapis.com", "secretmanager.googleapis.com"]

  # Secret Manager secret id -> the environment variable the service reads it from.
  service_secrets = {
    "main-image-admin-token"    = "MAIN_IMAGE_ADMIN_TOKEN"
    "main-image-frontend-token" = "MAIN_IMAGE_FRONTEND_TOKEN"
    "main-image-link-secret"    = "MAIN_IMAGE_LINK_SECRET"
    "main-image-database-url"   = "MAIN_IMAGE_DATABASE_URL"
  }
  service_secret_values = {
    "main-image-admin-token"    = random_password.service["admin"].result
    "main-image-frontend-token" = random_password.service["frontend"].result
    "main-image-link-secret"    = random_password.service["link"].result
    "main-image-database-url" = format(
      "postgresql+psycopg://%s:%s@/%s?host=/cloudsql/%s",
      google_sql_user.service.name,
      random_password.service["database"].result,
      google_sql_database.service.name,
      google_sql_database_instance.service.connection_name,
    )
  }

  service_env_variables = {
    MAIN_IMAGE_ENV             = "production"
    MAIN_IMAGE_BLOB_URI        = "gs://${google_storage_bucket.images.name}/blobs"
    MAIN_IMAGE_LANDING_URI     = "gs://${google_storage_bucket.landing.name}"
    MAIN_IMAGE_PUBLIC_BASE_URL = local.service_base_url
    MAIN_IMAGE_MAX_FILE_BYTES  = tostring(var.service_max_file_bytes)
  }
}

resource "google_project_service" "service_apis" {
  for_each = var.enable_apis ? toset(local.service_apis) : toset([])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

resource "google_service_account" "service" {
  project      = var.project_id
  account_id   = var.service_account_id
  display_name = "Main image service (Cloud Run)"
  description  = "Runs the image service: writes image blobs and images feed files, reads its secrets, connects to its Cloud SQL database."

  depends_on = [google_project_service.apis]
}

# --- Image bytes ---------------------------------------------------------------

resource "google_storage_bucket" "images" {
  project  = var.project_id
  name     = local.images_bucket_name
  location = local.storage_location
  labels   = merge(local.labels, { purpose = "images" })

  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy
}

resource "google_storage_bucket_iam_member" "service_images" {
  for_each = toset(["roles/storage.objectCreator", "roles/storage.objectViewer"])

  bucket = google_storage_bucket.images.name
  role   = each.value
  member = google_service_account.service.member
}

resource "google_storage_bucket_iam_member" "service_landing" {
  bucket = google_storage_bucket.landing.name
  role   = "roles/storage.objectCreator"
  member = google_service_account.service.member
}

# --- Metadata store --------------------------------------------------------------

resource "google_sql_database_instance" "service" {
  project             = var.project_id
  name                = var.service_sql_instance_name
  region              = var.region
  database_version    = "POSTGRES_15"
  deletion_protection = var.service_sql_deletion_protection

  settings {
    tier              = var.service_sql_tier
    availability_type = var.service_sql_availability_type
    disk_size         = var.service_sql_disk_size_gb
    disk_autoresize   = true
    user_labels       = merge(local.labels, { purpose = "image-service" })

    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
    }

    ip_configuration {
      ipv4_enabled = true # reached only through the Cloud SQL connector: no authorized networks
      ssl_mode     = "ENCRYPTED_ONLY"
    }

    database_flags {
      name  = "log_min_duration_statement"
      value = "1000"
    }
  }

  depends_on = [google_project_service.service_apis]
}

resource "google_sql_database" "service" {
  project  = var.project_id
  name     = "images"
  instance = google_sql_database_instance.service.name
}

resource "random_password" "service" {
  for_each = toset(["admin", "frontend", "link", "database"])

  length  = 48
  special = false
}

resource "google_sql_user" "service" {
  project  = var.project_id
  name     = "images"
  instance = google_sql_database_instance.service.name
  password = random_password.service["database"].result
}

resource "google_project_iam_member" "service_sql_client" {
  project = var.project_id
  role    = "roles/cloudsql.client"
  member  = google_service_account.service.member
}

# The pipeline's publish task writes the service's serving copy (main images, change log) into
# the same database: the orchestrator connects to Cloud SQL too (no narrower scope than the
# project). Its MAIN_IMAGE_DATABASE_URL (through the Cloud SQL Auth Proxy or the instance's
# private IP, which depends on the Composer network) is supplied at deployment, not stored here.
resource "google_project_iam_member" "orchestrator_sql_client" {
  project = var.project_id
  role    = "roles/cloudsql.client"
  member  = google_service_account.orchestrator.member
}

# --- Secrets ---------------------------------------------------------------------

resource "google_secret_manager_secret" "service" {
  for_each = local.service_secrets

  project   = var.project_id
  secret_id = each.key
  labels    = merge(local.labels, { purpose = "image-service" })

  replication {
    auto {}
  }

  depends_on = [google_project_service.service_apis]
}

resource "google_secret_manager_secret_version" "service" {
  for_each = local.service_secrets

  secret      = google_secret_manager_secret.service[each.key].id
  secret_data = local.service_secret_values[each.key]
}

resource "google_secret_manager_secret_iam_member" "service" {
  for_each = local.service_secrets

  project   = var.project_id
  secret_id = google_secret_manager_secret.service[each.key].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.service.member
}

# --- Cloud Run -------------------------------------------------------------------

resource "google_cloud_run_v2_service" "service" {
  project             = var.project_id
  name                = var.service_name
  location            = var.region
  ingress             = var.service_ingress
  deletion_protection = var.service_sql_deletion_protection
  labels              = merge(local.labels, { purpose = "image-service" })

  template {
    service_account                  = google_service_account.service.email
    max_instance_request_concurrency = var.service_concurrency
    timeout                          = "300s"

    scaling {
      min_instance_count = var.service_min_instances
      max_instance_count = var.service_max_instances
    }

    volumes {
      name = "cloudsql"
      cloud_sql_instance {
        instances = [google_sql_database_instance.service.connection_name]
      }
    }

    containers {
      image   = var.service_image
      command = ["main-image"]
      args    = ["serve", "--host", "0.0.0.0", "--port", "8080"]

      ports {
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = var.service_cpu
          memory = var.service_memory
        }
      }

      dynamic "env" {
        for_each = local.service_env_variables
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = local.service_secrets
        content {
          name = env.value
          value_source {
            secret_key_ref {
              secret  = google_secret_manager_secret.service[env.key].secret_id
              version = "latest"
            }
          }
        }
      }

      volume_mounts {
        name       = "cloudsql"
        mount_path = "/cloudsql"
      }

      startup_probe {
        http_get {
          path = "/docs"
        }
      }
    }
  }

  depends_on = [
    google_secret_manager_secret_iam_member.service,
    google_secret_manager_secret_version.service,
    google_project_iam_member.service_sql_client,
  ]
}

# Anyone may call the service (partners, the CDN); the application authenticates.
resource "google_cloud_run_v2_service_iam_member" "service_public" {
  count = var.service_public ? 1 : 0

  project  = var.project_id
  location = google_cloud_run_v2_service.service.location
  name     = google_cloud_run_v2_service.service.name
  role     = "roles/run.invoker"
  member   = "allUsers"
}
