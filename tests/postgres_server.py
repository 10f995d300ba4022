"""A throwaway PostgreSQL server for tests: initdb in a temporary folder, a free port, trust auth.

The binaries come from PATH, else Debian's ``/usr/lib/postgresql/<version>/bin``. PostgreSQL
refuses to run as root, so a root test run starts it as the ``postgres`` system user. When
something is missing the tests skip with the reason (``make postgres`` installs it).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from terralab.hub.ports import free_port


def pg_bin() -> Path | None:
    """The folder of initdb / pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<v>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return candidates[-1].parent if candidates else None


@dataclass
class PostgresServer:
    """A running throwaway server; the superuser ``postgres`` logs in without a password."""

    bin_dir: Path
    root: Path
    port: int
    run_as: dict[str, Any] = field(default_factory=dict)
    _databases: int = 0

    def url(self, database: str = "postgres") -> str:
        """A ``postgresql://`` URL of ``database`` on this server."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "test") -> str:
        """Create a fresh, empty database and return its URL."""
        self._databases += 1
        name = f"{prefix}_{self._databases}"
        subprocess.run([self.bin_dir / "createdb", "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", "postgres", name], check=True, capture_output=True)
        return self.url(name)


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """Start a server in a temporary folder, yield it, then stop it and remove the folder.

    Skips the calling test when the server binaries are missing, or when running as root
    without a ``postgres`` system user.
    """
    bin_dir = pg_bin()
    if bin_dir is None or not (bin_dir / "pg_ctl").exists():
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found: run `make postgres`")
    run_as: dict[str, Any] = {}
    root = Path(tempfile.mkdtemp(prefix="terralab-pg-"))
    if os.getuid() == 0:  # postgres refuses to run as root
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            pytest.skip("running as root without a 'postgres' system user to run PostgreSQL")
        os.chown(root, account.pw_uid, account.pw_gid)
        run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    data, port = root / "data", free_port()
    try:
        subprocess.run([bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--locale=C"], check=True, capture_output=True, cwd=root,
                       **run_as)
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run([bin_dir / "pg_ctl", "-D", data, "-o", options, "-l", root / "log",
                        "-w", "start"], check=True, capture_output=True, cwd=root, **run_as)
        yield PostgresServer(bin_dir, root, port, run_as)
    finally:
        subprocess.run([bin_dir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"],
                       capture_output=True, cwd=root, **run_as)
        shutil.rmtree(root, ignore_errors=True)
