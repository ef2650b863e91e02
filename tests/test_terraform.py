"""Static checks of the production Terraform module in ``terraform/``.

Providers cannot be downloaded in CI, so ``terraform validate`` is not available.
These tests parse every ``.tf`` file with python-hcl2 and check the properties the
module promises: pinned providers, documented variables and outputs, landing
retention of at least 7 days, the four datasets, least-privilege IAM, and a
Cloud Composer 3 environment running Airflow 3. They also run
``terraform fmt -check`` when the binary is installed.

python-hcl2 output differs between versions. Strings may keep their HCL quotes
(``'"x"'``), expressions come wrapped in ``${...}``, blocks are lists of dicts, and
there are metadata keys such as ``__is_block__``. ``_norm`` and ``_expr`` smooth
this out.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

import hcl2
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
TF_DIR = REPO_ROOT / "terraform"
RETENTION_VAR = "landing_retention_days"
MIN_RETENTION_DAYS = 7
LAYERS = ("raw", "staging", "marts", "reporting")
AGE_CONDITIONS = ("age", "days_since_noncurrent_time", "days_since_custom_time")
IAM_TYPE = re.compile(r"_iam_(member|binding|policy)$|^google_bigquery_dataset_access$")
ROLE = re.compile(r"roles/[A-Za-z0-9_.]+")
PRIMITIVE_ROLES = ("roles/owner", "roles/editor", "roles/viewer")


# --------------------------------------------------------------------------- helpers


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1]
    return value


def _norm(node: Any) -> Any:
    """Strip HCL quotes from keys and strings and drop python-hcl2 metadata keys."""
    if isinstance(node, dict):
        return {
            _unquote(key): _norm(value)
            for key, value in node.items()
            if not (key.startswith("__") and key.endswith("__"))
        }
    if isinstance(node, list):
        return [_norm(item) for item in node]
    if isinstance(node, str):
        return _unquote(node)
    return node


def _expr(value: Any) -> Any:
    """Return the bare expression of ``${expr}`` when it spans the whole string."""
    if not (isinstance(value, str) and value.startswith("${") and value.endswith("}")):
        return value
    depth = 0
    for index, char in enumerate(value):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return value[2:-1].strip() if index == len(value) - 1 else value
    return value


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _load(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return _norm(hcl2.load(handle))


@lru_cache(maxsize=1)
def _module() -> dict:
    """Parse every .tf file of the module into one merged structure."""
    module: dict[str, Any] = {
        "files": {},
        "terraform": [],
        "providers": [],
        "variables": {},
        "outputs": {},
        "locals": {},
        "resources": [],
        "data": [],
    }
    for path in sorted(TF_DIR.rglob("*.tf")):
        if ".terraform" in path.parts:
            continue
        parsed = _load(path)
        module["files"][path.relative_to(TF_DIR).as_posix()] = parsed
        module["terraform"] += _as_list(parsed.get("terraform"))
        for block in _as_list(parsed.get("provider")):
            module["providers"] += list(block)
        for block in _as_list(parsed.get("variable")):
            module["variables"].update(block)
        for block in _as_list(parsed.get("output")):
            module["outputs"].update(block)
        for block in _as_list(parsed.get("locals")):
            module["locals"].update(block)
        for kind in ("resource", "data"):
            for block in _as_list(parsed.get(kind)):
                for rtype, named in block.items():
                    for name, body in named.items():
                        entry = {"type": rtype, "name": name, "body": body, "file": path.name}
                        module["resources" if kind == "resource" else "data"].append(entry)
    return module


def _resources(rtype: str | re.Pattern) -> list[dict]:
    match = (lambda t: rtype.search(t)) if isinstance(rtype, re.Pattern) else (lambda t: t == rtype)
    return [r for r in _module()["resources"] if match(r["type"])]


def _resource(rtype: str, name: str) -> dict:
    found = [r for r in _resources(rtype) if r["name"] == name]
    assert found, f"{rtype}.{name} is not declared in terraform/"
    return found[0]["body"]


def _blocks(body: dict, name: str) -> list[dict]:
    """Static ``name { }`` blocks plus the ``content`` of ``dynamic "name"`` blocks."""
    found = [b for b in _as_list(body.get(name)) if isinstance(b, dict)]
    for dynamic in _as_list(body.get("dynamic")):
        if name in dynamic:
            found += _as_list(dynamic[name].get("content"))
    return found


def _first(body: dict, name: str) -> dict:
    blocks = _blocks(body, name)
    assert blocks, f"missing block {name!r}"
    return blocks[0]


def _var_name(value: Any) -> str | None:
    match = re.fullmatch(r"var\.(\w+)", str(_expr(value)))
    return match.group(1) if match else None


def _default(var_name: str) -> Any:
    variables = _module()["variables"]
    assert var_name in variables, f"variable {var_name!r} is not declared"
    return variables[var_name].get("default")


def _resolve(value: Any) -> Any:
    """Resolve ``var.x`` to its default and ``local.x`` to its value (one level)."""
    expr = _expr(value)
    if isinstance(expr, str):
        match = re.fullmatch(r"(var|local)\.(\w+)", expr)
        if match and match.group(1) == "var":
            return _default(match.group(2))
        if match:
            return _module()["locals"][match.group(2)]
    return expr


def _text(body: Any) -> str:
    """JSON text of a body with the locals it references inlined (recursively)."""
    text = json.dumps(body)
    seen: set[str] = set()
    while True:
        names = set(re.findall(r"local\.(\w+)", text)) - seen
        if not names:
            return text
        for name in names:
            seen.add(name)
            text += json.dumps(_module()["locals"].get(name))


def _roles(body: dict) -> set[str]:
    """Roles a grant gives: a literal role, or every role its for_each can produce."""
    role = _expr(body.get("role", ""))
    if isinstance(role, str) and role.startswith("roles/"):
        return {role}
    return set(ROLE.findall(_text(body.get("for_each", "")))) or {str(role)}


def _validations(var_name: str) -> list[str]:
    return [
        str(_expr(v.get("condition", "")))
        for v in _blocks(_module()["variables"][var_name], "validation")
    ]


def _guarantees_retention(var_name: str, seen: frozenset = frozenset()) -> bool:
    """True when a validation forces ``var_name`` >= the landing retention variable."""
    if var_name == RETENTION_VAR:
        return True
    if var_name in seen or var_name not in _module()["variables"]:
        return False
    pattern = re.compile(rf"var\.{var_name}\s*>=?\s*var\.(\w+)")
    return any(
        _guarantees_retention(other, seen | {var_name})
        for condition in _validations(var_name)
        for other in pattern.findall(condition)
    )


def _grants_mentioning(marker: str) -> list[dict]:
    return [r for r in _resources(IAM_TYPE) if marker in _text(r["body"])]


# --------------------------------------------------------------------------- tests


def test_module_files_parse():
    files = _module()["files"]
    for required in ("versions.tf", "variables.tf", "outputs.tf"):
        assert required in files, f"terraform/{required} is missing"
    assert _module()["resources"], "no resources parsed"


def test_providers_are_pinned():
    terraform = _module()["terraform"]
    assert any(block.get("required_version") for block in terraform), "required_version is not set"
    providers: dict[str, dict] = {}
    for block in terraform:
        for required in _as_list(block.get("required_providers")):
            providers.update(required)
    for name in ("google", "google-beta"):
        assert name in providers, f"provider {name} is not in required_providers"
    for name, spec in providers.items():
        assert isinstance(spec, dict), f"provider {name} needs a source and a version"
        assert spec.get("source", "").startswith("hashicorp/"), (
            f"provider {name}: unexpected source"
        )
        version = str(spec.get("version", "")).strip()
        assert version, f"provider {name} has no version constraint"
        # Pinned: pessimistic (~>), exact, or with an upper bound. ">= x" alone is not.
        assert re.search(r"~>|<|^=?\s*\d", version), f"provider {name} is not pinned: {version!r}"
    configured = set(_module()["providers"])
    used = {
        str(_expr(r["body"].get("provider", ""))).split(".")[0] for r in _module()["resources"]
    } - {""}
    assert configured | used <= set(providers), (
        "a provider is used but not declared in required_providers"
    )


def test_every_variable_has_description_and_type():
    variables = _module()["variables"]
    assert "project_id" in variables and "default" not in variables["project_id"], (
        "project_id must be required"
    )
    for name, body in variables.items():
        assert str(body.get("description", "")).strip(), f"variable {name} has no description"
        assert body.get("type"), f"variable {name} has no type"


def test_every_output_has_description():
    outputs = _module()["outputs"]
    assert outputs, "no outputs declared"
    for name, body in outputs.items():
        assert str(body.get("description", "")).strip(), f"output {name} has no description"


def test_retention_variable_default_and_validation():
    default = _default(RETENTION_VAR)
    assert isinstance(default, (int, float)) and default >= MIN_RETENTION_DAYS
    minimums = [
        int(n)
        for condition in _validations(RETENTION_VAR)
        for n in re.findall(rf"var\.{RETENTION_VAR}\s*>=\s*(\d+)", condition)
    ]
    assert minimums, f"{RETENTION_VAR} has no validation of the form var.{RETENTION_VAR} >= N"
    assert min(minimums) >= MIN_RETENTION_DAYS


def test_landing_lifecycle_keeps_files_for_the_retention_period():
    landing = _resource("google_storage_bucket", "landing")
    rules = _blocks(landing, "lifecycle_rule")
    assert rules, "the landing bucket has no lifecycle rule"
    actions = set()
    for rule in rules:
        action = _first(rule, "action")
        condition = _first(rule, "condition")
        actions.add(action.get("type"))
        ages = [condition[key] for key in AGE_CONDITIONS if key in condition]
        assert ages, f"lifecycle rule without an age condition would act immediately: {rule}"
        for age in ages:
            if isinstance(age, (int, float)):
                assert age >= max(MIN_RETENTION_DAYS, _default(RETENTION_VAR)), (
                    f"age {age} < retention"
                )
                continue
            name = _var_name(age)
            assert name, f"lifecycle age must be a literal or a variable, got {age!r}"
            assert _guarantees_retention(name), (
                f"var.{name} is not validated >= var.{RETENTION_VAR}"
            )
    assert "Delete" in actions, "the landing bucket never deletes files"
    assert actions <= {"Delete", "SetStorageClass"}, f"unexpected lifecycle actions {actions}"


def test_buckets_are_private_with_uniform_access():
    buckets = _resources("google_storage_bucket")
    assert {b["name"] for b in buckets} >= {"landing", "exports"}
    for bucket in buckets:
        body = bucket["body"]
        assert body.get("uniform_bucket_level_access") is True, (
            f"{bucket['name']}: uniform access off"
        )
        assert body.get("public_access_prevention") == "enforced", (
            f"{bucket['name']}: public access allowed"
        )


def test_four_labelled_datasets():
    datasets = {r["name"]: r["body"] for r in _resources("google_bigquery_dataset")}
    for layer in LAYERS:
        assert layer in datasets, f"dataset {layer} is missing"
        body = datasets[layer]
        assert body.get("labels"), f"dataset {layer} has no labels"
        assert layer in str(_resolve(body.get("dataset_id"))), (
            f"dataset {layer}: dataset_id does not name the layer"
        )
        assert "access" not in body, (
            f"dataset {layer}: access blocks conflict with dataset IAM members"
        )
    for layer in ("raw", "marts", "reporting"):
        assert "default_table_expiration_ms" not in datasets[layer], (
            f"dataset {layer} must not expire tables"
        )


def test_no_primitive_or_authoritative_iam():
    primitive = re.compile(r"roles/(owner|editor|viewer)(?![\w.])")
    for path, parsed in _module()["files"].items():
        found = primitive.findall(json.dumps(parsed))
        assert not found, f"basic roles {found} used in terraform/{path}"
    for resource in _resources(IAM_TYPE):
        assert resource["type"].endswith("_iam_member"), (
            f"authoritative IAM resource {resource['type']}"
        )
        for role in _roles(resource["body"]):
            assert role not in PRIMITIVE_ROLES, (
                f"{resource['type']}.{resource['name']} grants {role}"
            )


def test_frontend_only_reads_the_exports_bucket():
    _resource("google_service_account", "frontend")
    grants = _grants_mentioning("google_service_account.frontend")
    assert len(grants) == 1, (
        f"the frontend must have exactly one grant, got {[g['name'] for g in grants]}"
    )
    grant = grants[0]
    assert grant["type"] == "google_storage_bucket_iam_member"
    assert "google_storage_bucket.exports" in str(grant["body"].get("bucket"))
    assert _roles(grant["body"]) == {"roles/storage.objectViewer"}
    used_in = [
        r for r in _module()["resources"] if "google_service_account.frontend" in _text(r["body"])
    ]
    assert not [
        r for r in used_in if "bigquery" in r["type"] or r["type"].startswith("google_project")
    ]


def test_analysts_only_read_the_reporting_dataset():
    grants = _grants_mentioning("var.analyst_principals")
    kinds = set()
    for grant in grants:
        body, roles = grant["body"], _roles(grant["body"])
        if grant["type"] == "google_bigquery_dataset_iam_member":
            assert "google_bigquery_dataset.reporting" in str(body.get("dataset_id")), grant["name"]
            assert roles == {"roles/bigquery.dataViewer"}, grant["name"]
        elif grant["type"] == "google_project_iam_member":
            assert roles == {"roles/bigquery.jobUser"}, grant["name"]
        else:
            pytest.fail(f"analysts must not get {grant['type']}.{grant['name']}")
        kinds.add(grant["type"])
    assert kinds == {"google_bigquery_dataset_iam_member", "google_project_iam_member"}


def test_orchestrator_edits_every_dataset_and_writes_the_buckets():
    grants = _grants_mentioning("google_service_account.orchestrator")
    dataset_grants = [g for g in grants if g["type"] == "google_bigquery_dataset_iam_member"]
    assert dataset_grants and all(
        _roles(g["body"]) == {"roles/bigquery.dataEditor"} for g in dataset_grants
    )
    covered = "".join(_text(g["body"]) for g in dataset_grants)
    for layer in LAYERS:
        assert f"google_bigquery_dataset.{layer}" in covered, (
            f"orchestrator cannot write dataset {layer}"
        )
    bucket_grants = "".join(
        _text(g["body"]) for g in grants if g["type"] == "google_storage_bucket_iam_member"
    )
    for bucket in ("landing", "exports"):
        assert f"google_storage_bucket.{bucket}" in bucket_grants, (
            f"orchestrator cannot write {bucket}"
        )
    project_roles = set().union(
        *(
            _roles(g["body"])
            for g in grants
            if g["type"] == "google_project_iam_member"
            and g["name"] != "orchestrator_python_scoring"
        )
    )
    # cloudsql.client: the publish task writes the image service's serving copy (Cloud SQL)
    assert project_roles <= {"roles/composer.worker", "roles/bigquery.jobUser",
                             "roles/cloudsql.client"}, project_roles  # fmt: skip


def test_python_scoring_resources_exist_only_when_enabled():
    """Python scoring versions on BigQuery (terraform/python_scoring.tf): off by default; when on,
    a private staging bucket with a retention rule, and the roles of one submission method."""
    variables = _module()["variables"]
    assert variables["enable_python_scoring"]["default"] is False
    resources = [r for r in _module()["resources"] if "python_scoring" in r["name"]]
    assert {r["type"] for r in resources} >= {
        "google_storage_bucket",
        "google_storage_bucket_iam_member",
        "google_project_iam_member",
        "google_project_service",
    }
    for resource in resources:
        guard = _text(resource["body"].get("count", "")) + _text(
            resource["body"].get("for_each", "")
        )
        assert "var.enable_python_scoring" in guard, f"{resource['name']} is not conditional"
    bucket = _resource("google_storage_bucket", "python_scoring")
    assert bucket["public_access_prevention"] == "enforced"
    assert bucket["uniform_bucket_level_access"] is True
    assert "lifecycle_rule" in bucket


def test_composer_3_environment_with_airflow_3():
    environments = _resources("google_composer_environment")
    assert len(environments) == 1, "expected exactly one Composer environment"
    config = _first(environments[0]["body"], "config")
    software = _first(config, "software_config")
    image = str(_resolve(software.get("image_version")))
    assert image.startswith("composer-3-") and "airflow-3" in image, image
    image_var = _var_name(software.get("image_version"))
    if image_var:
        assert any("airflow-3" in c for c in _validations(image_var)), (
            "image version is not validated"
        )
    assert "google_service_account.orchestrator" in str(
        _first(config, "node_config").get("service_account")
    )

    env: dict[str, Any] = {}
    env_expr = _expr(software.get("env_variables"))
    if isinstance(env_expr, dict):
        env.update(env_expr)
    for name in re.findall(r"local\.(\w+)", str(env_expr)):
        env.update(_module()["locals"].get(name) or {})
    assert env.get("MAIN_IMAGE_DBT_TARGET") == "bigquery"
    for key in ("MAIN_IMAGE_GCP_PROJECT", "MAIN_IMAGE_LANDING_BUCKET", "MAIN_IMAGE_EXPORTS_BUCKET"):
        assert key in env, f"{key} is not set in the Composer environment"
    for layer in LAYERS:
        assert f"google_bigquery_dataset.{layer}" in json.dumps(env), (
            f"dataset {layer} not passed to Airflow"
        )

    packages = _resolve(software.get("pypi_packages")) or {}
    assert {"dbt-bigquery", "astronomer-cosmos"} <= set(packages), packages


def test_example_tfvars_use_declared_variables():
    examples = sorted((TF_DIR / "examples").glob("*.tfvars"))
    assert examples, "terraform/examples/*.tfvars is missing"
    variables = _module()["variables"]
    required = {name for name, body in variables.items() if "default" not in body}
    for path in examples:
        values = _load(path)
        unknown = set(values) - set(variables)
        assert not unknown, f"{path.name} sets undeclared variables {sorted(unknown)}"
        assert required <= set(values), (
            f"{path.name} misses required variables {sorted(required - set(values))}"
        )


def test_terraform_fmt():
    terraform = shutil.which("terraform") or "/usr/local/bin/terraform"
    if not Path(terraform).exists():
        pytest.skip("terraform binary not installed")
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", str(TF_DIR)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"terraform fmt -check failed:\n{result.stdout}\n{result.stderr}"
