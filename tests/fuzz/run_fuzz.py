"""Fuzz the upload checks with atheris (libFuzzer), one fresh process per format.

``make fuzz`` runs ``python -m tests.fuzz.run_fuzz``: for each format (``tif``, ``img``,
``zip``, ``shp``; see :data:`tests.fuzz.upload_harness.FORMATS`) it writes the seed corpus
from the real samples into ``<out>/<format>/seeds/`` and starts a child process that fuzzes
:func:`tests.fuzz.upload_harness.check_upload` with only terralab's own modules instrumented
(GDAL runs natively). The child stops after ``--runs`` executions or ``--seconds`` seconds,
whichever comes first. A finding is:

* an exception other than a user-facing refusal (the hub service would answer 500);
* a hang: one input running longer than ``--timeout`` seconds;
* a native crash (a signal in GDAL, PROJ, GEOS …) or more memory than ``--rss-mb``.

libFuzzer saves the input of each finding under ``<out>/<format>/crashes/`` (``crash-*``,
``timeout-*``, ``oom-*``), which survives a native crash since the child is its own process;
libFuzzer stops at a finding, so a new child goes on with the time and executions left
(``--max-restarts`` times at most) and a run records every finding, not only the first.
The corpus it grows stays in ``<out>/<format>/corpus/`` for the next run; each child's log
is ``<out>/<format>/fuzz.log`` and the executions, seconds and findings of the whole run go
to ``<out>/summary.json``. The exit status is 1 when anything was found.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

__all__ = ["main"]

_FORMATS = ("tif", "img", "zip", "shp")
_DICTIONARY = [  # tokens worth splicing into headers: magics, TIFF tags, zip records
    r"II*\x00", r"MM\x00*", r"II+\x00", r"EHFA_HEADER_TAG", r"Eimg_Layer", r"Edms_State",
    r"Eprj_ProParameters", r"Emif_String", r"PK\x03\x04", r"PK\x01\x02", r"PK\x05\x06",
    r"PK\x06\x06", r"PK\x06\x07", r"\x00\x01", r"\x01\x01", r"\x02\x01", r"\x03\x01",
    r"\x11\x01", r"\x15\x01", r"\x16\x01", r"\x17\x01", r"\x1c\x01", r"\x42\x01",
    r"\x43\x01", r"\x44\x01", r"\x45\x01", r"\x53\x01", r"\x0e\x83", r"\x82\x84",
    r"\xaf\x87", r"\xb0\x87", r"\xb1\x87", r"\xff\xff\xff\xff", r"\xff\xff",
    r"\x00\x00\x00\x80", r"\xff\xff\xff\x7f",
]
_EXECUTED = re.compile(r"stat::number_of_executed_units: *(\d+)")
_STATUS = re.compile(r"^#(\d+)\s", re.MULTILINE)


def _scratch(fmt: str) -> Path:
    """A new scratch folder for one child's inputs, in memory where there is /dev/shm."""
    shm = Path("/dev/shm")
    return Path(tempfile.mkdtemp(prefix=f"terralab-fuzz-{fmt}-",
                                 dir=shm if shm.is_dir() else None))


def _worker(fmt: str, libfuzzer_args: list[str], outcomes: Path | None,
            scratch: Path | None) -> None:
    """Fuzz one format in this process (only terralab's modules instrumented)."""
    import atheris

    with atheris.instrument_imports(include=["terralab"]):
        from tests.fuzz import upload_harness
    work = (scratch or _scratch(fmt)) / "input"
    counts: Counter[str] = Counter()

    def one_input(data: bytes) -> None:
        counts[upload_harness.check_upload(data, fmt, work)] += 1
        if outcomes is not None and counts.total() % 200 == 0:  # libFuzzer exits without notice
            outcomes.write_text(json.dumps(counts))

    atheris.Setup([sys.argv[0], *libfuzzer_args], one_input)
    atheris.Fuzz()


def _fuzz_format(fmt: str, out: Path, args: argparse.Namespace) -> dict:
    """Fuzz one format in a child process; return what it did and found."""
    from tests.fuzz.upload_harness import write_seeds

    folder = out / fmt
    seeds, corpus, crashes = folder / "seeds", folder / "corpus", folder / "crashes"
    for path in (corpus, crashes):
        path.mkdir(parents=True, exist_ok=True)
    for old in seeds.glob("*"):
        old.unlink()
    seed_files = write_seeds(fmt, seeds)
    dictionary = folder / "tokens.dict"
    dictionary.write_text("".join(f'"{token}"\n' for token in _DICTIONARY))
    before = {path.name for path in crashes.iterdir()}
    log = folder / "fuzz.log"
    log.write_text("")
    runs, started, codes = 0, time.monotonic(), []
    while len(codes) < args.max_restarts + 1:
        left = args.seconds - (time.monotonic() - started)
        if runs >= args.runs or left < 1:
            break
        flags = [f"-runs={args.runs - runs}", f"-max_total_time={int(left)}",
                 f"-timeout={args.timeout}", f"-rss_limit_mb={args.rss_mb}",
                 f"-max_len={max(path.stat().st_size for path in seed_files) * 2}",
                 f"-artifact_prefix={crashes}/", f"-dict={dictionary}", "-print_final_stats=1",
                 str(corpus), str(seeds)]
        outcomes, scratch = folder / f"outcomes-{len(codes)}.json", _scratch(fmt)
        command = [sys.executable, "-m", "tests.fuzz.run_fuzz", "--worker", fmt,
                   "--outcomes", str(outcomes), "--scratch", str(scratch), "--", *flags]
        try:
            with log.open("a") as stream:
                stream.write(f"\n### {' '.join(command)}\n")
                stream.flush()
                codes.append(subprocess.call(command, stdout=stream, stderr=subprocess.STDOUT,
                                             env={**os.environ, "PYTHONHASHSEED": "0"}))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        text = log.read_text(errors="replace").rsplit("\n### ", 1)[-1]
        executed = _EXECUTED.findall(text) or _STATUS.findall(text)
        runs += int(executed[-1]) if executed else 0
        if codes[-1] == 0:  # ran out of runs or time without a finding
            break
    found = sorted(path.name for path in crashes.iterdir() if path.name not in before)
    outcomes_seen: Counter[str] = Counter()
    for path in folder.glob("outcomes-*.json"):
        outcomes_seen.update(json.loads(path.read_text()))
        path.unlink()
    return {"format": fmt, "executions": runs,
            "seconds": round(time.monotonic() - started, 1), "exit_statuses": codes,
            "findings": found, "outcomes": dict(outcomes_seen.most_common()),
            "seeds": [p.name for p in seed_files],
            "corpus_size": len(list(corpus.iterdir())), "log": str(log)}


def main(argv: list[str] | None = None) -> int:
    """Run the fuzzer (or, with ``--worker``, be one format's child process)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formats", nargs="+", choices=_FORMATS, default=list(_FORMATS))
    parser.add_argument("--seconds", type=int, default=600, help="most seconds per format")
    parser.add_argument("--runs", type=int, default=100_000, help="most executions per format")
    parser.add_argument("--timeout", type=int, default=10, help="seconds one input may run")
    parser.add_argument("--rss-mb", type=int, default=4096, help="most memory, MB")
    parser.add_argument("--max-restarts", type=int, default=20,
                        help="how often to go on after a finding (libFuzzer stops at one)")
    parser.add_argument("--out", type=Path, default=Path("var/fuzz"))
    parser.add_argument("--worker", choices=_FORMATS, help=argparse.SUPPRESS)
    parser.add_argument("--outcomes", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    if args.worker:
        _worker(args.worker, [arg for arg in rest if arg != "--"], args.outcomes, args.scratch)
        return 0
    results = []
    for fmt in args.formats:
        result = _fuzz_format(fmt, args.out, args)
        results.append(result)
        print(f"{fmt}: {result['executions']:,} executions in {result['seconds']:.0f} s, "
              f"findings: {result['findings'] or 'none'}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(results, indent=2) + "\n")
    return 1 if any(r["findings"] or any(r["exit_statuses"]) for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
