"""My data: a user's uploads, results and favourites (PRODUCT.md §2).

In a notebook::

    import terralab as tl
    item = tl.upload("field.tif")            # checked, published as a COG, on the map
    tl.my_data()                             # uploads and results, newest first
    tl.mydata.rename(item.id, "Field, June")
    tl.mydata.storage()                      # used / quota
    layer = tl.mydata.edit(vector_item_id)   # vertex / polygon / attribute edits, undo
    tl.search(collections=["my-data"], geometry=item.item["bbox"])

Uploads follow the platform's rules (:mod:`terralab.mydata.limits`), are published by
:mod:`terralab.mydata.uploads` (in a hub: checked by the hub service, published on the
workers as a queued job, :mod:`terralab.mydata.upload_jobs`) and charged against the
storage quota (:mod:`terralab.quotas.policy`, :mod:`terralab.mydata.store`).
"""

from __future__ import annotations

from terralab.mydata.errors import MyDataError, UploadError
from terralab.mydata.items import COLLECTION
from terralab.mydata.limits import UploadLimits
from terralab.mydata.store import MyDataRecord, StorageUsage
from terralab.quotas.policy import StoragePolicy

__all__ = ["COLLECTION", "MyDataError", "MyDataRecord", "StoragePolicy", "StorageUsage",
           "UploadError", "UploadLimits"]
