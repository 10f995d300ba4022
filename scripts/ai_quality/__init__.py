"""The quality report of the AI tools: every AI tool measured on labelled data, written up honestly.

Each tool with a module here (``evaluate(real_data, work) -> rows``) is run on the demo
region's labels (the demo generator, :mod:`terralab.demo`, which shipped code does not use)
and on the real samples that have labels; a deep tool without an installed model is listed
as not measured. The report (``docs/ai-quality.md``) has one table per tool, what each
number is measured against, and the raw rows as JSON beside it (``docs/ai-quality.json``).
Run it with ``python scripts/evaluate_ai.py [TOOL …]``; the scores are those of
:mod:`terralab.ai.metrics`.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from terralab.home import checkout_root

__all__ = ["evaluate", "quality_modules", "write_report"]


def quality_modules() -> dict[str, Any]:
    """The quality modules by tool name."""
    return {info.name: importlib.import_module(f"{__name__}.{info.name}")
            for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")}


def _default_real_data() -> Path | None:
    root = checkout_root()
    candidate = (root.parent if root else Path.cwd()) / "shared" / "data" / "real"
    return candidate if candidate.is_dir() else None


def evaluate(tools: list[str] | None = None, *, real_data: Path | None = None,
             progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Measure ``tools`` (default: every AI tool) and return the rows.

    Rows: ``{"tool", "dataset", "metric", "value", "reference", "notes"}``; a tool that
    cannot be measured (no model installed) gets one row with ``value`` None and why.
    """
    from terralab.ai.models import list_models
    from terralab.tools.registry import default_registry

    registry = default_registry()
    ai_tools = [name for name in registry if registry[name].info.kind == "ai"]
    chosen = tools or ai_tools
    unknown = [name for name in chosen if name not in ai_tools]
    if unknown:
        raise ValueError(f"not AI tools: {', '.join(unknown)}; AI tools: {', '.join(ai_tools)}")
    real_data = real_data or _default_real_data()
    modules = quality_modules()
    rows: list[dict[str, Any]] = []
    for name in chosen:
        report = progress or (lambda text: None)
        if name not in modules:
            installed = list_models(name)
            why = ("no quality data set for this model yet" if installed else
                   "no model installed: a deep tool, its model comes with a later release")
            rows.append({"tool": name, "dataset": "-", "metric": "-", "value": None,
                         "reference": "-", "notes": why})
            report(f"{name}: not measured ({why})")
            continue
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"terralab-eval-{name}-") as work:
            found = modules[name].evaluate(real_data, Path(work))
        for row in found:
            row.setdefault("tool", name)
        rows.extend(found)
        report(f"{name}: {len(found)} measurements in {time.monotonic() - started:.0f} s")
    return rows


def _value(value: Any) -> str:
    if value is None:
        return "not measured"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)


def write_report(rows: list[dict[str, Any]], out: Path | None = None) -> Path:
    """Write ``rows`` as ``docs/ai-quality.md`` (and the JSON beside it); returns the path."""
    root = checkout_root() or Path.cwd()
    out = out or root / "docs" / "ai-quality.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# AI quality report", "",
             "Written by `python scripts/evaluate_ai.py` on "
             f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC. "
             "Each number says what it is measured against; synthetic references (the demo "
             "region, added haze) and optical references for SAR are named as such. The raw "
             f"rows are in `{out.with_suffix('.json').name}`.", ""]
    for tool in dict.fromkeys(row["tool"] for row in rows):
        lines += [f"## {tool}", "", "| data set | metric | value | measured against | notes |",
                  "|---|---|---|---|---|"]
        for row in (r for r in rows if r["tool"] == tool):
            notes = str(row.get("notes") or "").replace("|", "/").replace("\n", " ")
            lines.append(f"| {row.get('dataset', '')} | {row.get('metric', '')} | "
                         f"{_value(row.get('value'))} | {row.get('reference', '')} | {notes} |")
        lines.append("")
    out.write_text("\n".join(lines))
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1, default=str))
    return out
