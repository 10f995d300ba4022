"""``tl.quotas.quota()``: my quotas, one code path with two transports.

Inside a terralab hub (``TERRALAB_SERVICE_URL`` and ``JUPYTERHUB_API_TOKEN`` set by the
spawner) the report comes from the hub service, which applies the user's groups and owns
the ledger. Without a hub (a plain notebook, a script, the tests) it is computed in this
process from the local ``TERRALAB_HOME``, for :func:`terralab.identity.current_user`, with
the limits of the ``TERRALAB_*_QUOTA*`` variables (no groups).
"""

from __future__ import annotations

from terralab.identity import current_user
from terralab.quotas.report import QuotaReport, quota_report

__all__ = ["quota"]


def quota(user: str | None = None) -> QuotaReport:
    """Return my quotas this month: AI time, downloads and storage, used and limits.

    Args:
        user: another user's name (admins only inside a hub); default: me.

    Raises:
        PermissionError: inside a hub, when a user who is no admin asks for another user.
    """
    from terralab.catalog.remote import service_client

    client = service_client()
    if client is not None:
        from terralab.quotas.remote import QuotaService

        return QuotaService(client).quota(user)
    return quota_report(user or current_user())
