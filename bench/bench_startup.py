"""Start-up benchmark: how long `ecdigest` takes to start, against `python -c pass`.

A tool that cron and shells start hundreds of times a day is mostly start-up. This runs,
interleaved round-robin so machine noise hits every command alike:

    python -c pass                       the floor: the interpreter and site alone
    ecdigest --version                   target: within 3x of the floor
    ecdigest --help
    ecdigest list   (the shipped archive) target: within 4x of the floor
    ecdigest show 2023-06                 one issue, wrapped (the launcher answers it, as list)
    ecdigest search 跨境 (warm index, a copy of the shipped archive)

and reports medians of N runs (default 25) and their ratios to the floor. With
`--typer029 PYTHON` (a Python whose environment has typer 0.29 and our other dependencies,
not ecdigest itself) it also times a no-op Typer command and `python -m ecdigest show`
under both typer versions, the measurement behind the `typer<0.29` pin in pyproject.toml.

    python bench/bench_startup.py [--runs 25] [--typer029 /tmp/t29/bin/python] [--write]

`--write` replaces the `## Start-up` section of bench/RESULTS.md (other sections are kept).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import clean_env, ecdigest_exe, machine, write_section

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "issues"
RESULTS = REPO / "bench" / "RESULTS.md"
SECTION = "## Start-up"
NOOP_APP = (
    "import typer\n"
    "app = typer.Typer(add_completion=False)\n"
    "@app.command()\n"
    "def noop() -> None:\n"
    "    pass\n"
    "app()\n"
)


def time_once(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"bench_startup: {' '.join(argv)} failed: {result.stderr.decode()[-300:]}")
    return elapsed


def measure(cases: dict[str, tuple[list[str], dict[str, str]]], runs: int) -> dict[str, float]:
    """Median seconds per case, the cases interleaved round-robin after one warm-up each."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for argv, env in cases.values():
        time_once(argv, env)  # warm the page cache, the .pyc files and the search index
    for _ in range(runs):
        for name, (argv, env) in cases.items():
            samples[name].append(time_once(argv, env))
    return {name: statistics.median(values) for name, values in samples.items()}


def typer_version(python: str) -> str:
    result = subprocess.run(
        [python, "-c", "import typer; print(typer.__version__)"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument(
        "--typer029", metavar="PYTHON", help="a Python with typer 0.29 (for the side-by-side)"
    )
    parser.add_argument(
        "--write", action="store_true", help="update the Start-up section of bench/RESULTS.md"
    )
    args = parser.parse_args()

    exe = ecdigest_exe()
    env = clean_env()
    work = Path(tempfile.mkdtemp(prefix="ecdigest-bench-"))
    try:
        archive = work / "archive"
        shutil.copytree(SHIPPED, archive, ignore=shutil.ignore_patterns(".ecdigest"))
        cases = {
            "python -c pass": ([sys.executable, "-c", "pass"], env),
            "ecdigest --version": ([*exe, "--version"], env),
            "ecdigest --help": ([*exe, "--help"], env),
            "ecdigest list": ([*exe, "--archive", str(SHIPPED), "list"], env),
            "ecdigest show 2023-06": ([*exe, "--archive", str(SHIPPED), "show", "2023-06"], env),
            "ecdigest search 跨境": ([*exe, "--archive", str(archive), "search", "跨境"], env),
        }
        pypath = clean_env(PYTHONPATH=str(REPO))
        side: dict[str, tuple[list[str], dict[str, str]]] = {}
        if args.typer029:
            noop = work / "noop.py"
            noop.write_text(NOOP_APP, "utf-8")
            for label, python in (("current", sys.executable), ("0.29", args.typer029)):
                side[f"{label}: python -c pass"] = ([python, "-c", "pass"], pypath)
                side[f"{label}: no-op typer command"] = ([python, str(noop)], pypath)
                side[f"{label}: python -m ecdigest show 2023-06"] = (
                    [python, "-m", "ecdigest", "--archive", str(SHIPPED), "show", "2023-06"],
                    pypath,
                )
        medians = measure({**cases, **side}, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    floor = medians["python -c pass"]
    targets = {"ecdigest --version": 3.0, "ecdigest list": 4.0}
    lines = [
        SECTION,
        "",
        f"Measured {dt.date.today().isoformat()} on {machine()}; typer {typer_version(sys.executable)}.",
        f"`python bench/bench_startup.py --runs {args.runs}"
        + (" --typer029 PYTHON" if args.typer029 else "")
        + "`: medians of "
        f"{args.runs} runs each, all commands interleaved round-robin in one run (the machine is "
        "shared and noisy: compare ratios, not absolute times). The installed console script, "
        "stdout to /dev/null (not a terminal).",
        "",
        "| command | median | × `python -c pass` | target |",
        "|---|---:|---:|---|",
    ]
    for name in cases:
        ratio = medians[name] / floor
        target = targets.get(name)
        verdict = "" if target is None else f"≤ {target:.0f}× {'met' if ratio <= target else 'MISSED'}"
        lines.append(f"| `{name}` | {medians[name] * 1000:.1f} ms | {ratio:.2f} | {verdict} |")
    if side:
        lines += [
            "",
            f"Typer side by side (`python -m ecdigest` from the source tree in both environments; typer "
            f"{typer_version(sys.executable)} here, {typer_version(args.typer029 or '')} in the other):",
            "",
            "| command | current typer | typer 0.29 | difference |",
            "|---|---:|---:|---:|",
        ]
        for what in ("python -c pass", "no-op typer command", "python -m ecdigest show 2023-06"):
            now, new = medians[f"current: {what}"], medians[f"0.29: {what}"]
            lines.append(
                f"| `{what}` | {now * 1000:.1f} ms | {new * 1000:.1f} ms | {(new - now) * 1000:+.1f} ms |"
            )
    lines += [
        "",
        "How the targets were reached (`python -X importtime`): importing Typer (vendored click, "
        "shellingham, inspect, subprocess...) and building the app cost ~60 ms, more than "
        "anything `--version` or `list` does, so `ecdigest --version` and a plain `ecdigest "
        "list` off a terminal are answered by `ecdigest/launcher.py` without Typer, with the "
        "Typer command's own code (`listing.py`, `terminal.py`); `search` goes the same way, "
        "from one option table. Temp-file names no longer import `secrets` (hashlib, hmac, "
        "random: ~5 ms). Still in the floor: the editable install's site hook (pathlib, urllib).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
