# Terraform and provider versions.
#
# Pinned "exact-ish": the pessimistic constraint allows provider patch and minor
# upgrades inside the 6.x major line only, so a `terraform init -upgrade` can never
# pull a provider with breaking changes. Commit the generated `.terraform.lock.hcl`
# so that every apply uses the exact same provider builds.
#
# Terraform >= 1.9 is required because variable validations below refer to other
# variables (e.g. the archival age must be >= the landing retention).

terraform {
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.50"
    }
    # Pinned to the same release line as `google`. No resource needs it today
    # (everything used is GA); it is declared so that Composer preview fields can
    # be adopted by adding `provider = google-beta` without a new provider pin.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 6.50"
    }
    # The image service's generated secrets and database password (service.tf).
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # State lives in a GCS bucket in production. Keep the backend in a separate,
  # uncommitted file or pass it at init time, e.g.:
  #   terraform init -backend-config="bucket=<state-bucket>" -backend-config="prefix=main-image"
  # together with a `backend "gcs" {}` block in backend.tf.
}
