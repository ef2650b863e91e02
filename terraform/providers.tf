# This folder is a root module (applied directly with a tfvars file), so it
# configures its providers. Credentials come from Application Default Credentials
# (`gcloud auth application-default login`) or from the CI workload identity.

provider "google" {
  project = var.project_id
  region  = var.region
}

provider "google-beta" {
  project = var.project_id
  region  = var.region
}
