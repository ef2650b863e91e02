"""Typed configuration of the image service, read from MAIN_IMAGE_* environment variables.

In production mode (the default) the three secrets have no default: `from_env` raises
`SettingsError` naming every missing one, so a misconfigured instance never starts. Development
mode (``MAIN_IMAGE_ENV=development``, what `make serve` uses) still needs them passed in; the
Makefile generates them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from main_image.settings import PROJECT_ROOT

MB = 1024 * 1024
#: Ids of the generator and the original data live in [1000, 1000 + 2**40); the service's
#: default range starts above them. Other producers (the stream) get ranges of their own.
DEFAULT_ID_MIN = 2_000_000_000_000
DEFAULT_ID_MAX = 2_999_999_999_999
SECRETS = {
    "admin_token": "MAIN_IMAGE_ADMIN_TOKEN",
    "frontend_token": "MAIN_IMAGE_FRONTEND_TOKEN",
    "link_secret": "MAIN_IMAGE_LINK_SECRET",
}
MIN_SECRET_LENGTH = 16


class SettingsError(ValueError):
    """Configuration the service cannot start with; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    admin_token: str
    frontend_token: str
    link_secret: str
    environment: str = "production"
    public_base_url: str = "http://127.0.0.1:8000"
    database_url: str = field(
        default_factory=lambda: f"sqlite:///{PROJECT_ROOT / 'service' / 'service.db'}"
    )
    blob_uri: str = field(default_factory=lambda: str(PROJECT_ROOT / "service" / "blobs"))
    landing_uri: str = field(default_factory=lambda: str(PROJECT_ROOT / "landing"))
    max_file_bytes: int = 20 * MB
    max_request_bytes: int = 100 * MB
    max_files_per_request: int = 50
    max_image_pixels: int = 50_000_000
    default_link_max_files: int = 100
    image_id_min: int = DEFAULT_ID_MIN
    image_id_max: int = DEFAULT_ID_MAX
    outbox_interval_seconds: float = 2.0
    outbox_batch_size: int = 5000
    auto_migrate: bool = True

    def __post_init__(self) -> None:
        if self.image_id_min < 1000 or self.image_id_max < self.image_id_min:
            raise SettingsError(
                "MAIN_IMAGE_IMAGE_ID_MIN/MAX: need 1000 <= min <= max, "
                f"got {self.image_id_min}..{self.image_id_max}"
            )
        for name in ("max_file_bytes", "max_request_bytes", "max_files_per_request"):
            if getattr(self, name) < 1:
                raise SettingsError(f"MAIN_IMAGE_{name.upper()} must be >= 1")
        if not self.public_base_url.startswith(("http://", "https://")):
            raise SettingsError(
                f"MAIN_IMAGE_PUBLIC_BASE_URL must be an http(s) URL, got {self.public_base_url!r}"
            )

    @property
    def base_url(self) -> str:
        return self.public_base_url.rstrip("/")

    def cdn_url(self, image_id: int) -> str:
        return f"{self.base_url}/v1/images/{image_id}"

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None


def _landing(env: Mapping[str, str]) -> str | None:
    uri = env.get("MAIN_IMAGE_LANDING_URI") or env.get("MAIN_IMAGE_LANDING_DIR")
    if uri and not uri.startswith("gs://"):
        path = Path(uri).expanduser()
        return str(path if path.is_absolute() else PROJECT_ROOT / path)
    return uri


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment; raises SettingsError naming what is missing or bad."""
    env = os.environ if env is None else env
    environment = env.get("MAIN_IMAGE_ENV", "production")
    if environment not in ("production", "development"):
        raise SettingsError(
            f"MAIN_IMAGE_ENV must be production or development, not {environment!r}"
        )
    missing = [variable for variable in SECRETS.values() if not env.get(variable)]
    if missing:
        raise SettingsError(f"missing secret(s): {', '.join(missing)} (no defaults)")
    weak = [v for v in SECRETS.values() if len(env[v]) < MIN_SECRET_LENGTH]
    if weak and environment == "production":
        raise SettingsError(f"{', '.join(weak)}: at least {MIN_SECRET_LENGTH} characters")
    optional: dict[str, object] = {
        "public_base_url": env.get("MAIN_IMAGE_PUBLIC_BASE_URL"),
        "database_url": env.get("MAIN_IMAGE_DATABASE_URL"),
        "blob_uri": env.get("MAIN_IMAGE_BLOB_URI"),
        "landing_uri": _landing(env),
    }
    return Settings(
        admin_token=env["MAIN_IMAGE_ADMIN_TOKEN"],
        frontend_token=env["MAIN_IMAGE_FRONTEND_TOKEN"],
        link_secret=env["MAIN_IMAGE_LINK_SECRET"],
        environment=environment,
        max_file_bytes=_int(env, "MAIN_IMAGE_MAX_FILE_BYTES", 20 * MB),
        max_request_bytes=_int(env, "MAIN_IMAGE_MAX_REQUEST_BYTES", 100 * MB),
        max_image_pixels=_int(env, "MAIN_IMAGE_MAX_IMAGE_PIXELS", 50_000_000),
        image_id_min=_int(env, "MAIN_IMAGE_IMAGE_ID_MIN", DEFAULT_ID_MIN),
        image_id_max=_int(env, "MAIN_IMAGE_IMAGE_ID_MAX", DEFAULT_ID_MAX),
        auto_migrate=env.get("MAIN_IMAGE_AUTO_MIGRATE", "1") not in ("0", "false", "no"),
    ).with_overrides(**optional)
