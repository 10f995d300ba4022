"""The calls of ``import terralab as tl``: the client layer, above the service layer.

Each module holds one domain's calls (``tl.search`` and downloads in
:mod:`terralab.client.catalog`, ``tl.upload`` and ``tl.my_data`` in
:mod:`terralab.client.mydata`, ``tl.submit`` and ``tl.jobs`` in :mod:`terralab.client.queue`,
``tl.projects`` in :mod:`terralab.client.projects`, ``tl.quota`` in
:mod:`terralab.client.quotas`). Each call runs over one transport chosen in one place
(:func:`terralab.service.local.transport`): the hub service inside a terralab hub, the
same operations in this process otherwise.
"""
