"""A throwaway PostgreSQL 15 cluster on a free loopback port (initdb + pg_ctl), for tests.

When the tests run as root, the server runs as the ``postgres`` system user (PostgreSQL
refuses root). `start` returns None where the binaries are absent, so callers skip cleanly.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path(os.environ.get("MAIN_IMAGE_PG_BIN", "/usr/lib/postgresql/15/bin"))


@dataclass
class Cluster:
    root: Path
    port: int
    prefix: list[str]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        subprocess.run(
            [*self.prefix, str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate",
             "-w", "stop"],
            capture_output=True,
            check=False,
        )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start() -> Cluster | None:
    if not (PG_BIN / "initdb").is_file():
        return None
    prefix: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="main-image-pg-"))
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            return None
        os.chown(root, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()
    subprocess.run(
        [*prefix, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
         "-E", "UTF8", "--no-sync"],
        capture_output=True,
        check=True,
    )  # fmt: skip
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    options += " -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(
        [*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l",
         str(root / "server.log"), "-w", "-t", "60", "start"],
        capture_output=True,
        check=True,
    )  # fmt: skip
    return Cluster(root, port, prefix)
