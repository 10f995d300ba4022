"""``tl.quota()``: my quotas, one operation (``quotas.report``) over either transport.

Inside a terralab hub the report comes from the hub service, which applies the user's groups
and owns the ledger. Without a hub (a plain notebook, a script, the tests) the same
operation runs in this process against the local ``TERRALAB_HOME``, for
:func:`terralab.identity.current_user`, with the limits of the ``TERRALAB_*_QUOTA*``
variables (no groups).
"""

from __future__ import annotations

from terralab.quotas.report import QuotaReport
from terralab.service.local import Transport, transport

__all__ = ["QuotaService", "quota"]


class QuotaService:
    """The quota calls over one transport (a hub service client, or the local one)."""

    def __init__(self, service: Transport) -> None:
        self.service = service

    def quota(self, user: str | None = None) -> QuotaReport:
        """``GET quota[?user=NAME]``: the caller's report, or another user's (admins only).

        Raises:
            PermissionError: when a user who is no admin asks for another user.
        """
        return QuotaReport.from_dict(self.service.request("quotas.report", user=user))


def quota(user: str | None = None) -> QuotaReport:
    """Return my quotas this month: AI time, downloads and storage, used and limits.

    Args:
        user: another user's name (admins only inside a hub); default: me.

    Raises:
        PermissionError: inside a hub, when a user who is no admin asks for another user.
    """
    return QuotaService(transport()).quota(user)
