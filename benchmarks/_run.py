"""What every benchmark run does first and last: its header lines and its work folder."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["hardware", "header", "work_folder"]


def hardware() -> str:
    """``"<CPU model>, <cores> cores, <memory> GiB"`` of this machine (``lscpu``'s model name)."""
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        lscpu = ""
    model = next((line.split(":", 1)[1].strip() for line in lscpu.splitlines()
                  if line.startswith("Model name")), platform.processor())
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{model}, {os.cpu_count()} cores, {memory:.1f} GiB"


def header(title: str, machine: str) -> None:
    """Print the run's title with the time, the machine line and the command."""
    print(f"{title}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")


@contextlib.contextmanager
def work_folder(workdir: Path | None, *, keep: bool, prefix: str) -> Iterator[Path]:
    """The run's folder: ``workdir``, or a temporary one removed afterwards unless ``keep``."""
    temporary = workdir is None
    folder = Path(tempfile.mkdtemp(prefix=prefix)) if temporary else workdir
    try:
        yield folder
    finally:
        if temporary and not keep:
            shutil.rmtree(folder, ignore_errors=True)
