"""Per-user quotas: AI analysis time, download bytes and storage (PRODUCT.md §6).

In a notebook::

    import terralab as tl
    print(tl.quota())         # this month's AI time and downloads, storage, reset date

The pieces: the limits and their per-user / per-group overrides
(:mod:`terralab.quotas.policy`); the quota month, which starts on the user's registration
day (:mod:`~terralab.quotas.cycle`, :mod:`~terralab.quotas.accounts`); the ledger of
charges, once per key (:mod:`~terralab.quotas.ledger`); the report
(:mod:`~terralab.quotas.report`) and the checks that refuse new AI jobs and downloads when a
quota is used up (:mod:`~terralab.quotas.checks`).
"""

from __future__ import annotations

from terralab.quotas.accounts import registered_on
from terralab.quotas.checks import QuotaExceeded, check_ai, check_download
from terralab.quotas.cycle import quota_cycle
from terralab.quotas.ledger import AI_SECONDS, DOWNLOAD_BYTES, charge, used
from terralab.quotas.policy import Limit, QuotaLimits, QuotaPolicy
from terralab.quotas.report import QuotaReport, quota_report

__all__ = ["AI_SECONDS", "DOWNLOAD_BYTES", "Limit", "QuotaExceeded", "QuotaLimits",
           "QuotaPolicy", "QuotaReport", "charge", "check_ai", "check_download", "quota_cycle",
           "quota_report", "registered_on", "used"]
