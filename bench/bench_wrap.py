"""Wrapping benchmark: `ecdigest show` and `export email` stay linear in hostile bodies.

A body that is one run of unbreakable marks (`（` may not end a line, so every one glues
to the next) once cost minutes: 6 MB took 193 s in `show`. This times, as whole
processes on a generated archive, `ecdigest show` and `ecdigest export email` for bodies
of 1, 2, 4 and 8 MB of `（` (and of `（ `, marks with spaces between them), and prints the
medians and the cost per MB: linear means the per-MB column stays flat as the size doubles.

    python bench/bench_wrap.py [--runs 3] [--write]

`--write` replaces the `## Wrapping` section of bench/RESULTS.md (other sections are kept).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import clean_env, ecdigest_exe, machine, write_section

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "RESULTS.md"
SECTION = "## Wrapping"
SIZES_MB = (1, 2, 4, 8)
UNITS = {"（": "`（` run", "（ ": "`（ ` (with spaces)"}


def make_archive(root: Path, unit: str, megabytes: int) -> None:
    from ecdigest.codec import encode_settings
    from ecdigest.model import Newsletter

    root.mkdir(parents=True)
    (root / "ecdigest.toml").write_text(encode_settings(Newsletter()), "utf-8")
    count = megabytes * 1024 * 1024 // len(unit.encode("utf-8"))
    body = unit * count
    (root / "big.toml").write_text(
        'id = "big"\ntitle = "t"\ndate = 2023-06-05\nstatus = "published"\n\n[[articles]]\n'
        'id = "big-001"\nsection = "行业资讯"\ntitle = "t"\nsource = "《x》"\ndate = 2023-06-01\n'
        f'body = "{body}"\n',
        "utf-8",
    )


def time_once(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    if result.returncode != 0:
        sys.exit(f"bench_wrap: {' '.join(argv)} failed: {result.stderr.decode()[-300:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="update the Wrapping section of RESULTS.md")
    args = parser.parse_args()
    exe = ecdigest_exe()
    env = clean_env(ECDIGEST_NOW="2023-07-10T09:00:00+08:00")
    work = Path(tempfile.mkdtemp(prefix="ecdigest-bench-wrap-"))
    rows: list[str] = []
    try:
        for unit, label in UNITS.items():
            for size in SIZES_MB:
                root = work / f"{len(unit)}-{size}"
                make_archive(root, unit, size)
                for command in (["show", "big", "--width", "72"], ["export", "email", "big"]):
                    argv = [*exe, "--archive", str(root), *command]
                    median = statistics.median(time_once(argv, env) for _ in range(args.runs))
                    rows.append(
                        f"| {label} | {size} MB | `ecdigest {' '.join(command[:2])}` | {median:.2f} s | "
                        f"{median / size:.2f} s |"
                    )
                    print(rows[-1], flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()[0]
    lines = [
        SECTION,
        "",
        f"Measured {dt.date.today().isoformat()} on {machine()}; load average {load:.2f} (the machine is shared).",
        f"`python bench/bench_wrap.py --runs {args.runs}`: whole processes, median of {args.runs} runs, on an "
        "archive whose one article's body is a single run of the unit, stdout to /dev/null. "
        "Target: linear (the per-MB column flat while the size doubles); before the fix 6 MB of `（` "
        "took 193 s in `show` and 262 s in `build` (issue 10).",
        "",
        "| body | size | command | median | per MB |",
        "|---|---:|---|---:|---:|",
        *rows,
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
