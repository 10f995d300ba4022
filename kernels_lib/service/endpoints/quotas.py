"""The quota endpoint (PRODUCT.md §6), declared once.

The user's quota month starts on their registration day: the JupyterHub user's ``created``
time. The hub's model of the caller carries ``created`` only when the caller's token may
read the whole user model; otherwise the service asks the hub
(:attr:`~terralab.service.endpoint.CallContext.user_model`), and when that fails too, the
first time terralab sees the user is their registration, replaced by the hub's time as soon
as one is known (:func:`terralab.quotas.accounts.registered_on`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from terralab.mydata.store import storage_usage
from terralab.quotas.accounts import registered_on, stored_registration
from terralab.quotas.report import quota_report
from terralab.service.endpoint import CallContext, Endpoint
from terralab.service.error_table import NotFound
from terralab.service.registry import declare

__all__ = ["QuotaAnswer", "QuotaQuery", "registration"]


class QuotaQuery(BaseModel):
    """``GET quota[?user=NAME]``."""

    model_config = ConfigDict(extra="forbid")
    user: str | None = Field(None, description="another user (admins only); default: me")


class QuotaAnswer(BaseModel):
    """A user's quotas this month: used, limits, what is left, the month and its reset."""

    model_config = ConfigDict(extra="allow")
    user: str
    registered: str
    cycle_start: str
    resets: str
    ai_seconds_used: float
    ai_seconds_limit: int
    download_bytes_used: int
    download_bytes_limit: int
    storage_bytes_used: int
    storage_bytes_limit: int
    ai_seconds_left: float
    download_bytes_left: int
    storage_bytes_left: int
    text: dict[str, str]


def registration(context: CallContext, model: Mapping[str, Any]) -> datetime:
    """Return (and record once) when the user of hub model ``model`` registered."""
    name = str(model["name"])
    created = model.get("created")
    if not created and stored_registration(name, home=context.home) is None:
        found = context.user_model(name) or {}
        created = found.get("created")
    return registered_on(name, created=created or None, home=context.home)


def _quota(context: CallContext, request: QuotaQuery) -> Any:
    caller = context.caller
    name = request.user or caller.name
    model: Mapping[str, Any] | None = caller.model or {"name": name}
    if name != caller.name:
        if not caller.admin:
            raise PermissionError(f"only admins may see the quotas of another user ({name})")
        model = context.user_model(name)
        if model is None:  # the hub did not say: only users terralab has seen
            if stored_registration(name, home=context.home) is None:
                raise NotFound(f"no user {name!r} is known")
            model = {"name": name, "groups": []}
    registration(context, {**model, "name": name})
    groups = tuple(model.get("groups") or ())
    used = storage_usage(name, groups=groups, home=context.home).used
    return quota_report(name, groups, storage_used=used, home=context.home)


declare(Endpoint("quotas.report", "GET", "quota",
                 "My quotas this month (an admin may ask for another user)",
                 call=_quota, request=QuotaQuery, response=QuotaAnswer,
                 errors=(PermissionError, NotFound)))
