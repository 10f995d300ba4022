"""terralab: the helper library of the terralab Earth-observation AI lab.

Import it in a notebook as ``import terralab as tl``. It runs with no hub and no Jupyter:
without a hub the platform runs in-process against a local ``TERRALAB_HOME``.

``tl.search`` and ``tl.download`` (see :mod:`terralab.client.catalog`), ``tl.upload`` and
``tl.my_data`` (see :mod:`terralab.client.mydata`, also reachable as ``tl.mydata``),
``tl.run`` and ``tl.tools`` (see :mod:`terralab.client.tools`), the queue's ``tl.submit``,
``tl.jobs`` and ``tl.job`` (:mod:`terralab.client.queue`), ``tl.quota()``
(:mod:`terralab.client.quotas`), ``tl.projects`` (:mod:`terralab.client.projects`) and
``tl.compute`` (Dask, :mod:`terralab.compute`)
and the map ``tl.Map`` (:mod:`terralab.widgets`) are loaded on first use, so
``import terralab`` stays quick.

Every xarray DataArray gets the accessor ``da.tl`` (:mod:`terralab.accessor`): the tools
taking one raster as methods, chained on lazy data (``da.tl.index("ndvi")``,
``da.tl.reproject("EPSG:4490").tl.clip(area)``, ``da.tl.show(m)``). ``import terralab``
registers it without importing xarray: at once when xarray is already imported, else right
after xarray's import (:mod:`terralab._xarray_hook`). It also registers the callbacks through
which lower layers tell higher ones (:mod:`terralab.wiring`), once per process.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

from terralab._version import __version__
from terralab._xarray_hook import register_accessor
from terralab.home import terralab_home
from terralab.wiring import wire

__all__ = ["Map", "__version__", "download", "job", "jobs", "my_data", "quota", "run",
           "search", "submit", "terralab_home", "upload"]

_LAZY = {"search": "terralab.client.catalog", "download": "terralab.client.catalog",
         "upload": "terralab.client.mydata", "my_data": "terralab.client.mydata",
         "run": "terralab.client.tools", "submit": "terralab.client.queue",
         "jobs": "terralab.client.queue", "job": "terralab.client.queue",
         "quota": "terralab.client.quotas", "Map": "terralab.widgets"}
_MODULES = {"mydata": "terralab.client.mydata", "tools": "terralab.client.tools",
            "projects": "terralab.client.projects", "compute": "terralab.compute"}

register_accessor()  # da.tl, once xarray is imported
wire()  # the callbacks of lower layers (the queue's job events → projects)


class _Calls(types.ModuleType):
    """``tl.mydata``, ``tl.projects``: the client layer's calls, then the domain's own names.

    It carries the domain package's name, so ``import terralab.mydata.store as store`` still
    finds the domain's module; the client module's names come first (a test checks that no
    call is named like a module of its domain).
    """

    def __init__(self, client: types.ModuleType, domain: types.ModuleType) -> None:
        super().__init__(domain.__name__, client.__doc__)
        self._client = client
        self._domain = domain

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self._client, name)
        except AttributeError:
            return getattr(self._domain, name)

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self._client)) | set(dir(self._domain)))


_views: dict[str, _Calls] = {}


class _Terralab(types.ModuleType):
    """``terralab`` itself: ``tl.mydata``, ``tl.projects`` and ``tl.tools`` are the client calls.

    Importing a domain package (``terralab.mydata``, the store and its parts) sets it as an
    attribute of ``terralab``; what a notebook means by ``tl.mydata`` are the calls of the
    client layer (:mod:`terralab.client.mydata`), whatever was imported before.
    """

    def __getattribute__(self, name: str) -> Any:
        if name in _MODULES:
            view = _views.get(name)
            if view is None:
                client = importlib.import_module(_MODULES[name])
                domain = importlib.import_module(f"terralab.{name}")
                view = client if domain is client else _Calls(client, domain)
                _views[name] = view
            return view
        return super().__getattribute__(name)


def __getattr__(name: str) -> Any:
    """Load the catalog, my-data, queue and quota calls on first use."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'terralab' has no attribute {name!r}")


sys.modules[__name__].__class__ = _Terralab
