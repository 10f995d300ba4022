"""The platform's settings as pydantic models: one section per subject, each field documented.

Every field names, in its metadata, the environment variable that sets it without a hub
(``env``) and, where there is one, the hub traitlet it comes from (``trait``, an attribute
of ``c.TerralabHub``). Two kinds of fields:

- **document fields**: the hub writes them from its traitlets into the settings document
  (``$TERRALAB_SETTINGS``); without one (a bare kernel, a script, the tests) their variables
  set them;
- **process fields** (``process``): what JupyterHub, dask-gateway or ``terralab up`` hand one
  process (``$JUPYTERHUB_API_TOKEN`` …) and a user's own keys; always read from the
  process's environment, never written into a document.

``service_only`` fields (the platform database's URL, which may hold a password) go into the
document of the hub service and the workers, never into users' servers'.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from terralab.sizes import parse_duration, parse_size

__all__ = ["AreaSettings", "CatalogSettings", "DaskSettings", "HubEnvironment",
           "LaunchSettings", "MapSettings", "QueueSettings", "QuotaSettings", "RasterSettings",
           "ServiceSettings", "Settings", "UploadSettings"]


def _count(value: Any) -> int:
    """A whole number ≥ 0 (job limits), as text or a number."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"give a whole number of jobs ≥ 0, not {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"give a whole number of jobs ≥ 0, not {value!r}") from None
    if number < 0:
        raise ValueError(f"give a whole number of jobs ≥ 0, not {value!r}")
    return number


def _switch(value: Any) -> Any:
    """``0``, ``false``, ``no`` and ``off`` are off; any other text is on."""
    if isinstance(value, str):
        return value.strip().lower() not in {"0", "false", "no", "off"}
    return value


def _commas(value: Any) -> Any:
    """``"1,3,4"`` as ``["1", "3", "4"]`` (the hub's upload_limits take either form)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _hosts(value: Any) -> Any:
    return [str(host).strip().lower() for host in value] if isinstance(value, list) else value


Bytes = Annotated[int, BeforeValidator(parse_size)]
"""Bytes: ``"300GB"``, ``"10 MB"`` or a number (binary units, :func:`terralab.sizes.parse_size`)."""
Seconds = Annotated[int, BeforeValidator(parse_duration)]
"""Seconds: ``"10h"``, ``"90min"`` or a number (:func:`terralab.sizes.parse_duration`)."""
Count = Annotated[int, BeforeValidator(_count)]
"""A whole number of jobs ≥ 0."""


def setting(default: Any = None, *, env: str, help: str, trait: str | None = None,
            factory: Any = None, process: bool = False, service_only: bool = False,
            sep: str | None = None, example: str | None = None, empty_counts: bool = False,
            **kwargs: Any) -> Any:
    """A settings field: its default, variable, traitlet and help text.

    Args:
        default: the value when nothing sets it.
        env: the environment variable that sets it.
        help: what it does.
        trait: the ``c.TerralabHub`` traitlet the hub writes it from.
        factory: makes the default (lists, dicts).
        process: always read from the process's environment, never from a document.
        service_only: written into the document of the hub service and the workers only.
        sep: the variable holds a list separated by this.
        example: the variable holds a JSON object; an example of one.
        empty_counts: the variable set but empty means an empty list (not "unset").
        **kwargs: more :func:`pydantic.Field` arguments (bounds, ``repr``).
    """
    extra: dict[str, Any] = {"env": env}
    for key, value in (("trait", trait and f"TerralabHub.{trait}"), ("sep", sep),
                       ("example", example)):
        if value:
            extra[key] = value
    for key, flag in (("process", process), ("service_only", service_only),
                      ("empty_counts", empty_counts)):
        if flag:
            extra[key] = True
    if factory is not None:
        return Field(default_factory=factory, description=help, json_schema_extra=extra,
                     **kwargs)
    return Field(default, description=help, json_schema_extra=extra, **kwargs)


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HubEnvironment(_Section):
    """What JupyterHub hands a user's server or a service (process fields)."""

    user: str | None = setting(env="JUPYTERHUB_USER", process=True,
                               help="The hub user this server runs for (wins over `user`).")
    api_token: str | None = setting(env="JUPYTERHUB_API_TOKEN", process=True, repr=False,
                                    help="The server's or service's token for the hub API "
                                         "and the terralab service.")
    service_prefix: str | None = setting(
        env="JUPYTERHUB_SERVICE_PREFIX", process=True,
        help="The URL prefix of this server (`/user/alice/`) or service.")
    service_url: str | None = setting(env="JUPYTERHUB_SERVICE_URL", process=True,
                                      help="Where this service listens (the hub service).")


class ServiceSettings(_Section):
    """How users' servers reach the terralab hub service."""

    url: str | None = setting(
        env="TERRALAB_SERVICE_URL", trait="service_url",
        help="The hub service's URL, ending with `/services/terralab/`. With "
             "`$JUPYTERHUB_API_TOKEN` every `tl.*` call goes to the hub service; without, "
             "the platform runs in this process.")
    name: str | None = setting(env="TERRALAB_SERVICE",
                               help="The service's name in the hub (`terralab`).")


class CatalogSettings(_Section):
    """The catalog source and where public catalog assets may live."""

    source: str | None = setting(
        env="TERRALAB_CATALOG_SOURCE",
        help="The catalog source searched by default (`embedded` when unset; others come "
             "from `<home>/catalog/sources.json`).")
    asset_roots: list[Path] = setting(
        env="TERRALAB_CATALOG_ROOTS", trait="catalog_asset_roots", factory=list,
        sep=os.pathsep,
        help="Folders besides `<home>/catalog` whose files public catalog items may name.")
    asset_hosts: Annotated[list[str] | None, BeforeValidator(_hosts)] = setting(
        env="TERRALAB_CATALOG_HOSTS", trait="catalog_asset_hosts", sep=",", empty_counts=True,
        help="Hosts (`*.example.com` patterns) whose URLs public catalog items may name; "
             "None: the Planetary Computer's and Earth Search's hosts.")


class AreaSettings(_Section):
    """Place names and vector files."""

    geocoder: str | None = setting(
        env="TERRALAB_GEOCODER",
        help="The geocoder of place names: `offline` (default), `tianditu`, "
             "`module:attribute` or an entry point of `terralab.geocoders`.")
    vector_max_bytes: Bytes | None = setting(
        env="TERRALAB_VECTOR_MAX_BYTES",
        help="The largest vector file read as an area (None: 5 GB).")


class MapSettings(_Section):
    """Map tiles and basemaps."""

    tile_base_url: str | None = setting(
        env="TERRALAB_TILE_BASE_URL",
        help="The base URL of the Jupyter server whose tile endpoint maps use (default: "
             "`$JUPYTERHUB_SERVICE_PREFIX`, else the running server's).")
    tianditu_token: str | None = setting(
        env="TIANDITU_TOKEN", process=True, repr=False,
        help="The user's Tianditu key: the Tianditu basemaps and geocoder.")


class QuotaSettings(_Section):
    """Quotas per user: a default, per-user and per-group values.

    A user's own value wins, else the largest of their groups', else the default.
    """

    ai: Seconds = setting(36000, env="TERRALAB_AI_QUOTA", trait="ai_quota",
                          help="AI analysis seconds per user and month (10 h).")
    ai_users: dict[str, Seconds] = setting(
        env="TERRALAB_AI_QUOTA_USERS", trait="ai_quota_users", factory=dict,
        example='{"alice": "20h"}', help="AI seconds of single users.")
    ai_groups: dict[str, Seconds] = setting(
        env="TERRALAB_AI_QUOTA_GROUPS", trait="ai_quota_groups", factory=dict,
        example='{"lab": "40h"}', help="AI seconds of groups.")
    download: Bytes = setting(100 * 1024**3, env="TERRALAB_DOWNLOAD_QUOTA",
                              trait="download_quota",
                              help="Download bytes per user and month (100 GB).")
    download_users: dict[str, Bytes] = setting(
        env="TERRALAB_DOWNLOAD_QUOTA_USERS", trait="download_quota_users", factory=dict,
        example='{"alice": "1TB"}', help="Download bytes of single users.")
    download_groups: dict[str, Bytes] = setting(
        env="TERRALAB_DOWNLOAD_QUOTA_GROUPS", trait="download_quota_groups", factory=dict,
        example='{"lab": "2TB"}', help="Download bytes of groups.")
    storage: Bytes = setting(300 * 1024**3, env="TERRALAB_STORAGE_QUOTA",
                             trait="storage_quota",
                             help="Bytes a user may keep in my data (300 GB).")
    storage_users: dict[str, Bytes] = setting(
        env="TERRALAB_STORAGE_QUOTA_USERS", trait="storage_quota_users", factory=dict,
        example='{"alice": "1TB"}', help="Storage bytes of single users.")
    storage_groups: dict[str, Bytes] = setting(
        env="TERRALAB_STORAGE_QUOTA_GROUPS", trait="storage_quota_groups", factory=dict,
        example='{"teachers": "2TB"}', help="Storage bytes of groups.")


class UploadSettings(_Section):
    """Changes to the upload rules (:class:`terralab.mydata.limits.UploadLimits`).

    None keeps the rule's default. The hub's traitlet is the dict
    ``c.TerralabHub.upload_limits``.
    """

    max_bytes: Bytes | None = setting(env="TERRALAB_UPLOAD_MAX_BYTES", trait="upload_limits",
                                      help="The largest file (5 GB).")
    min_side: int | None = setting(env="TERRALAB_UPLOAD_MIN_SIDE", trait="upload_limits",
                                   gt=0, help="The smallest raster side, pixels (1024).")
    max_side: int | None = setting(env="TERRALAB_UPLOAD_MAX_SIDE", trait="upload_limits",
                                   gt=0, help="The largest raster side, pixels (100000).")
    band_counts: Annotated[list[int] | None, BeforeValidator(_commas)] = setting(
        env="TERRALAB_UPLOAD_BAND_COUNTS", sep=",", trait="upload_limits",
        help="Band counts accepted (3, 4).")
    dtypes: Annotated[list[str] | None, BeforeValidator(_commas)] = setting(
        env="TERRALAB_UPLOAD_DTYPES", sep=",", trait="upload_limits",
        help="Sample types accepted (uint8, uint16).")
    crs: Literal["platform", "any"] | None = setting(
        env="TERRALAB_UPLOAD_CRS", trait="upload_limits",
        help="`platform` (WGS84, CGCS2000, Xian 1980, Beijing 1954) or `any`.")
    zip_max_entries: int | None = setting(env="TERRALAB_UPLOAD_ZIP_MAX_ENTRIES",
                                          trait="upload_limits",
                                          help="The most members of a zip (1000).")
    zip_max_unpacked: Bytes | None = setting(env="TERRALAB_UPLOAD_ZIP_MAX_UNPACKED",
                                             trait="upload_limits",
                                             help="The most bytes a zip unpacks to "
                                                  "(4 × max_bytes).")
    zip_max_ratio: float | None = setting(env="TERRALAB_UPLOAD_ZIP_MAX_RATIO",
                                          trait="upload_limits",
                                          help="The largest compression ratio of a member "
                                               "(200).")
    refused_drain_bytes: Bytes | None = setting(
        env="TERRALAB_UPLOAD_REFUSED_DRAIN_BYTES", trait="upload_limits",
        help="The largest body of a refused upload the service reads and drops (64 MiB).")


class QueueSettings(_Section):
    """The job queue, its workers and the job limits."""

    queues: dict[str, Any] = setting(
        env="TERRALAB_JOB_QUEUES", trait="job_queues", factory=dict,
        example='{"lab-a": {"workers": 1, "groups": ["lab-a"]}}',
        help='The queues and their workers, `{"shared": {"workers": 2}, "lab-a": '
             '{"workers": 1, "groups": ["lab-a"]}}` (checked by '
             "`terralab.queue.queues.QueueConfig`); empty: `shared` with one worker. The "
             "hub writes `worker_count` as the shared queue's workers.")
    job_limit: Count = setting(100, env="TERRALAB_JOB_LIMIT", trait="job_limit",
                               help="Jobs one user may have queued or running at once.")
    job_limit_users: dict[str, Count] = setting(
        env="TERRALAB_JOB_LIMIT_USERS", trait="job_limit_users", factory=dict,
        example='{"alice": 500}', help="Job limits of single users.")
    job_limit_groups: dict[str, Count] = setting(
        env="TERRALAB_JOB_LIMIT_GROUPS", trait="job_limit_groups", factory=dict,
        example='{"lab-a": 300}', help="Job limits of groups.")
    max_attempts: int = setting(3, env="TERRALAB_JOB_MAX_ATTEMPTS", trait="job_max_attempts",
                                ge=1, help="Starts of a job whose worker died, before it "
                                           "fails.")
    lease_seconds: float = setting(30.0, env="TERRALAB_JOB_LEASE_SECONDS", gt=0,
                                   trait="job_lease_seconds",
                                   help="A worker's claim on its job without a heartbeat.")
    local_worker: Annotated[bool, BeforeValidator(_switch)] = setting(
        True, env="TERRALAB_LOCAL_WORKER",
        help="Without a hub, run queued jobs in a thread of this process when no worker "
             "pool serves the queue (`0`, `false`, `no` or `off`: never).")


class DaskSettings(_Section):
    """What the library's Dask parts read (the client settings are dask's own config)."""

    no_client_timeout: float = setting(
        0.0, env="TERRALAB_DASK_NO_CLIENT_TIMEOUT", trait="dask_no_client_timeout", ge=0,
        help="Seconds after which a gateway cluster no client is connected to stops (0: "
             "never); the gateway hands it to each cluster's scheduler.")
    gateway_api_url: str | None = setting(
        env="DASK_GATEWAY_API_URL", process=True,
        help="Set by dask-gateway in the processes of its clusters.")


class RasterSettings(_Section):
    """The memory each process may spend on rasters (:mod:`terralab.raster_budget`)."""

    gdal_cache: Bytes = setting(256 * 1024**2, env="TERRALAB_GDAL_CACHE",
                                trait="raster_gdal_cache", ge=16 * 1024**2,
                                help="GDAL's block cache in each process (256 MiB; GDAL "
                                     "alone would take 5 % of the machine's memory).")
    dask_chunk: Bytes = setting(128 * 1024**2, env="TERRALAB_DASK_CHUNK",
                                trait="raster_dask_chunk", ge=1024**2,
                                help="The size of the chunks Dask cuts lazy rasters into "
                                     "when a tool leaves it to Dask (128 MiB).")
    codec: Literal["deflate", "zstd"] = setting(
        "deflate", env="TERRALAB_RASTER_CODEC", trait="raster_codec",
        help="How results and published COGs are compressed: `deflate` (read everywhere) or "
             "`zstd` (faster to decode); lossless, with a predictor "
             "(`terralab.raster_codecs`).")
    float_max_error: float | None = setting(
        env="TERRALAB_FLOAT_MAX_ERROR", trait="raster_float_max_error", gt=0,
        help="The error allowed in floating-point results (e.g. 0.001 for an index): LERC "
             "with this maximum error before the codec; None: lossless.")


class LaunchSettings(_Section):
    """What ``terralab up`` hands the hub process (process fields)."""

    hub_url: str = setting("http://127.0.0.1:8000", env="TERRALAB_HUB_URL", process=True,
                           help="The hub's public URL (the default of `bind_url`).")
    spawner_mode: str = setting("workshop", env="TERRALAB_SPAWNER_MODE", process=True,
                                help="`workshop` or `system` (the default of "
                                     "`spawner_mode`).")
    site_config: Path | None = setting(env="TERRALAB_HUB_SITE_CONFIG", process=True,
                                       help="The site's `c.TerralabHub` configuration file.")
    proxy_cmd: str | None = setting(env="TERRALAB_PROXY_CMD", process=True,
                                    help="The configurable-http-proxy command.")
    hub_api_port: int | None = setting(env="TERRALAB_HUB_API_PORT", process=True,
                                       help="The hub API's port (else a free one).")
    proxy_api_port: int | None = setting(env="TERRALAB_PROXY_API_PORT", process=True,
                                         help="The proxy API's port (else a free one).")
    service_port: int | None = setting(env="TERRALAB_SERVICE_PORT", process=True,
                                       help="The hub service's port (else a free one).")
    admin_password: str | None = setting(env="TERRALAB_ADMIN_PASSWORD", process=True,
                                         repr=False,
                                         help="The first password of `admin` (else random).")
    demo_password: str | None = setting(env="TERRALAB_DEMO_PASSWORD", process=True,
                                        repr=False,
                                        help="The first password of `demo` (else random).")


class Settings(_Section):
    """Every setting of the platform, in sections (see :mod:`terralab.settings`)."""

    home: Path | None = setting(
        env="TERRALAB_HOME", trait="home",
        help="The data folder (None: `./var` of a checkout, else `~/.terralab`).")
    user: str | None = setting(
        env="TERRALAB_USER",
        help="The user a process acts for without a hub (else the login name); "
             "`hub.user` wins.")
    platform_db_url: str | None = setting(
        env="TERRALAB_PLATFORM_DB_URL", trait="platform_db_url", service_only=True,
        repr=False,
        help="The platform database: None for `<home>/platform.db` (SQLite), or a "
             "PostgreSQL URL.")
    hub: HubEnvironment = Field(default_factory=HubEnvironment,
                                description=HubEnvironment.__doc__)
    service: ServiceSettings = Field(default_factory=ServiceSettings,
                                     description=ServiceSettings.__doc__)
    catalog: CatalogSettings = Field(default_factory=CatalogSettings,
                                     description=CatalogSettings.__doc__)
    areas: AreaSettings = Field(default_factory=AreaSettings, description=AreaSettings.__doc__)
    maps: MapSettings = Field(default_factory=MapSettings, description=MapSettings.__doc__)
    quotas: QuotaSettings = Field(default_factory=QuotaSettings,
                                  description=QuotaSettings.__doc__)
    uploads: UploadSettings = Field(default_factory=UploadSettings,
                                    description=UploadSettings.__doc__)
    queue: QueueSettings = Field(default_factory=QueueSettings,
                                 description=QueueSettings.__doc__)
    dask: DaskSettings = Field(default_factory=DaskSettings, description=DaskSettings.__doc__)
    raster: RasterSettings = Field(default_factory=RasterSettings,
                                   description=RasterSettings.__doc__)
    launch: LaunchSettings = Field(default_factory=LaunchSettings,
                                   description=LaunchSettings.__doc__)
