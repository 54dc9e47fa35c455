"""Issue 11's targets, measured side by side at several archive sizes (default 100, 1,000, 3,000).

    python bench/bench_scale.py [--sizes 100,1000,3000] [--runs 7] [--keep DIR] [--write]

For each size: a realistic archive (bench/gen_archive.py, kept under --keep between runs,
copied before every run since `add` writes to it), then

1. cold: `list` with no catalog (the catalog's build) and `search` with no index (the
   index's build), several times each;
2. warm, interleaved round-robin so that the shared machine's noise falls on every command
   alike: the floor `python -c pass`, the start-up commands, `list`, `show`, `validate
   ISSUE`, and every search query shape next to `rg -l` for the same terms;
3. writers and long commands, each interleaved with the floor: `add`, `validate` of the
   whole archive;
4. peak memory (max RSS, /usr/bin/time; a cold build with its worker processes summed).

Every number is a median of whole-process wall times; ratios divide by the floor (or by
`rg -l`) measured in the same rounds. `ecdigest` runs as users get it: a plain venv with
the repository on its path and bytecode caches (bench_search.release_env).

Extending it (the web archive will add `build`): append a `Case` to CASES with its argv
(a function of the run's paths), the phase it belongs to, and its target; the tables and
the growth table pick it up. `--write` replaces the `## Scale` section of bench/RESULTS.md.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from _results import write_section  # noqa: E402
from bench_search import Run, age, child_env, machine, peak_rss_kb, release_env, run  # noqa: E402

RESULTS = BENCH / "RESULTS.md"
NOW = "2024-01-01T09:00:00+08:00"  # the generated archive's last issue is dated 2023-12-25


@dataclass
class Paths:
    """What a case's argv is made of."""

    exe: str
    python: str
    root: Path
    issue: str  # a published issue in the middle of the archive
    draft: str  # the newest draft


@dataclass
class Case:
    name: str
    argv: Callable[[Paths], list[str]]
    phase: str  # "warm", "add", "validate"
    baseline: str = "python"  # "python", or "rg" (`rg -l` for the search's terms)
    target: float | None = None  # ratio to the baseline, at 1,000 issues
    target_note: str = ""
    before: Callable[[Paths], None] | None = None  # run before each timed run (not timed)


def _e(*args: str) -> Callable[[Paths], list[str]]:
    return lambda p: [
        p.exe,
        "--archive",
        str(p.root),
        *[a.format(issue=p.issue, draft=p.draft) for a in args],
    ]


SEARCHES = [
    ("1 character, common", ["网"], None),
    ("2 characters, common", ["直播"], None),
    ("4 characters, common", ["跨境电商"], None),
    ("2 characters, rare", ["首彩"], 1.0),
    ("3 characters, rare", ["担秀位"], 1.0),
    ("4 characters, rare", ["迭排逐区"], 1.0),
    (
        "two terms, section and date filters",
        ["数字", "经济", "--section", "行业资讯", "--since", "2015-01-01"],
        None,
    ),
]

CASES: list[Case] = [
    Case("python -c pass", lambda p: [p.python, "-c", "pass"], "warm"),
    Case("ecdigest --version", lambda p: [p.exe, "--version"], "warm", target=4),
    Case("ecdigest --help", lambda p: [p.exe, "--help"], "warm", target=3),
    Case("ecdigest list", _e("list"), "warm", target=4),
    Case("ecdigest list -f json", _e("list", "-f", "json"), "warm"),
    Case("ecdigest show ISSUE", _e("show", "{issue}"), "warm", target=4),
    Case("ecdigest validate ISSUE", _e("validate", "{issue}"), "warm", target=20),
    *(
        Case(
            f"search: {label}",
            _e("search", *words),
            "warm",
            baseline="rg",
            target=target if target is not None else 2.0,
        )
        for label, words, target in SEARCHES
    ),
    Case(
        "ecdigest add (one article to the newest draft)",
        _e(
            "add",
            "--title",
            "基准测试稿件",
            "--section",
            "行业资讯",
            "--source",
            "《人民日报》",
            "--date",
            "2023-12-20",
            "--body",
            "基准测试的正文。\n\n第二段。",
        ),
        "add",
        target=8,
    ),
    # The warm rows above repeat a command, so `show` and `list` print what they kept
    # (rendered.py); these two render again: an issue was edited just before each run.
    Case(
        "ecdigest show ISSUE (just edited: rendered again)",
        _e("show", "{issue}"),
        "add",
        before=lambda p: _touch_issue(p),
    ),
    Case(
        "ecdigest list (an issue just edited: rendered again)",
        _e("list"),
        "add",
        before=lambda p: _touch_issue(p),
    ),
    Case("ecdigest validate (whole archive)", _e("validate"), "validate", target=400),
    Case(
        "ecdigest validate (whole archive, one issue edited)",
        _e("validate"),
        "validate",
        before=lambda p: _touch_issue(p),
    ),
]


def _touch_issue(paths: Paths) -> None:
    """Change one published issue's bytes (a comment line at its end): its file is checked
    again and the cross-issue answers computed again."""
    path = next(paths.root.rglob(f"{paths.issue}.toml"))
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"# bench {time.perf_counter_ns()}\n")


SEARCH_TERMS = {
    label: [w for w in words if not w.startswith("-")][: 2 if "two" in label else 1]
    for label, words, _ in SEARCHES
}


@dataclass
class SizeResult:
    size: int
    files: int
    articles: int
    toml_bytes: int
    catalog_bytes: int = 0
    index_bytes: int = 0
    medians: dict[str, float] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    baselines: dict[str, float] = field(default_factory=dict)
    rss_mb: dict[str, float] = field(default_factory=dict)
    cold: dict[str, float] = field(default_factory=dict)
    found: dict[str, str] = field(default_factory=dict)


def rounds(commands: dict[str, Callable[[], Run]], n: int) -> dict[str, list[Run]]:
    results: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(n):
        for name, command in commands.items():
            results[name].append(command())
    return results


def median(runs: list[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def _run_case(case: Case, paths: Paths, env: dict[str, str]) -> Run:
    if case.before is not None:
        case.before(paths)  # not timed
    return run(case.argv(paths), env=env)


def measure_size(
    size: int, keep: Path, work: Path, runs: int, env: dict[str, str], exe: str, python: str
) -> SizeResult:
    from gen_archive import generate

    pristine = keep / f"ecd-{size}"
    if not pristine.exists():
        started = time.perf_counter()
        generate(pristine, issues=size)
        print(f"generated {size} issues in {time.perf_counter() - started:.1f} s", flush=True)
    root = work / f"ecd-{size}"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(pristine, root, ignore=shutil.ignore_patterns(".ecdigest"))
    age(root)
    files = sorted(p for p in root.rglob("*.toml") if p.name != "ecdigest.toml")
    issue = files[len(files) // 2].stem
    draft = files[-1].stem
    paths = Paths(exe, python, root, issue, draft)
    toml_bytes = sum(p.stat().st_size for p in files)
    result = SizeResult(size, len(files), 0, toml_bytes)
    state = root / ".ecdigest"

    # ------------------------------------------------------------- cold builds
    cold_runs = 3 if size <= 1000 else 2
    for label, argv, prefix in (
        ("catalog build (`list`, no catalog)", _e("list")(paths), "catalog"),
        ("index build (`search`, no index)", _e("search", "跨境电商")(paths), "search"),
        ("validation results (`validate`, none kept)", _e("validate")(paths), "validation"),
    ):
        times, peaks = [], []
        for _ in range(cold_runs):
            for leftover in [*state.glob(f"{prefix}.sqlite3*"), *state.glob(f"{prefix}-*.json")]:
                leftover.unlink()
            measured = run(argv, env=env, sample_tree=True)
            times.append(measured.seconds)
            peaks.append(measured.tree_rss_kb / 1024)
        result.cold[label] = statistics.median(times)
        result.rss_mb[label] = max(peaks)
        print(f"  {size}: {label}: {result.cold[label]:.2f} s", flush=True)
    result.catalog_bytes = (state / "catalog.sqlite3").stat().st_size
    result.index_bytes = (state / "search.sqlite3").stat().st_size
    import sqlite3

    result.articles = (
        sqlite3.connect(state / "catalog.sqlite3").execute("SELECT count(*) FROM articles").fetchone()[0]
    )

    # ------------------------------------------------------------- warm, round-robin
    warm = [c for c in CASES if c.phase == "warm"]
    commands: dict[str, Callable[[], Run]] = {}
    for case in warm:
        commands[case.name] = lambda c=case: run(c.argv(paths), env=env)
        if case.baseline == "rg":
            terms = SEARCH_TERMS[case.name.removeprefix("search: ")]
            patterns = [a for t in terms for a in ("-e", t)]
            commands["rg -l " + " ".join(terms)] = lambda p=patterns: run(
                ["rg", "-l", *p, str(root)], env=env
            )
    for command in commands.values():
        command()  # warm the page cache and the bytecode
    print(f"  {size}: warm rounds ...", flush=True)
    measured = rounds(commands, runs)
    floor = median(measured["python -c pass"])
    for case in warm:
        result.medians[case.name] = median(measured[case.name])
        if case.baseline == "rg":
            terms = SEARCH_TERMS[case.name.removeprefix("search: ")]
            base = median(measured["rg -l " + " ".join(terms)])
            result.baselines[case.name] = base
            result.found[case.name] = measured[case.name][0].out.decode().strip().splitlines()[-1]
        else:
            base = floor
        result.ratios[case.name] = result.medians[case.name] / base

    # ------------------------------------------------------------- writers and long commands
    for phase, n in (("add", runs), ("validate", 3)):
        commands = {"python -c pass": lambda: run([python, "-c", "pass"], env=env)}
        for case in (c for c in CASES if c.phase == phase):
            commands[case.name] = lambda c=case: _run_case(c, paths, env)
        print(f"  {size}: {phase} rounds ...", flush=True)
        measured = rounds(commands, n)
        floor_here = median(measured["python -c pass"])
        for case in (c for c in CASES if c.phase == phase):
            result.medians[case.name] = median(measured[case.name])
            result.ratios[case.name] = result.medians[case.name] / floor_here

    # ------------------------------------------------------------- memory
    for case in CASES:
        if case.name != "python -c pass":
            if case.before is not None:
                case.before(paths)
            result.rss_mb[case.name] = peak_rss_kb(case.argv(paths), env=env) / 1024
    return result


def report(results: list[SizeResult], started: dt.datetime, loads: list[tuple[str, str]], runs: int) -> str:
    info = machine()
    target_size = 1000 if any(r.size == 1000 for r in results) else results[-1].size
    lines = [
        "## Scale",
        "",
        f"Measured {started:%Y-%m-%d %H:%M %z} by `python bench/bench_scale.py --runs {runs}` on {info['cpu']}, "
        f"{info['cores']} cores, {info['os']}; Python {info['python']}, SQLite {info['sqlite']}, {info['rg']}. "
        "The machine is shared with other agents: `uptime` "
        + "; ".join(f"{when}: {load}" for when, load in loads)
        + ". Medians of whole-process wall times; every ratio divides by a baseline measured in the same "
        "rounds (`python -c pass` of the same interpreter, or `rg -l` over the same files). Archives from "
        "`bench/gen_archive.py` (seed 20230605); `ecdigest` from a plain venv with bytecode caches.",
        "",
        "| archive | issue files | articles | TOML | catalog | search index | index / TOML |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.size:,} | {r.files:,} | {r.articles:,} | {r.toml_bytes / 1e6:.0f} MB | {r.catalog_bytes / 1e6:.0f} MB "
            f"| {r.index_bytes / 1e6:.0f} MB | {r.index_bytes / r.toml_bytes:.2f} (target <= 2) |"
        )
    for r in results:
        lines += [
            "",
            f"### {r.size:,} issues",
            "",
            "| command | median | baseline | ratio | target | max RSS |",
            "|---|---:|---:|---:|---|---:|",
        ]
        for label, seconds in r.cold.items():
            target = "<= 20 s" if "index" in label else ""
            verdict = ""
            if target and r.size == target_size:
                verdict = " met" if seconds <= 20 else " **missed**"
            lines.append(
                f"| cold: {label} | {seconds:.2f} s | | | {target}{verdict} | {r.rss_mb[label]:.0f} MB |"
            )
        for case in CASES:
            if case.name not in r.medians:
                continue
            ratio = r.ratios[case.name]
            base = r.baselines.get(case.name)
            base_text = f"rg -l {base * 1000:.1f} ms" if base is not None else "python -c pass"
            target = ""
            if case.target is not None and case.name != "python -c pass":
                target = f"<= {case.target:g}x"
                if r.size == target_size:
                    target += " met" if ratio <= case.target else " **missed**"
            found = f" ({r.found[case.name]})" if case.name in r.found else ""
            lines.append(
                f"| `{case.name}`{found} | {r.medians[case.name] * 1000:.1f} ms | {base_text} | {ratio:.2f} | {target} "
                f"| {r.rss_mb.get(case.name, 0):.0f} MB |"
            )
    biggest = results[-1]
    peak = max(biggest.rss_mb.values())
    lines += [
        "",
        f"Peak memory of any command at {biggest.size:,} issues: {peak:.0f} MB (target <= 200 MB: "
        f"{'met' if peak <= 200 else '**missed**'}).",
        "",
        "### Growth",
        "",
        "| command | "
        + " | ".join(f"{r.size:,} issues" for r in results)
        + f" | {results[-1].size:,} / {results[0].size:,} |",
        "|---|" + "---:|" * (len(results) + 1),
    ]
    names = [*results[0].cold, *(c.name for c in CASES if c.name in results[0].medians)]
    for name in names:
        values = [r.cold.get(name, r.medians.get(name)) for r in results]
        if any(v is None for v in values):
            continue
        shown = " | ".join(f"{v * 1000:.0f} ms" if v < 10 else f"{v:.1f} s" for v in values if v is not None)
        first, last = values[0], values[-1]
        assert first is not None and last is not None
        lines.append(f"| {name} | {shown} | {last / first:.1f}x |")
    return "\n".join(lines) + "\n"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,3000")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", type=Path, default=Path(tempfile.gettempdir()) / "ecdigest-bench-archives")
    parser.add_argument("--write", action="store_true", help="write the ## Scale section of bench/RESULTS.md")
    args = parser.parse_args(argv)
    if not shutil.which("rg"):
        raise SystemExit("bench: ripgrep is needed for the baseline (apt-get install ripgrep)")
    sizes = [int(s) for s in args.sizes.split(",")]
    args.keep.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ecdigest-scale-"))
    started = dt.datetime.now().astimezone()
    loads = [("before", uptime())]
    try:
        env = child_env()
        env["ECDIGEST_NOW"] = NOW
        exe = str(release_env(work / "venv"))
        python = str(work / "venv" / "bin" / "python")
        results = []
        for size in sizes:
            results.append(measure_size(size, args.keep, work, args.runs, env, exe, python))
            loads.append((f"after {size:,}", uptime()))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = report(results, started, loads, args.runs)
    print(text)
    if args.write:
        write_section(text)
        print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
