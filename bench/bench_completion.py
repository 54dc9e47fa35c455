"""Completion benchmark: one Tab (`ecdigest __complete …`) against `python -c pass` and `list`.

The shell runs `ecdigest __complete SHELL INDEX -- WORDS…` on every Tab, so it must feel
instant. This times, interleaved round-robin so machine noise hits every command alike:

    python -c pass                          the floor
    ecdigest list                           the launcher's fast path (target 4x the floor)
    complete a command name                 `ecdigest sh<Tab>`: no archive at all
    complete an article id                  `ecdigest show 2023-06-0<Tab>`, the shipped archive
    complete an article id, 1,000 issues    the same on bench/gen_archive.py's archive
    the same through Typer                  ECDIGEST_DEBUG=1 (what the fast path saves)

and reports medians (default 25 runs) and their ratios to the floor. Target: a completion
no slower than the `list` fast path on the same archive (within 25%): both open the
archive and its catalog, which is the work a Tab cannot skip.

    python bench/bench_completion.py [--runs 25] [--issues 1000] [--write]

`--write` replaces the `## Completion` section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import clean_env, ecdigest_exe, machine, write_section
from bench_startup import measure

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "issues"
RESULTS = REPO / "bench" / "RESULTS.md"
SECTION = "## Completion"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--issues", type=int, default=1000, help="issues in the large archive (0: skip it)")
    parser.add_argument(
        "--write", action="store_true", help="update the Completion section of bench/RESULTS.md"
    )
    args = parser.parse_args()
    exe = ecdigest_exe()
    env = clean_env()
    work = Path(tempfile.mkdtemp(prefix="ecdigest-bench-completion-"))
    try:
        small = work / "shipped"
        shutil.copytree(SHIPPED, small, ignore=shutil.ignore_patterns(".ecdigest"))

        def tab(archive: Path, *words: str) -> list[str]:
            return [*exe, "__complete", "bash", str(len(words) + 1), "--", "-a", str(archive), *words]

        cases: dict[str, tuple[list[str], dict[str, str]]] = {
            "python -c pass": ([sys.executable, "-c", "pass"], env),
            "ecdigest list": ([*exe, "--archive", str(small), "list"], env),
            "ecdigest sh<Tab>": ([*exe, "__complete", "bash", "0", "--", "sh"], env),
            "ecdigest show 2023-06-0<Tab>": (tab(small, "show", "2023-06-0"), env),
            "the same through Typer": (tab(small, "show", "2023-06-0"), clean_env(ECDIGEST_DEBUG="1")),
        }
        large_note = ""
        if args.issues:
            large = work / "large"
            subprocess.run(
                [
                    sys.executable,
                    str(REPO / "bench" / "gen_archive.py"),
                    str(large),
                    "--issues",
                    str(args.issues),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            ids = subprocess.run(
                [*exe, "__complete", "bash", "3", "--", "-a", str(large), "validate", ""],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            issue = ids[len(ids) // 2]
            cases[f"{args.issues} issues: ecdigest list"] = ([*exe, "--archive", str(large), "list"], env)
            cases[f"{args.issues} issues: show {issue}-0<Tab>"] = (tab(large, "show", f"{issue}-0"), env)
            cases[f"{args.issues} issues: mv <Tab> (narrows to issues)"] = (tab(large, "mv", ""), env)
            large_note = (
                f" The large archive: `bench/gen_archive.py --issues {args.issues}` (55 articles each)."
            )
        load_before = os.getloadavg()[0]
        medians = measure(cases, args.runs)
        load = max(load_before, os.getloadavg()[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    floor = medians["python -c pass"]
    lines = [
        SECTION,
        "",
        f"Measured {dt.date.today().isoformat()} on {machine()}; load average up to {load:.1f} "
        "(other jobs on the machine).",
        f"`python bench/bench_completion.py --runs {args.runs} --issues {args.issues}`: medians of {args.runs} "
        "runs each, interleaved round-robin in one run; the installed console script, as the "
        "shells' scripts run it (`ecdigest __complete bash INDEX -- WORDS…`), warm catalog." + large_note,
        "",
        "| command | median | × `python -c pass` | × `list` on the same archive | target: ≤ 1.25× `list` |",
        "|---|---:|---:|---:|---|",
    ]
    for name, seconds in medians.items():
        large_case = name.startswith(f"{args.issues} issues")
        same_list = (
            medians[f"{args.issues} issues: ecdigest list"] if large_case else medians["ecdigest list"]
        )
        versus = seconds / same_list
        judged = "<Tab>" in name and not name.startswith("the same")
        verdict = f"{'met' if versus <= 1.25 else 'MISSED'}" if judged else ""
        lines.append(
            f"| `{name}` | {seconds * 1000:.1f} ms | {seconds / floor:.2f} | {versus:.2f} | {verdict} |"
        )
    lines += [
        "",
        "A Tab is answered by the launcher (`ecdigest/launcher.py`) from `completion.py`: the "
        "command line's shape from `ecdigest/data/completion.json` (generated from the Typer app, "
        "checked by tests/test_completion.py), the archive's ids, sections and sources from the "
        "catalog; Typer is never imported. Past 60 article ids the issues are offered first "
        "(`2023-06-`), so a Tab never prints thousands of lines.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
