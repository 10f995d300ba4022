"""Where terralab keeps its data: ``TERRALAB_HOME`` and the folders under it.

The layout (DESIGN.md): ``catalog/`` (COGs and index), ``users/<name>/``, ``models/``,
``hub/`` (JupyterHub state of the embedded default) and ``platform.db``.
"""

from __future__ import annotations

from pathlib import Path

from terralab.settings import settings

__all__ = ["checkout_root", "terralab_home", "user_dir"]

def checkout_root() -> Path | None:
    """Return the source checkout terralab runs from, or None for a wheel install.

    A checkout is recognised by its ``pyproject.toml`` beside the ``kernels_lib`` folder.
    """
    here = Path(__file__).resolve().parent
    if here.name == "kernels_lib" and (here.parent / "pyproject.toml").is_file():
        return here.parent
    return None


def terralab_home(*, create: bool = False) -> Path:
    """Return the terralab data folder.

    The settings' ``home`` (:func:`terralab.settings.settings`; ``$TERRALAB_HOME`` without
    a hub) when set; otherwise ``./var`` of the source checkout terralab runs from, or
    ``~/.terralab`` for an installed package.

    Args:
        create: make the folder (and its parents) if it does not exist.

    Returns:
        The absolute path of the data folder.
    """
    value = settings().home
    if value:
        home = value.expanduser()
    else:
        root = checkout_root()
        home = root / "var" if root is not None else Path.home() / ".terralab"
    home = home.resolve()
    if create:
        home.mkdir(parents=True, exist_ok=True)
    return home


def user_dir(name: str, *, home: Path | None = None) -> Path:
    """Return the folder of one user's data, checked to stay inside ``users/``.

    Args:
        name: the JupyterHub user name.
        home: the data folder; ``terralab_home()`` when omitted.

    Returns:
        ``<home>/users/<name>``.

    Raises:
        ValueError: if ``name`` is empty or would leave the users folder.
    """
    users = (home or terralab_home()) / "users"
    if not name or name in {".", ".."} or "/" in name or "\\" in name or "\x00" in name:
        raise ValueError(f"not a valid user name: {name!r}")
    path = (users / name).resolve()
    if path.parent != users.resolve():
        raise ValueError(f"not a valid user name: {name!r}")
    return path
