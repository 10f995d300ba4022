"""``python -m terralab.hub.singleuser``: a user's Jupyter server, as ``jupyterhub-singleuser``.

The spawners start users' servers with this module instead of the ``jupyterhub-singleuser``
script: it runs :func:`prepare`, then JupyterHub's own ``jupyterhub.singleuser.main`` with
the same arguments, so the server, its extensions and its options are exactly those of
``jupyterhub-singleuser``.

:func:`prepare` defers one cost that every server otherwise pays at start:
``jupyter_server`` imports ``jupyter_events``, which imports ``jsonschema``, whose format
checkers import ``rfc3987_syntax`` for the ``iri`` and ``iri-reference`` formats; that module
builds an Earley parser from its Lark grammar at import time, ~1.3 s of CPU on a 2-core
machine (``benchmarks/hub.py``). Here the package's import is replaced by a stand-in whose
functions import the real package on their first call and hand it the call, so the grammar
is built only if something validates an IRI — the same answers, later. Nothing else of
``rfc3987_syntax`` or ``jsonschema`` changes; processes that do not start through this
module (kernels, the hub, scripts) import it as usual.

This module imports nothing heavy itself: it runs before the server's imports.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import threading
import types
from typing import Any

__all__ = ["LazyModule", "main", "prepare"]

#: Packages imported only on first use in users' servers: name → names of their functions
#: that callers take with ``from package import name`` at import time.
DEFERRED = {"rfc3987_syntax": ("is_valid_syntax", "parse")}


class LazyModule(types.ModuleType):
    """A stand-in for a package that imports the real one on first use.

    ``from package import function`` gets a small function that imports the package on its
    first call; any other attribute imports it at once. After that the real package is in
    ``sys.modules`` and the stand-in only passes calls on.
    """

    def __init__(self, spec: importlib.machinery.ModuleSpec,
                 functions: tuple[str, ...]) -> None:
        super().__init__(spec.name, f"{spec.name}, imported on first use "
                         "(terralab.hub.singleuser)")
        self._lock = threading.Lock()
        self._real: types.ModuleType | None = None
        self.__file__ = spec.origin
        if spec.submodule_search_locations is not None:  # its submodules import as usual
            self.__path__ = list(spec.submodule_search_locations)
        for function in functions:
            setattr(self, function, self._deferred(function))

    def _load(self) -> types.ModuleType:
        with self._lock:
            if self._real is None:
                if sys.modules.get(self.__name__) is self:
                    del sys.modules[self.__name__]
                try:
                    self._real = importlib.import_module(self.__name__)
                except BaseException:
                    sys.modules.setdefault(self.__name__, self)
                    raise
            return self._real

    def _deferred(self, function: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            return getattr(self._load(), function)(*args, **kwargs)

        call.__name__ = call.__qualname__ = function
        call.__doc__ = f"{self.__name__}.{function}, imported on its first call."
        return call

    def __getattr__(self, name: str) -> Any:
        """Any other attribute: import the real package now and return its attribute."""
        return getattr(self._load(), name)


def prepare() -> None:
    """Put the stand-ins of :data:`DEFERRED` in ``sys.modules`` (installed packages only)."""
    for name, functions in DEFERRED.items():
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is not None:
            sys.modules[name] = LazyModule(spec, functions)


def main() -> None:
    """Run ``jupyterhub-singleuser`` with this process's arguments, after :func:`prepare`."""
    prepare()
    from jupyterhub.singleuser import main as singleuser_main

    sys.argv[0] = "jupyterhub-singleuser"
    sys.exit(singleuser_main())


if __name__ == "__main__":
    main()
