"""The quality report of the AI tools (scripts/evaluate_ai.py, scripts/ai_quality/).

The measurements write a demo region with the demo generator, so they live in the
checkout's scripts, not in the package; here the report's frame: a deep tool without a
model is listed as not measured, and a tool that is no AI tool is refused.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


@pytest.fixture
def ai_quality(tmp_path, monkeypatch):
    """The ``ai_quality`` package of the scripts, and a fresh ``TERRALAB_HOME``."""
    monkeypatch.setenv("TERRALAB_HOME", str(tmp_path / "home"))
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import ai_quality

    return ai_quality


def test_the_quality_report_lists_unmeasured_deep_tools_honestly(ai_quality, tmp_path):
    assert set(ai_quality.quality_modules()) == {"change_detection", "dehazing", "land_cover",
                                                  "sar_water"}
    rows = ai_quality.evaluate(["building_extraction", "dam_extraction"])
    assert [r["value"] for r in rows] == [None, None]
    assert all("no model installed" in r["notes"] for r in rows)
    report = ai_quality.write_report(rows, tmp_path / "docs" / "ai-quality.md")
    text = report.read_text()
    assert "## building_extraction" in text and "not measured" in text
    assert "Written by `python scripts/evaluate_ai.py`" in text
    assert json.loads(report.with_suffix(".json").read_text()) == rows
    with pytest.raises(ValueError, match="not AI tools: index"):
        ai_quality.evaluate(["index"])


def test_the_script_writes_the_report_and_refuses_other_tools(tmp_path):
    env = {"TERRALAB_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    out = tmp_path / "report.md"
    done = subprocess.run([sys.executable, str(SCRIPTS / "evaluate_ai.py"), "dam_extraction",
                           "--out", str(out)], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "1 measurements" in done.stdout and "## dam_extraction" in out.read_text()
    refused = subprocess.run([sys.executable, str(SCRIPTS / "evaluate_ai.py"), "index"],
                             capture_output=True, text=True, env=env, timeout=300)
    assert refused.returncode == 2 and "not AI tools: index" in refused.stderr
