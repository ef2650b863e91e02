"""Development secrets for `make serve`: generated once into an env file, printed once.

``python -m main_image.service.devsecrets service/dev-secrets.env`` writes the three secrets
(file mode 0600) when the file does not exist and prints them; later calls reuse the file
silently, so links and tokens keep working across restarts. Never for production: there the
secrets come from a secret manager.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from main_image.service.settings import SECRETS


def ensure(path: Path) -> bool:
    """Create the env file if missing; True when it was created now."""
    if path.is_file():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{variable}={secrets.token_urlsafe(32)}" for variable in SECRETS.values()]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    print(f"development secrets (written to {path}, shown this once):", file=sys.stderr)
    for line in lines:
        print(f"  {line}", file=sys.stderr)
    return True


if __name__ == "__main__":
    ensure(Path(sys.argv[1] if len(sys.argv) > 1 else "service/dev-secrets.env"))
