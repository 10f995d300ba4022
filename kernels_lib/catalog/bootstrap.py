"""Put the demo region into the embedded catalog index (``terralab demo-data`` and ``up``)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["index_demo_data"]


def index_demo_data(home: Path) -> int:
    """Ingest the demo catalog under ``home/catalog/demo`` as public items.

    Ingest replaces items with the same collection and id, so running it again after
    ``terralab demo-data --force`` keeps one copy of each item.

    Returns:
        The number of items indexed (0 when there is no demo catalog).
    """
    from terralab.catalog.index import CatalogIndex, default_index_path
    from terralab.catalog.ingest import ingest

    catalog = home / "catalog" / "demo" / "catalog.json"
    if not catalog.is_file():
        return 0
    index = CatalogIndex(default_index_path(home))
    try:
        report = ingest(catalog, index=index)
    finally:
        index.close()
    return report.total
