"""The one list of environment variables (``main_image.config.ENV_VARS``): complete, and the
documentation generated from it."""

from __future__ import annotations

import re
from pathlib import Path

from main_image import config, orchestration

REPO = Path(__file__).resolve().parents[1]
#: A variable name in code or in profiles.yml (not a constant such as P_MAIN_IMAGE_X).
NAME = re.compile(r"(?<![A-Za-z0-9_])MAIN_IMAGE_[A-Z0-9_]*[A-Z0-9]")


def names_read_by_the_code() -> dict[str, str]:
    sources = [*(REPO / "plugins").rglob("*.py"), *(REPO / "dags").glob("*.py"),
               REPO / "dbt_project" / "profiles.yml"]
    found: dict[str, str] = {}
    for path in sources:
        for name in NAME.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, str(path.relative_to(REPO)))
    return found


def test_env_vars_lists_every_variable_the_code_reads() -> None:
    missing = {name: where for name, where in names_read_by_the_code().items()
               if name not in config.ENV_VARS}
    assert missing == {}
    assert orchestration.ENV_VARS is config.ENV_VARS


def test_every_listed_variable_is_read_somewhere() -> None:
    unused = set(config.ENV_VARS) - set(names_read_by_the_code())
    assert unused == set()


def test_the_configuration_doc_is_generated_from_env_vars() -> None:
    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert doc == config.DOC_HEADER + config.markdown_table(), (
        "docs/configuration.md is stale: python -m main_image.config > docs/configuration.md")
