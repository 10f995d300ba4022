"""My data's tables in the platform database (:mod:`terralab.platform_sql`).

``my_data``: one row per upload or result a user keeps (or is uploading), with its size on
disk; the sum of a user's rows is the storage the quota counts (:mod:`terralab.mydata.store`).
``status`` is ``uploading`` (a reservation) or ``ready``; ``touched`` is UNIX seconds;
``flags`` and ``item`` are JSON (a list of notes, the STAC item).

``upload_waiting``: one row per upload the hub service holds until a worker publishes it
(:mod:`terralab.mydata.upload_jobs`); ``upload`` is the JSON of what publishing needs,
``refusal`` the JSON of why publishing refused it.

The names and columns are those of the ``platform.db`` files of earlier releases, so such a
file keeps working in place.
"""

from __future__ import annotations

import sqlalchemy as sa

from terralab.platform_sql import metadata

__all__ = ["my_data", "upload_waiting"]

my_data = sa.Table(
    "my_data", metadata,
    sa.Column("owner", sa.Text, primary_key=True),
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("status", sa.Text, nullable=False),  # uploading | ready
    sa.Column("kind", sa.Text, nullable=False),  # upload | result
    sa.Column("data_type", sa.Text, nullable=False),  # raster | vector | media
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("source_name", sa.Text, nullable=False),
    sa.Column("folder", sa.Text, nullable=False),  # relative to the user's folder
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("created", sa.Text, nullable=False),  # ISO 8601, UTC
    sa.Column("touched", sa.Float, nullable=False),  # UNIX seconds
    sa.Column("flags", sa.Text, nullable=False, default="[]", server_default="[]"),
    sa.Column("item", sa.Text),  # JSON of the STAC item, once ready
)

upload_waiting = sa.Table(
    "upload_waiting", metadata,
    sa.Column("owner", sa.Text, primary_key=True),
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("upload", sa.Text, nullable=False),  # JSON: what publishing needs
    sa.Column("job", sa.Text),  # the publish job's id
    sa.Column("refusal", sa.Text),  # JSON: why publishing refused it
    sa.Column("touched", sa.Float, nullable=False),  # UNIX seconds
)
