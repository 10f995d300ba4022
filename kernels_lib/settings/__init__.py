"""One settings object for the platform: ``terralab.settings.settings()``.

Every part of terralab reads its configuration here, never from ``os.environ``: the data
folder, the user, the hub service's URL and token, the platform database, the catalog
source and asset rules, the geocoder, quotas, upload rules, the queue, tiles, Dask. The
fields, their types, defaults, variables and hub traitlets are documented on the models of
:mod:`terralab.settings.model` (and in the table of ``hub_config/README.md``).

Where the values come from, for each field:

1. the **settings document**, ``$TERRALAB_SETTINGS``: a JSON object (or the path of a file
   holding one), e.g. ``{"home": "/srv/terralab", "quotas": {"ai": 36000}}``. A terralab hub
   writes it once from its traitlets (``c.TerralabHub.*``) for its service, its workers
   and every user's server (:meth:`terralab.hub.settings.TerralabHub.settings_environment`);
   the users' servers' copy leaves out the platform database's URL;
2. else the field's own **variable** (``$TERRALAB_AI_QUOTA`` …), as a bare kernel, a script
   or a test sets it;
3. else its default.

*Process fields* (JupyterHub's ``$JUPYTERHUB_USER``, ``$JUPYTERHUB_API_TOKEN``,
``$JUPYTERHUB_SERVICE_PREFIX``, ``$JUPYTERHUB_SERVICE_URL``; dask-gateway's
``$DASK_GATEWAY_API_URL``; a user's ``$TIANDITU_TOKEN``; what ``terralab up`` hands the hub)
always come from the process's environment. A bad value raises :class:`SettingsError`
naming its variable (``$TERRALAB_JOB_LIMIT: give a whole number of jobs ≥ 0, not 'x'``) or
its place in the document.

:func:`settings` reads ``os.environ`` once per change: the result is cached for as long as
the variables it reads (and the document file) stay the same, so a test that sets a variable
sees it at the next call; :func:`reload_settings` forgets the cache.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping

from terralab.settings.model import (
    AreaSettings,
    CatalogSettings,
    DaskSettings,
    HubEnvironment,
    LaunchSettings,
    MapSettings,
    QueueSettings,
    QuotaSettings,
    RasterSettings,
    ServiceSettings,
    Settings,
    UploadSettings,
)
from terralab.settings.reading import (
    DOCUMENT_VARIABLE,
    SettingsError,
    document,
    fields,
    problems,
    read_settings,
    variable_names,
)

__all__ = ["DOCUMENT_VARIABLE", "AreaSettings", "CatalogSettings", "DaskSettings",
           "HubEnvironment", "LaunchSettings", "MapSettings", "QueueSettings",
           "QuotaSettings", "RasterSettings", "ServiceSettings", "Settings", "SettingsError",
           "UploadSettings",
           "document", "fields", "problems", "read_settings", "reload_settings", "settings",
           "settings_of", "variable_names"]

_NAMES = variable_names()


def _key(environ: Mapping[str, str]) -> tuple:
    """What the settings depend on: the variables read and the document file's version."""
    values = tuple(sorted((name, environ[name]) for name in _NAMES if name in environ))
    path = environ.get(DOCUMENT_VARIABLE, "").strip()
    if path and not path.startswith(("{", "[")):
        try:
            stat = os.stat(os.path.expanduser(path))
            return values, stat.st_mtime_ns, stat.st_size
        except OSError:
            return values, None, None
    return values, None, None


@functools.lru_cache(maxsize=8)
def _cached(key: tuple) -> Settings:
    return read_settings(dict(key[0]))


def settings() -> Settings:
    """Return the settings of this process (cached while its variables stay the same).

    Raises:
        SettingsError: naming the variable (or document key) that holds a bad value.
    """
    return _cached(_key(os.environ))


def settings_of(environ: Mapping[str, str] | None) -> Settings:
    """The settings of ``environ`` (another process's variables); this process's for None."""
    return settings() if environ is None else read_settings(environ)


def reload_settings() -> None:
    """Forget the cached settings: the next :func:`settings` reads the environment again."""
    _cached.cache_clear()
