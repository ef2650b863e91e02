# The image stream (issue 14, docs/design.md "The image stream"): an optional Google Managed
# Service for Apache Kafka cluster with the `images` topic. The lander (Airflow task
# `drain_stream` or DAG main_image_stream_drain) reads it with
# MAIN_IMAGE_KAFKA_BOOTSTRAP_SERVERS = output `stream_bootstrap_address`.
#
# Off by default (`stream_enabled = false`): with Confluent Cloud instead, nothing here is
# created and the bootstrap servers and API key come from the secret store.
#
# Not managed here (see docs/design.md): the consumer group (created by the lander on its first
# join), the lander's access (grant roles/managedkafka.client to the orchestrator service
# account at cluster scope once the provider offers cluster IAM resources) and the network
# attachment of the Composer environment to `stream_subnetwork`.

resource "google_project_service" "managed_kafka" {
  count = var.stream_enabled && var.enable_apis ? 1 : 0

  project            = var.project_id
  service            = "managedkafka.googleapis.com"
  disable_on_destroy = false
}

resource "google_managed_kafka_cluster" "stream" {
  count = var.stream_enabled ? 1 : 0

  project    = var.project_id
  cluster_id = var.stream_cluster_id
  location   = var.region

  capacity_config {
    vcpu_count   = var.stream_vcpu_count
    memory_bytes = var.stream_memory_bytes
  }

  gcp_config {
    access_config {
      network_configs {
        subnet = var.stream_subnetwork
      }
    }
  }

  rebalance_config {
    mode = "AUTO_REBALANCE_ON_SCALE_UP"
  }

  labels = local.labels

  depends_on = [google_project_service.managed_kafka]
}

resource "google_managed_kafka_topic" "images" {
  count = var.stream_enabled ? 1 : 0

  project            = var.project_id
  topic_id           = var.stream_topic
  cluster            = google_managed_kafka_cluster.stream[0].cluster_id
  location           = var.region
  partition_count    = var.stream_partitions
  replication_factor = 3

  configs = {
    "cleanup.policy"      = "delete"
    "retention.ms"        = tostring(var.stream_retention_hours * 3600 * 1000)
    "min.insync.replicas" = "2"
  }
}

variable "stream_enabled" {
  description = "Create the Managed Kafka cluster and the images topic for the image stream. false: no stream, or a Kafka outside this module (Confluent Cloud)."
  type        = bool
  default     = false
}

variable "stream_cluster_id" {
  description = "ID of the Managed Kafka cluster (lowercase letters, digits, hyphens)."
  type        = string
  default     = "main-image-stream"
}

variable "stream_subnetwork" {
  description = "Subnetwork the cluster's brokers are reachable from, as projects/<project>/regions/<region>/subnetworks/<name>: the one the Composer workers run in. Required when stream_enabled."
  type        = string
  default     = null

  validation {
    condition     = !var.stream_enabled || var.stream_subnetwork != null
    error_message = "stream_subnetwork is required when stream_enabled is true."
  }
}

variable "stream_vcpu_count" {
  description = "vCPUs of the cluster (at least 3). Sized for throughput: ~20 MB/s in per 3 vCPUs is ample for image records of ~1 KB."
  type        = number
  default     = 3

  validation {
    condition     = var.stream_vcpu_count >= 3
    error_message = "A Managed Kafka cluster has at least 3 vCPUs."
  }
}

variable "stream_memory_bytes" {
  description = "Memory of the cluster in bytes (1 to 8 GiB per vCPU)."
  type        = number
  default     = 3221225472
}

variable "stream_topic" {
  description = "The topic the second application writes image records to (MAIN_IMAGE_KAFKA_TOPICS)."
  type        = string
  default     = "images"
}

variable "stream_partitions" {
  description = "Partitions of the images topic: the parallelism of the landers of one group (one file per partition and flush)."
  type        = number
  default     = 6
}

variable "stream_retention_hours" {
  description = "How long the topic keeps a message. Must exceed the longest pipeline outage (the lander commits only what is landed), so at least 72 hours."
  type        = number
  default     = 168

  validation {
    condition     = var.stream_retention_hours >= 72
    error_message = "stream_retention_hours must be at least 72 (a weekend without drains loses nothing)."
  }
}

output "stream_cluster_name" {
  description = "Full resource name of the Managed Kafka cluster, or null when stream_enabled is false."
  value       = var.stream_enabled ? google_managed_kafka_cluster.stream[0].name : null
}

output "stream_bootstrap_address" {
  description = "Bootstrap address of the cluster (MAIN_IMAGE_KAFKA_BOOTSTRAP_SERVERS, port 9092, SASL_SSL), or null when stream_enabled is false."
  value       = var.stream_enabled ? "bootstrap.${var.stream_cluster_id}.${var.region}.managedkafka.${var.project_id}.cloud.goog:9092" : null
}

output "stream_topic" {
  description = "The images topic the lander drains (MAIN_IMAGE_KAFKA_TOPICS), or null when stream_enabled is false."
  value       = var.stream_enabled ? google_managed_kafka_topic.images[0].topic_id : null
}
