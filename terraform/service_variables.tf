# Variables of the image service (service.tf).

variable "service_image" {
  description = "Container image of the image service (built from this repository, with the pinned requirements), e.g. europe-west1-docker.pkg.dev/<project>/main-image/service:<tag>."
  type        = string
}

variable "service_name" {
  description = "Name of the Cloud Run service; also part of its default public URL."
  type        = string
  default     = "main-image-service"
}

variable "service_account_id" {
  description = "Account id of the image service's own service account."
  type        = string
  default     = "main-image-service"
}

variable "images_bucket_name" {
  description = "Bucket of the image bytes (content-addressed, written once). Default: <project_id>-main-image-images."
  type        = string
  default     = null
}

variable "service_public_base_url" {
  description = "Public base URL of cdn_url and upload_url (the CDN or a custom domain). Default: the Cloud Run URL."
  type        = string
  default     = null
}

variable "service_public" {
  description = "Let anyone invoke the service (partners upload from the internet; the application checks tokens and signed links). false keeps it private to IAM invokers."
  type        = bool
  default     = true
}

variable "service_ingress" {
  description = "Cloud Run ingress setting, e.g. INGRESS_TRAFFIC_ALL or INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER (behind a CDN)."
  type        = string
  default     = "INGRESS_TRAFFIC_ALL"

  validation {
    condition     = contains(["INGRESS_TRAFFIC_ALL", "INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"], var.service_ingress)
    error_message = "service_ingress must be a Cloud Run v2 ingress value."
  }
}

variable "service_min_instances" {
  description = "Minimum number of Cloud Run instances (0 scales to zero)."
  type        = number
  default     = 0
}

variable "service_max_instances" {
  description = "Maximum number of Cloud Run instances (bounded by the Cloud SQL connection budget: about 20 connections each)."
  type        = number
  default     = 10

  validation {
    condition     = var.service_max_instances >= 1 && var.service_max_instances >= var.service_min_instances
    error_message = "service_max_instances must be >= 1 and >= service_min_instances."
  }
}

variable "service_concurrency" {
  description = "Concurrent requests per instance."
  type        = number
  default     = 40
}

variable "service_cpu" {
  description = "CPU limit of an instance (image decoding is CPU-bound)."
  type        = string
  default     = "1"
}

variable "service_memory" {
  description = "Memory limit of an instance (uploads stream to disk; decoding is bounded by the pixel limit)."
  type        = string
  default     = "1Gi"
}

variable "service_max_file_bytes" {
  description = "Largest accepted file in bytes (413 beyond); MAIN_IMAGE_MAX_FILE_BYTES."
  type        = number
  default     = 20971520
}

variable "service_sql_instance_name" {
  description = "Name of the Cloud SQL for PostgreSQL instance of the image service."
  type        = string
  default     = "main-image-service"
}

variable "service_sql_tier" {
  description = "Machine tier of the Cloud SQL instance."
  type        = string
  default     = "db-custom-1-3840"
}

variable "service_sql_availability_type" {
  description = "REGIONAL (high availability, production) or ZONAL."
  type        = string
  default     = "REGIONAL"

  validation {
    condition     = contains(["REGIONAL", "ZONAL"], var.service_sql_availability_type)
    error_message = "service_sql_availability_type must be REGIONAL or ZONAL."
  }
}

variable "service_sql_disk_size_gb" {
  description = "Initial disk size of the Cloud SQL instance in GB (autoresize is on)."
  type        = number
  default     = 20
}

variable "service_sql_deletion_protection" {
  description = "Protect the Cloud SQL instance and the Cloud Run service from terraform destroy."
  type        = bool
  default     = true
}
