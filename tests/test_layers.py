"""The layering contracts of ``make lint`` (.importlinter, docs/architecture.md) hold and bite.

The import linter runs on a copy of the package folders: the copy as it is passes, and the
same copy with one up-import added (the lowest module importing the map widgets) is refused,
naming the import. No private module (``pkg._x``) is imported from outside its own package
``pkg``: the import graph (grimp, on the tree :mod:`scripts.import_tree` lays out) of a
copy with one such import added shows that import and no other.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("kernels_lib", "hub_config", "widgets", "extension", "scripts")


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "checkout"
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, copy / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.ipynb", "*.tif"))
    for name in ("pyproject.toml", ".importlinter"):
        shutil.copy2(ROOT / name, copy / name)
    return copy


def _lint(checkout: Path) -> subprocess.CompletedProcess[str]:
    tree = checkout / "import-tree"
    subprocess.run([sys.executable, str(checkout / "scripts" / "import_tree.py"), str(tree),
                    str(checkout)], check=True)
    linter = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(linter), "--no-cache", str(checkout / ".importlinter")],
                          cwd=checkout, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=300)


def test_the_layers_hold_and_an_up_import_is_refused(tmp_path):
    checkout = _copy(tmp_path)
    clean = _lint(checkout)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "KEPT" in clean.stdout and "BROKEN" not in clean.stdout
    home = checkout / "kernels_lib" / "home.py"
    home.write_text(home.read_text() + "\nimport terralab.widgets.map  # an up-import\n")
    broken = _lint(checkout)
    assert broken.returncode != 0
    assert "BROKEN" in broken.stdout
    assert "terralab.home -> terralab.widgets.map" in broken.stdout, broken.stdout


_PRIVATE_IMPORTS = """
import json, sys
import grimp

graph = grimp.build_graph("terralab")
found = []
for module in sorted(graph.modules):
    parts = module.split(".")
    private = next((i for i, part in enumerate(parts) if part.startswith("_")
                    and not part.startswith("__")), None)
    if private is None:
        continue
    package = ".".join(parts[:private])
    for importer in sorted(graph.find_modules_that_directly_import(module)):
        if importer != package and not importer.startswith(package + "."):
            found.append(f"{importer} -> {module}")
print(json.dumps(found))
"""


def test_no_private_module_is_imported_from_outside_its_package(tmp_path):
    checkout = _copy(tmp_path)
    home = checkout / "kernels_lib" / "home.py"
    home.write_text(home.read_text() + "\nimport terralab.projects._files  # private elsewhere\n")
    tree = checkout / "import-tree"
    subprocess.run([sys.executable, str(checkout / "scripts" / "import_tree.py"), str(tree),
                    str(checkout)], check=True)
    result = subprocess.run([sys.executable, "-c", _PRIVATE_IMPORTS], cwd=checkout,
                            env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["terralab.home -> terralab.projects._files"]
