"""Per-user quotas: limits and overrides, the month from the registration day, the ledger
(once per key, SQLite and PostgreSQL), the checks that refuse AI jobs and downloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from terralab.cli.quotas import quota_group
from terralab.client.quotas import quota
from terralab.platform_sql import dispose_engines, engine
from terralab.quotas import (
    AI_SECONDS,
    DOWNLOAD_BYTES,
    Limit,
    QuotaExceeded,
    QuotaPolicy,
    QuotaReport,
    charge,
    check_ai,
    check_download,
    quota_cycle,
    quota_report,
    registered_on,
    used,
)
from terralab.quotas.accounts import stored_registration
from terralab.quotas.downloads import download, downloaded_bytes, record_download
from terralab.quotas.ledger import quota_ledger
from terralab.quotas.policy import StoragePolicy, format_duration, parse_duration

GB = 1024**3


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh TERRALAB_HOME (and so a fresh SQLite platform database) per test."""
    folder = tmp_path / "home"
    monkeypatch.setenv("TERRALAB_HOME", str(folder))
    return folder


# -- limits -----------------------------------------------------------------------------------

def test_durations() -> None:
    assert parse_duration("10h") == 36000
    assert parse_duration("90min") == parse_duration("1h30min") == parse_duration("1.5 h") == 5400
    assert parse_duration("3600") == parse_duration(3600) == 3600
    assert parse_duration("2 days") == 172800
    for bad in ("", "ten hours", "10 parsecs", "10 20", -1, True):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert format_duration(36000) == "10 h"
    assert format_duration(36000 - 60) == "9 h 59 min"
    assert format_duration(45 * 60) == "45 min"
    assert format_duration(42) == "42 s"


def test_policy_defaults_and_overrides() -> None:
    policy = QuotaPolicy()
    limits = policy.limits_for("anyone")
    assert (limits.ai_seconds, limits.download_bytes, limits.storage_bytes) == (
        10 * 3600, 100 * GB, 300 * GB)
    policy = QuotaPolicy(ai=Limit(36000, users={"alice": 3600}, groups={"lab": 72000,
                                                                           "class": 7200}),
                         download=Limit(100, users={"bob": 5}, groups={"lab": 1000}),
                         storage=StoragePolicy(default=10, groups={"lab": 20}))
    # the user's own value wins, even over a larger group value
    assert policy.limits_for("alice", ["lab"]).ai_seconds == 3600
    # else the largest value of the user's groups
    assert policy.limits_for("carol", ["class", "lab"]).ai_seconds == 72000
    assert policy.limits_for("carol", ["class"]).ai_seconds == 7200
    # else the default
    assert policy.limits_for("carol", ["other"]).ai_seconds == 36000
    assert policy.limits_for("bob", ["lab"]).download_bytes == 5
    assert policy.limits_for("dave", ["lab"]).download_bytes == 1000
    assert policy.limits_for("dave", ["lab"]).storage_bytes == 20
    assert policy.limits_for("dave").storage_bytes == 10


def test_policy_from_env_round_trip() -> None:
    env = {"TERRALAB_AI_QUOTA": "90min", "TERRALAB_AI_QUOTA_USERS": '{"alice": "20h"}',
           "TERRALAB_AI_QUOTA_GROUPS": '{"lab": 7200}', "TERRALAB_DOWNLOAD_QUOTA": "1GB",
           "TERRALAB_DOWNLOAD_QUOTA_GROUPS": '{"lab": "2 GB"}',
           "TERRALAB_STORAGE_QUOTA_USERS": '{"bob": "1TB"}'}
    policy = QuotaPolicy.from_env(env)
    assert policy.ai == Limit(5400, {"alice": 72000}, {"lab": 7200})
    assert policy.download == Limit(GB, {}, {"lab": 2 * GB})
    assert policy.limits_for("bob").storage_bytes == 1024**4
    assert QuotaPolicy.from_env(policy.to_env()) == policy
    assert QuotaPolicy.from_env({}) == QuotaPolicy()


@pytest.mark.parametrize(("name", "value"), [
    ("TERRALAB_AI_QUOTA", "ten hours"),
    ("TERRALAB_AI_QUOTA_USERS", '["alice"]'),
    ("TERRALAB_AI_QUOTA_GROUPS", '{"lab": "lots"}'),
    ("TERRALAB_DOWNLOAD_QUOTA", "100 parsecs"),
    ("TERRALAB_DOWNLOAD_QUOTA_USERS", "{not json"),
    ("TERRALAB_STORAGE_QUOTA", "big"),
])
def test_bad_values_name_their_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"\\${name}"):
        QuotaPolicy.from_env({name: value})


# -- the month --------------------------------------------------------------------------------

def test_month_rolls_over_on_the_registration_day() -> None:
    registered = utc(2026, 1, 3, 15, 30)
    assert quota_cycle(registered, utc(2026, 1, 3, 16)) == (utc(2026, 1, 3), utc(2026, 2, 3))
    last = utc(2026, 2, 3) - timedelta(microseconds=1)
    assert quota_cycle(registered, last) == (utc(2026, 1, 3), utc(2026, 2, 3))
    assert quota_cycle(registered, utc(2026, 2, 3)) == (utc(2026, 2, 3), utc(2026, 3, 3))
    # across the year
    assert quota_cycle(registered, utc(2026, 12, 31)) == (utc(2026, 12, 3), utc(2027, 1, 3))
    assert quota_cycle(registered, utc(2027, 1, 2)) == (utc(2026, 12, 3), utc(2027, 1, 3))
    # a time in another zone is placed by its UTC day
    from zoneinfo import ZoneInfo

    shanghai = datetime(2026, 2, 3, 7, 59, tzinfo=ZoneInfo("Asia/Shanghai"))  # 2 Feb UTC
    assert quota_cycle(registered, shanghai)[1] == utc(2026, 2, 3)


def test_day_31_is_clamped_to_short_months_and_leap_years() -> None:
    registered = utc(2025, 1, 31, 9)
    assert quota_cycle(registered, utc(2025, 2, 27)) == (utc(2025, 1, 31), utc(2025, 2, 28))
    assert quota_cycle(registered, utc(2025, 2, 28)) == (utc(2025, 2, 28), utc(2025, 3, 31))
    assert quota_cycle(registered, utc(2025, 3, 30)) == (utc(2025, 2, 28), utc(2025, 3, 31))
    assert quota_cycle(registered, utc(2025, 4, 30)) == (utc(2025, 4, 30), utc(2025, 5, 31))
    # a leap year: February has 29 days
    assert quota_cycle(registered, utc(2028, 2, 28, 23)) == (utc(2028, 1, 31),
                                                              utc(2028, 2, 29))
    assert quota_cycle(registered, utc(2028, 2, 29)) == (utc(2028, 2, 29), utc(2028, 3, 31))
    # registered on 29 February: the 29th where there is one, else the 28th
    leap = utc(2024, 2, 29)
    assert quota_cycle(leap, utc(2025, 2, 28)) == (utc(2025, 2, 28), utc(2025, 3, 29))
    assert quota_cycle(leap, utc(2025, 3, 29)) == (utc(2025, 3, 29), utc(2025, 4, 29))


def test_registration_is_recorded_once(home: Path) -> None:
    assert stored_registration("alice") is None
    created = "2026-01-15T08:00:00.123456Z"  # JupyterHub's user model
    assert registered_on("alice", created=created) == utc(2026, 1, 15, 8, 0, 0, 123456)
    # a later created (say, a user deleted and made again in the hub) does not move it
    assert registered_on("alice", created="2026-05-01T00:00:00Z").month == 1
    assert registered_on("alice").month == 1
    # first seen, without the hub's time: now; the hub's time replaces that guess once
    before = datetime.now(UTC)
    assert registered_on("bob") >= before - timedelta(seconds=1)
    assert registered_on("bob", created="2025-11-30T10:00:00Z") == utc(2025, 11, 30, 10)
    assert registered_on("bob", created="2026-03-01T00:00:00Z") == utc(2025, 11, 30, 10)


# -- the ledger -------------------------------------------------------------------------------

def test_a_key_is_charged_once(home: Path) -> None:
    assert charge(None, kind=AI_SECONDS, key="job-1", owner="alice", amount=120.4) is True
    # the same job reported again (a retry, a second worker): not charged again
    assert charge(None, kind=AI_SECONDS, key="job-1", owner="alice", amount=500) is False
    assert used("alice", AI_SECONDS) == 120.4  # seconds are charged exactly
    # the same key under another kind is another charge
    assert charge(None, kind=DOWNLOAD_BYTES, key="job-1", owner="alice", amount=10) is True
    assert used("alice", DOWNLOAD_BYTES) == 10 and used("bob", AI_SECONDS) == 0
    with pytest.raises(ValueError, match="unknown quota kind"):
        charge(None, kind="cpu", key="x", owner="alice", amount=1)


def test_charge_joins_the_callers_transaction(home: Path) -> None:
    with pytest.raises(RuntimeError), engine().begin() as db:
        assert charge(db, kind=AI_SECONDS, key="job-2", owner="alice", amount=60) is True
        assert used("alice", AI_SECONDS, connection=db) == 60
        raise RuntimeError("the job's success was not written")
    assert used("alice", AI_SECONDS) == 0  # rolled back with the caller's transaction
    with engine().begin() as db:
        charge(db, kind=AI_SECONDS, key="job-2", owner="alice", amount=60)
    assert used("alice", AI_SECONDS) == 60


def test_charge_creates_its_table_on_the_callers_connection(home: Path) -> None:
    with engine().begin() as db:  # an engine made before the ledger's module was imported
        quota_ledger.drop(db)
    with engine().begin() as db:
        assert charge(db, kind=AI_SECONDS, key="job-3", owner="alice", amount=1) is True
    assert used("alice", AI_SECONDS) == 1


def test_ai_usage_counts_only_this_months_charges(home: Path) -> None:
    registered_on("alice", created="2026-03-10T12:00:00Z")
    for key, at, amount in [("before", utc(2026, 3, 9, 23, 59), 1000),
                            ("first", utc(2026, 3, 10), 100), ("last", utc(2026, 4, 9, 23), 20),
                            ("next", utc(2026, 4, 10), 3)]:
        charge(None, kind=AI_SECONDS, key=key, owner="alice", amount=amount, at=at)
    report = quota_report("alice", now=utc(2026, 3, 20), policy=QuotaPolicy(), storage_used=0)
    assert (report.cycle_start, report.resets) == (utc(2026, 3, 10), utc(2026, 4, 10))
    assert report.ai_seconds_used == 120 and report.ai_seconds_limit == 36000
    assert quota_report("alice", now=utc(2026, 4, 10, 1), storage_used=0).ai_seconds_used == 3
    assert quota_report("alice", now=utc(2026, 3, 1), storage_used=0).ai_seconds_used == 1000


# -- the checks -------------------------------------------------------------------------------

def test_check_ai_refuses_with_the_reset_date(home: Path) -> None:
    registered_on("alice", created="2026-11-03T08:00:00Z")
    now = utc(2026, 11, 20)
    policy = QuotaPolicy(ai=Limit(10 * 3600, users={"bob": 3600}, groups={"lab": 20 * 3600}))
    assert check_ai("alice", now=now, policy=policy) == 36000
    charge(None, kind=AI_SECONDS, key="job-a", owner="alice", amount=9 * 3600,
           at=utc(2026, 11, 5))
    assert check_ai("alice", now=now, policy=policy) == 3600
    charge(None, kind=AI_SECONDS, key="job-b", owner="alice", amount=3600, at=utc(2026, 11, 6))
    with pytest.raises(QuotaExceeded) as refused:
        check_ai("alice", now=now, policy=policy)
    assert str(refused.value) == ("AI analysis quota used up: 10 h of 10 h this month; "
                                  "it resets on 2026-12-03")
    assert refused.value.kind == AI_SECONDS and refused.value.resets == utc(2026, 12, 3)
    # a group with more time lets the same user go on; the next month starts afresh
    assert check_ai("alice", ["lab"], now=now, policy=policy) == 10 * 3600
    assert check_ai("alice", now=utc(2026, 12, 3), policy=policy) == 36000


def test_check_ai_reads_the_environment(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRALAB_AI_QUOTA_USERS", '{"carol": "1min"}')
    charge(None, kind=AI_SECONDS, key="job-c", owner="carol", amount=61)
    with pytest.raises(QuotaExceeded, match="1 min of 1 min"):
        check_ai("carol")
    assert check_ai("dave") == 36000


def test_check_download(home: Path) -> None:
    policy = QuotaPolicy(download=Limit(1000))
    assert check_download("alice", (), 1000, policy=policy) == 1000
    charge(None, kind=DOWNLOAD_BYTES, key="d1", owner="alice", amount=600)
    with pytest.raises(QuotaExceeded, match=r"\(401 bytes\) is more than the 400 bytes left"):
        check_download("alice", (), 401, policy=policy)
    assert check_download("alice", (), 400, policy=policy) == 400
    charge(None, kind=DOWNLOAD_BYTES, key="d2", owner="alice", amount=400)
    with pytest.raises(QuotaExceeded, match="download quota used up") as refused:
        check_download("alice", (), 0, policy=policy)
    assert refused.value.kind == DOWNLOAD_BYTES


def test_download_is_refused_before_a_byte_is_written(home: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    data = home / "catalog" / "scene.tif"  # a catalog asset lies in the catalog's folders
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_bytes(b"x" * 3000)
    item = {"id": "scene", "collection": "demo",
            "assets": {"data": {"href": str(data), "roles": ["data"]}}}
    monkeypatch.setenv("TERRALAB_DOWNLOAD_QUOTA", "5000")
    (first,) = download(item, tmp_path / "one", user="alice")
    assert first.read_bytes() == data.read_bytes()
    assert downloaded_bytes("alice") == 3000
    # 3000 + 3000 > 5000: refused, nothing written, nothing charged
    with pytest.raises(QuotaExceeded, match="resets on") as refused:
        download(item, tmp_path / "two", user="alice")
    assert refused.value.kind == DOWNLOAD_BYTES
    assert not (tmp_path / "two").exists() or not list((tmp_path / "two").iterdir())
    assert downloaded_bytes("alice") == 3000
    # used up: refused even before the asset is opened
    record_download("alice", item, "data", 2000)
    with pytest.raises(QuotaExceeded, match="download quota used up"):
        download(item, tmp_path / "three", user="alice")
    assert not (tmp_path / "three").exists()
    assert downloaded_bytes("alice") == 5000
    assert downloaded_bytes("alice", since=datetime.now(UTC) + timedelta(minutes=1)) == 0


# -- the report, the client API, the command ---------------------------------------------------

def test_report_round_trip_and_text(home: Path) -> None:
    registered_on("alice", created="2026-01-31T08:00:00Z")
    charge(None, kind=AI_SECONDS, key="j", owner="alice", amount=4800, at=utc(2026, 2, 28, 5))
    charge(None, kind=DOWNLOAD_BYTES, key="d", owner="alice", amount=GB, at=utc(2026, 3, 1))
    report = quota_report("alice", ["lab"], now=utc(2026, 3, 2), storage_used=0,
                          policy=QuotaPolicy(download=Limit(10 * GB, groups={"lab": 20 * GB})))
    assert (report.cycle_start, report.resets) == (utc(2026, 2, 28), utc(2026, 3, 31))
    assert report.ai_seconds_used == 4800 and report.ai_seconds_left == 36000 - 4800
    assert (report.download_bytes_used, report.download_bytes_limit) == (GB, 20 * GB)
    assert (report.storage_bytes_used, report.storage_bytes_limit) == (0, 300 * GB)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["resets"] == "2026-03-31T00:00:00+00:00"
    assert data["text"]["AI analysis"] == "1 h 20 min of 10 h (13%)"
    assert QuotaReport.from_dict(data) == report
    text = str(report)
    assert "month 2026-02-28 to 2026-03-30" in text and "reset on 2026-03-31" in text
    assert "1 GB of 20 GB" in text and "8 h 40 min left" in text


def test_quota_in_process_and_command(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRALAB_USER", "erin")
    monkeypatch.setenv("TERRALAB_AI_QUOTA", "5h")
    charge(None, kind=AI_SECONDS, key="job-e", owner="erin", amount=1800)
    report = quota()
    assert report.user == "erin" and report.ai_seconds_used == 1800
    assert report.ai_seconds_limit == 5 * 3600
    assert quota("frank").user == "frank"
    runner = CliRunner()
    shown = runner.invoke(quota_group, ["show"])
    assert shown.exit_code == 0, shown.output
    assert "Quotas of erin" in shown.output and "30 min of 5 h" in shown.output
    as_json = runner.invoke(quota_group, ["show", "--json", "--user", "frank"])
    assert json.loads(as_json.output)["user"] == "frank"


# -- PostgreSQL ---------------------------------------------------------------------------------

def test_ledger_on_postgresql(postgres_url: str, monkeypatch: pytest.MonkeyPatch,
                              tmp_path: Path) -> None:
    pytest.importorskip("psycopg", reason="psycopg is missing: pip install -e '.[pgstac]'")
    monkeypatch.setenv("TERRALAB_HOME", str(tmp_path))
    monkeypatch.setenv("TERRALAB_PLATFORM_DB_URL", postgres_url)
    try:
        assert engine().dialect.name == "postgresql"
        assert registered_on("pg-alice", created="2026-01-31T08:00:00Z") == utc(2026, 1, 31, 8)
        assert registered_on("pg-alice", created="2026-06-01T00:00:00Z") == utc(2026, 1, 31, 8)
        assert charge(None, kind=AI_SECONDS, key="pg-job", owner="pg-alice", amount=3600,
                      at=utc(2026, 2, 28, 1)) is True
        assert charge(None, kind=AI_SECONDS, key="pg-job", owner="pg-alice",
                      amount=3600) is False
        with pytest.raises(RuntimeError), engine().begin() as db:
            assert charge(db, kind=AI_SECONDS, key="pg-job-2", owner="pg-alice", amount=7)
            raise RuntimeError("rolled back")
        with engine().begin() as db:
            assert charge(db, kind=AI_SECONDS, key="pg-job", owner="pg-alice", amount=1) is False
            assert charge(db, kind=DOWNLOAD_BYTES, key="pg-d", owner="pg-alice",
                          amount=5 * 1024**4, at=utc(2026, 3, 1)) is True
        report = quota_report("pg-alice", now=utc(2026, 3, 1), storage_used=0)
        assert (report.cycle_start, report.resets) == (utc(2026, 2, 28), utc(2026, 3, 31))
        assert report.ai_seconds_used == 3600 and report.download_bytes_used == 5 * 1024**4
        with pytest.raises(QuotaExceeded, match="resets on 2026-03-31"):
            check_download("pg-alice", now=utc(2026, 3, 1))
        with engine().connect() as db:
            assert db.execute(sa.select(sa.func.count()).select_from(quota_ledger)
                              .where(quota_ledger.c.owner == "pg-alice")).scalar() == 2
    finally:
        dispose_engines()
