"""terraform/service.tf: the image service's account has exactly the grants it needs (write to
the landing and image buckets, read the image bucket and its own secrets, connect to Cloud SQL),
its bucket is private, and its secrets reach Cloud Run from Secret Manager."""

from __future__ import annotations

import test_terraform as tf
from main_image.service.settings import SECRETS

SERVICE = "google_service_account.service"


def test_service_account_is_least_privilege() -> None:
    grants = tf._grants_mentioning(SERVICE)
    by_type: dict[str, set[tuple[str, str]]] = {}
    for grant in grants:
        body = grant["body"]
        target = str(body.get("bucket") or body.get("secret_id") or body.get("project"))
        for role in tf._roles(body):
            by_type.setdefault(grant["type"], set()).add((target, role))
    buckets = by_type.pop("google_storage_bucket_iam_member")
    assert {(t.split(".")[1], r) for t, r in buckets} == {
        ("landing", "roles/storage.objectCreator"),
        ("images", "roles/storage.objectCreator"),
        ("images", "roles/storage.objectViewer"),
    }
    secrets = by_type.pop("google_secret_manager_secret_iam_member")
    assert {role for _, role in secrets} == {"roles/secretmanager.secretAccessor"}
    project = by_type.pop("google_project_iam_member")
    assert {role for _, role in project} == {"roles/cloudsql.client"}
    assert by_type == {}, f"unexpected grants: {by_type}"


def test_cloud_run_reads_every_secret_from_secret_manager() -> None:
    run = tf._resource("google_cloud_run_v2_service", "service")
    template = tf._first(run, "template")
    assert SERVICE in str(template.get("service_account"))
    container = tf._first(template, "containers")
    assert "serve" in container["args"]
    assert set(tf._module()["locals"]["service_secrets"].values()) == {
        *SECRETS.values(),
        "MAIN_IMAGE_DATABASE_URL",
    }
    text = tf._text(container)
    assert "secret_key_ref" in text and "MAIN_IMAGE_LANDING_URI" in text
    sql = tf._resource("google_sql_database_instance", "service")
    assert sql["database_version"] == "POSTGRES_15"
