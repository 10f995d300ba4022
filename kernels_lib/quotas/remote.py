"""The hub transport of the quota report: ``GET quota`` of the terralab hub service.

Inside a terralab hub the service owns the ledger and knows the user's groups, so a user's
kernel asks it rather than reading the platform database itself.
"""

from __future__ import annotations

from http import HTTPStatus

from terralab.catalog.remote import ServiceClient, ServiceError
from terralab.quotas.report import QuotaReport

__all__ = ["QuotaService"]


class QuotaService:
    """Quota calls of the hub service, for one user's token."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def quota(self, user: str | None = None) -> QuotaReport:
        """``GET quota[?user=NAME]``: the caller's report, or another user's (admins only).

        Raises:
            PermissionError: when a user who is no admin asks for another user.
            terralab.catalog.remote.ServiceError: for any other refusal of the service.
        """
        try:
            body = self.client.call("GET", "quota",
                                    params={"user": user} if user else None).json()
        except ServiceError as error:
            if error.status == HTTPStatus.FORBIDDEN:
                raise PermissionError(str(error)) from None
            raise
        return QuotaReport.from_dict(body)
