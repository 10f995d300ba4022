"""Link the data files of pyproject.toml into the environment of an editable install.

``pip install -e .`` installs no ``[tool.setuptools.data-files]`` (the Voilà template, the
server-extension switch, the notebooks); a wheel does. ``make`` runs this after the editable
install so both give the same result; the links point into the checkout, so edits show at
once. Usage: ``python scripts/link_data_files.py`` (with the environment's python).
"""

from __future__ import annotations

import glob
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def link_data_files(prefix: Path) -> list[Path]:
    """Symlink every data file of pyproject.toml under ``prefix``; return the links."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data_files = config["tool"]["setuptools"]["data-files"]
    links = []
    for destination, patterns in data_files.items():
        folder = prefix / destination
        folder.mkdir(parents=True, exist_ok=True)
        for pattern in patterns:
            for source in sorted(glob.glob(str(ROOT / pattern))):
                link = folder / Path(source).name
                if link.is_symlink() or link.exists():
                    link.unlink()
                link.symlink_to(source)
                links.append(link)
    return links


if __name__ == "__main__":
    for path in link_data_files(Path(sys.prefix)):
        print(f"linked {path}")
