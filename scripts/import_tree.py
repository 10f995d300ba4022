"""Lay the ``terralab`` package out as one folder tree of links, for the import linter.

The distribution maps one import name onto several top-level folders (``kernels_lib`` is
``terralab``, ``hub_config`` is ``terralab.hub``, …; ``[tool.setuptools] package-dir`` in
pyproject.toml). The import linter reads packages from the file system, so ``make lint``
first builds ``<dest>/terralab/`` with links to those folders, then checks the contracts of
``.importlinter`` with ``<dest>`` first on ``PYTHONPATH``.

Usage: ``python scripts/import_tree.py DEST [ROOT]`` (ROOT: the checkout, default the folder
above this script).
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

__all__ = ["build_tree"]


def build_tree(root: Path, dest: Path) -> Path:
    """Build ``dest/terralab`` from the package folders of ``root``; return ``dest``."""
    config = tomllib.loads((root / "pyproject.toml").read_text())
    folders: dict[str, str] = config["tool"]["setuptools"]["package-dir"]
    if dest.exists():
        shutil.rmtree(dest)
    package = dest / "terralab"
    package.mkdir(parents=True)
    for entry in (root / folders["terralab"]).iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry.resolve())
    for name, folder in folders.items():
        if name != "terralab":
            (package / name.split(".", 1)[1]).symlink_to((root / folder).resolve())
    return dest


if __name__ == "__main__":
    here = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parents[1]
    build_tree(here, Path(sys.argv[1]))
