"""What a user has used of each quota this month: :class:`QuotaReport` and :func:`quota_report`.

The AI time and the downloads come from the quota ledger; the storage in use is measured by
my data, above the quotas, so the caller passes it (the quota endpoint,
:mod:`terralab.service.endpoints.quotas`, asks :func:`terralab.mydata.store.storage_usage`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from terralab.quotas.accounts import parse_time, registered_on
from terralab.quotas.cycle import quota_cycle
from terralab.quotas.ledger import AI_SECONDS, DOWNLOAD_BYTES, used
from terralab.quotas.policy import QuotaPolicy, format_duration
from terralab.sizes import format_size

__all__ = ["QuotaReport", "quota_report"]

_TIMES = ("registered", "cycle_start", "resets")


def _share(used_: float, limit: int) -> str:
    if limit <= 0:
        return "100%" if used_ else "0%"
    return f"{min(999, round(100 * used_ / limit))}%"


@dataclass(frozen=True)
class QuotaReport:
    """One user's quotas: this month's AI time and downloads, and the storage in use.

    Attributes:
        user: the user.
        registered: when the user registered (UTC); its day of month starts each month.
        cycle_start: the start of this quota month (UTC, inclusive).
        resets: when this month ends and the monthly quotas start again (UTC).
        ai_seconds_used: run time of successful AI jobs charged this month (exact seconds).
        ai_seconds_limit: the monthly AI time.
        download_bytes_used: bytes downloaded this month.
        download_bytes_limit: the monthly download bytes.
        storage_bytes_used: bytes kept in my data now (not monthly).
        storage_bytes_limit: the storage quota.
    """

    user: str
    registered: datetime
    cycle_start: datetime
    resets: datetime
    ai_seconds_used: float
    ai_seconds_limit: int
    download_bytes_used: int
    download_bytes_limit: int
    storage_bytes_used: int
    storage_bytes_limit: int

    @property
    def ai_seconds_left(self) -> float:
        """AI seconds still free this month (never negative)."""
        return max(0, self.ai_seconds_limit - self.ai_seconds_used)

    @property
    def download_bytes_left(self) -> int:
        """Download bytes still free this month (never negative)."""
        return max(0, self.download_bytes_limit - self.download_bytes_used)

    @property
    def storage_bytes_left(self) -> int:
        """Storage bytes still free (never negative)."""
        return max(0, self.storage_bytes_limit - self.storage_bytes_used)

    def lines(self) -> list[tuple[str, str, str, str]]:
        """The table rows: (quota, used of limit, share, left), in words."""
        return [
            ("AI analysis", f"{format_duration(self.ai_seconds_used)} of "
             f"{format_duration(self.ai_seconds_limit)}",
             _share(self.ai_seconds_used, self.ai_seconds_limit),
             f"{format_duration(self.ai_seconds_left)} left"),
            ("Downloads", f"{format_size(self.download_bytes_used)} of "
             f"{format_size(self.download_bytes_limit)}",
             _share(self.download_bytes_used, self.download_bytes_limit),
             f"{format_size(self.download_bytes_left)} left"),
            ("Storage", f"{format_size(self.storage_bytes_used)} of "
             f"{format_size(self.storage_bytes_limit)}",
             _share(self.storage_bytes_used, self.storage_bytes_limit),
             f"{format_size(self.storage_bytes_left)} left"),
        ]

    def __str__(self) -> str:
        last = (self.resets - timedelta(days=1)).date()
        rows = self.lines()
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        table = ["  " + "  ".join(cell.rjust(w) if i == 2 else cell.ljust(w)
                                  for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
                 .rstrip() for row in rows]
        return "\n".join([
            f"Quotas of {self.user}: month {self.cycle_start.date()} to {last}; "
            f"AI time and downloads reset on {self.resets.date()}",
            *table,
        ])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: the fields (times in ISO 8601), what is left, and the rows in words."""
        data: dict[str, Any] = asdict(self)
        for name in _TIMES:
            data[name] = getattr(self, name).isoformat()
        data |= {"ai_seconds_left": self.ai_seconds_left,
                 "download_bytes_left": self.download_bytes_left,
                 "storage_bytes_left": self.storage_bytes_left,
                 "text": {row[0]: f"{row[1]} ({row[2]})" for row in self.lines()}}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuotaReport:
        """Read back :meth:`to_dict` (extra keys are ignored)."""
        values: dict[str, Any] = {}
        for item in fields(cls):
            value = data[item.name]
            values[item.name] = (parse_time(value) if item.name in _TIMES
                                 else value if item.name == "user"
                                 else float(value) if item.name == "ai_seconds_used"
                                 else int(value))
        return cls(**values)


def quota_report(user: str, groups: Iterable[str] = (), *, storage_used: int,
                 home: Path | None = None, now: datetime | None = None,
                 policy: QuotaPolicy | None = None) -> QuotaReport:
    """Return ``user``'s quota report for the month that holds ``now``.

    Args:
        user: the user (recorded as registered now when seen for the first time).
        groups: the user's groups (group quotas).
        storage_used: the bytes ``user`` keeps in my data now (measured by the caller).
        home: the terralab data folder.
        now: the moment whose month to report (default: now).
        policy: the limits (default: :meth:`QuotaPolicy.from_env`).
    """
    policy = policy or QuotaPolicy.from_env()
    groups = tuple(groups)
    limits = policy.limits_for(user, groups)
    registered = registered_on(user, home=home)
    start, reset = quota_cycle(registered, now)
    return QuotaReport(
        user=user, registered=registered, cycle_start=start, resets=reset,
        ai_seconds_used=used(user, AI_SECONDS, start, reset, home=home),
        ai_seconds_limit=limits.ai_seconds,
        download_bytes_used=used(user, DOWNLOAD_BYTES, start, reset, home=home),
        download_bytes_limit=limits.download_bytes,
        storage_bytes_used=int(storage_used), storage_bytes_limit=limits.storage_bytes)
