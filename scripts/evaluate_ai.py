"""Measure the AI tools on labelled data and write the quality report (``docs/ai-quality.md``).

Usage: ``python scripts/evaluate_ai.py [TOOL …] [--real-data FOLDER] [--out FILE]`` (default:
every AI tool, the real samples of ``../shared/data/real``, the report of the checkout). The
measurements are those of :mod:`ai_quality` (this folder); they write a demo region with the
demo generator, which is why they live beside the package rather than in it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ai_quality import evaluate, write_report

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Run the measurements and write the report; the progress goes to stderr."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tools", nargs="*", help="AI tools (default: all)")
    parser.add_argument("--real-data", type=Path, default=None,
                        help="the real samples folder (default: ../shared/data/real)")
    parser.add_argument("--out", type=Path, default=None,
                        help="the report (default: docs/ai-quality.md of the checkout)")
    args = parser.parse_args(argv)
    try:
        rows = evaluate(args.tools or None, real_data=args.real_data,
                        progress=lambda text: print(text, file=sys.stderr))
    except ValueError as error:
        parser.error(str(error))
    target = write_report(rows, args.out)
    print(f"{len(rows)} measurements → {target}")


if __name__ == "__main__":
    main()
