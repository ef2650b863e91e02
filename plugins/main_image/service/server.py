"""``main-image serve``: settings from the environment, flags override, uvicorn serves."""

from __future__ import annotations

import argparse
import sys

from main_image.service.settings import SettingsError, from_env

OVERRIDES = {
    "public_base_url": "--public-base-url",
    "database_url": "--database-url",
    "blob_uri": "--blob-uri",
    "landing_uri": "--landing-uri",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any)")
    for dest, flag in OVERRIDES.items():
        parser.add_argument(
            flag, dest=dest, default=None, help=f"overrides MAIN_IMAGE_{dest.upper()}"
        )
    parser.add_argument("--log-level", dest="log_level", default="info")


def command_serve(args: argparse.Namespace) -> int:
    try:
        settings = from_env().with_overrides(**{dest: getattr(args, dest) for dest in OVERRIDES})
    except SettingsError as error:
        print(f"main-image serve: error: {error}", file=sys.stderr)
        return 2
    import uvicorn

    from main_image.service.app import create_app

    app = create_app(settings)
    print(
        f"main-image serve: {settings.environment} on http://{args.host}:{args.port} "
        f"(database {settings.database_url.split('@')[-1]}, blobs {settings.blob_uri}, "
        f"landing {settings.landing_uri})",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0
