"""The monthly quota traitlets of the hub and the settings they give the service."""

from __future__ import annotations

import pytest
from traitlets import TraitError
from traitlets.config import Config, LoggingConfigurable

from terralab.hub.quota_settings import QuotaSettings
from terralab.quotas.policy import QuotaPolicy
from terralab.settings import QuotaSettings as Quotas


class Hub(QuotaSettings, LoggingConfigurable):
    """How TerralabHub mixes the settings in."""


def test_defaults_give_the_default_policy() -> None:
    values = Hub().quota_settings()
    assert values["ai"] == 36000
    assert values["download"] == 100 * 1024**3
    policy = QuotaPolicy.from_settings(Quotas.model_validate(values))
    assert policy.ai == QuotaPolicy().ai and policy.download == QuotaPolicy().download


def test_config_file_values_reach_the_policy() -> None:
    c = Config()
    c.Hub.ai_quota = "90min"
    c.Hub.ai_quota_users = {"alice": "20h"}
    c.Hub.ai_quota_groups = {"lab": 7200}
    c.Hub.download_quota = "1GB"
    c.Hub.download_quota_groups = {"lab": "2GB"}
    policy = QuotaPolicy.from_settings(Quotas.model_validate(Hub(config=c).quota_settings()))
    assert policy.limits_for("alice", ["lab"]).ai_seconds == 20 * 3600
    assert policy.limits_for("bob", ["lab"]).ai_seconds == 7200
    assert policy.limits_for("bob").ai_seconds == 5400
    assert policy.limits_for("bob", ["lab"]).download_bytes == 2 * 1024**3
    assert policy.limits_for("bob").download_bytes == 1024**3


@pytest.mark.parametrize(("trait", "value", "message"), [
    ("ai_quota", "ten hours", "ai_quota: not a duration"),
    ("ai_quota_users", {"alice": "lots"}, "ai_quota_users\\['alice'\\]"),
    ("download_quota", "100 parsecs", "download_quota: not a size"),
    ("download_quota_groups", {"lab": "x"}, "download_quota_groups\\['lab'\\]"),
])
def test_bad_values_are_refused_with_the_trait_name(trait: str, value: object,
                                                    message: str) -> None:
    with pytest.raises(TraitError, match=message):
        Hub(**{trait: value})
