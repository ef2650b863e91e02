"""The repository stands alone: nothing it ships points at files outside it.

A fresh clone has no ``../shared`` folder, so a link or a reference there is a dead end for the
reader. The one exception is the conformance data set, which tests read from ``../shared`` when it
is there and skip otherwise (docs/contract.md §6); it is never committed.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: References to a contract kept outside the repository.
OUTSIDE = re.compile(r"\.\./shared/SPEC|SPEC\.md|\bSPEC §|\bSPEC's\b|\bthe SPEC\b")
#: The one ``../shared`` path a file may name (never link): the conformance data set.
CONFORMANCE = re.compile(r"\.\./shared/conformance")


def tracked_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.decode()
    return [ROOT / name for name in out.split("\0") if name]


def test_nothing_points_outside_the_repository() -> None:
    offenders = []
    for path in tracked_files():
        if path.suffix in {".png", ".jpg", ".gz", ".duckdb"} or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if path.name == Path(__file__).name:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            outside_path = "../shared" in line and not CONFORMANCE.search(line)
            if OUTSIDE.search(line) or "](../shared" in line or outside_path:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "references outside the repository:\n" + "\n".join(offenders)


def test_the_contract_is_in_the_repository() -> None:
    contract = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    for section in range(1, 11):
        assert f"## §{section} " in contract, f"docs/contract.md lacks §{section}"
