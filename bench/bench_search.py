"""Benchmark `ecdigest search` as whole processes against `rg -l` and `grep -rl`, side by side.

    python bench/bench_search.py [--archive DIR] [--runs 7] [--cold-runs 5] [--write]

Generates the synthetic archive (bench/gen_archive.py: 1,000 issues x 55 articles) unless
--archive names one, then measures, every command once per round so that noise on this
shared machine falls on all of them alike, and reports medians:

- cold: `ecdigest search` with no index (it builds the index of 55,000 articles);
- warm: `ecdigest search` for a 4-character term, a 2-character term, and two terms with
  --since, next to `rg -l` and `grep -rl` for the same terms over the same files (for two
  terms the baselines make one pass for either term, which is less work than both);
- incremental: `ecdigest search` right after one issue file was edited (and re-indexed).

Peak memory is the maximum RSS of a process as /usr/bin/time reports it (one extra run of
each); for the cold build also the sum over the process and its indexing worker, sampled
from /proc every 20 ms during the timed runs.

`ecdigest` runs as users get it: from a plain virtual environment (the repository and the
dependencies on its path, no editable-install import hook; `pip install .` gives the same),
with bytecode caches written. The editable development environment's own console script
is measured too, for comparison. --write puts the results under `## Search` in
bench/RESULTS.md, leaving the file's other sections alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from _results import write_section

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "RESULTS.md"

TERM4 = "跨境电商"
TERM2 = "直播"
TWO_TERMS = ("数字", "经济")
SINCE = "2020-01-01"

TARGET_RATIO = 1.0
TARGET_INCREMENTAL = 0.3
TARGET_COLD = 20.0
TARGET_MEMORY_MB = 150.0


class Run:
    def __init__(
        self, seconds: float, maxrss_kb: int, code: int, out: bytes, tree_rss_kb: int = 0, cpu: float = 0.0
    ) -> None:
        self.seconds = seconds
        self.cpu = cpu
        self.maxrss_kb = maxrss_kb
        self.code = code
        self.out = out
        self.tree_rss_kb = tree_rss_kb


def peak_rss_kb(argv: Sequence[str], *, env: dict[str, str] | None = None) -> int:
    """Max RSS of one run, measured by /usr/bin/time: a child forked from this (large) process
    would count this process's pages in its own maximum."""
    result = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], capture_output=True, env=env, check=False)
    return int(result.stderr.decode().strip().splitlines()[-1])


def run(argv: Sequence[str], *, env: dict[str, str] | None = None, sample_tree: bool = False) -> Run:
    """One whole process: wall time, optionally the summed RSS of it and its children."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.PIPE, env=env)
        peak = [0]
        stop = threading.Event()
        if sample_tree:
            sampler = threading.Thread(target=_sample_tree, args=(proc.pid, peak, stop), daemon=True)
            sampler.start()
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        stop.set()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        data = out.read()
    if proc.returncode not in (0, 1):  # grep and rg exit 1 for "no match"
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {err.decode(errors='replace')}")
    cpu = usage.ru_utime + usage.ru_stime  # with the children it waited for (the index worker)
    return Run(seconds, peak[1] if len(peak) > 1 else 0, proc.returncode, data, peak[0], cpu)


def _sample_tree(pid: int, peak: list[int], stop: threading.Event) -> None:
    """peak[0]: the largest sum of VmRSS over the process and its children; peak[1]: the
    largest VmHWM (exact peak) of any one of them."""
    peak.append(0)
    while not stop.is_set():
        total = 0
        for p in [pid, *_children(pid)]:
            try:
                with open(f"/proc/{p}/status") as handle:
                    for line in handle:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1])
                        elif line.startswith("VmHWM:"):
                            peak[1] = max(peak[1], int(line.split()[1]))
            except OSError:
                pass
        peak[0] = max(peak[0], total)
        stop.wait(0.02)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return found


# --------------------------------------------------------------------------- environments


def release_env(folder: Path) -> Path:
    """A plain venv like `pip install .` makes: the repository and the dependencies on sys.path,
    without the editable install's import hook (which costs every process ~15 ms here)."""
    base = Path(getattr(sys, "_base_executable", sys.executable))
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(folder)], check=True)
    purelib = Path(
        subprocess.run(
            [
                str(folder / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    import sysconfig

    deps = sysconfig.get_paths()["purelib"]  # this (development) environment's packages
    (purelib / "ecdigest-bench.pth").write_text(f"{REPO}\n{deps}\n")
    script = folder / "bin" / "ecdigest"
    script.write_text(
        f"#!{folder / 'bin' / 'python'}\n"
        "import sys\nfrom ecdigest.launcher import main\n"
        "if __name__ == '__main__':\n    sys.exit(main())\n"
    )
    script.chmod(0o755)
    return script


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECDIGEST_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # users have bytecode caches
    env["NO_COLOR"] = "1"
    return env


# --------------------------------------------------------------------------- the benchmark


def median(runs: list[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def rounds(commands: dict[str, Callable[[], Run]], n: int) -> dict[str, list[Run]]:
    results: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(n):
        for name, command in commands.items():
            results[name].append(command())
    return results


def age(root: Path) -> None:
    """Files as an archive has them: not written in the last seconds (no racy-mtime rechecks)."""
    old = time.time() - 3600
    for path in root.rglob("*.toml"):
        os.utime(path, (old, old))


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown CPU"
    try:
        text = Path("/proc/cpuinfo").read_text()
        found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
        if found:
            cpu = found.group(1).strip()
    except OSError:
        pass
    rg = subprocess.run(["rg", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    grep = subprocess.run(["grep", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "rg": rg,
        "grep": grep,
        "os": f"{platform.system()} {platform.release()}",
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, help="use this generated archive instead of a new one")
    parser.add_argument("--runs", type=int, default=7, help="rounds for warm and incremental (>= 5)")
    parser.add_argument("--cold-runs", type=int, default=5, help="rounds for the cold build (>= 5)")
    parser.add_argument(
        "--write", action="store_true", help="write the ## Search section of bench/RESULTS.md"
    )
    parser.add_argument(
        "--issues", type=int, default=1000, help="size of the generated archive (for a quick try)"
    )
    parser.add_argument(
        "--note", default="", help="a paragraph to add under the tables (context, earlier runs)"
    )
    args = parser.parse_args(argv)
    if not shutil.which("rg"):
        raise SystemExit("bench: ripgrep is needed for the baseline (apt-get install ripgrep)")

    work = Path(tempfile.mkdtemp(prefix="ecdigest-bench-"))
    try:
        report = bench(work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(report)
    if args.write:
        write_section(report)
        print(f"written to {RESULTS}")


def bench(work: Path, args: argparse.Namespace) -> str:
    sys.path.insert(0, str(BENCH))
    from gen_archive import generate

    started = dt.datetime.now().astimezone()
    load_before = os.getloadavg()
    root = args.archive
    origin = "given"
    if root is None:
        root = work / "archive"
        t = time.perf_counter()
        origin = generate(root, issues=args.issues)
        print(f"generated {root} in {time.perf_counter() - t:.1f} s (articles from the {origin})", flush=True)
    age(root)
    toml_bytes = sum(p.stat().st_size for p in root.rglob("*.toml"))
    files = sum(1 for _ in root.rglob("*.toml")) - 1
    env = child_env()
    exe = str(release_env(work / "venv"))
    dev_exe = shutil.which("ecdigest", path=str(Path(sys.executable).parent)) or "ecdigest"
    python = str(work / "venv" / "bin" / "python")
    index = root / ".ecdigest" / "search.sqlite3"

    def ecd(*words: str, program: str = exe) -> Callable[[], Run]:
        return lambda: run([program, "--archive", str(root), "search", *words], env=env)

    # Bytecode caches, and a first index (discarded before the cold runs).
    for program in (exe, dev_exe):
        run([program, "--archive", str(root), "search", TERM2], env=env)

    # ------------------------------------------------------------- cold build
    def cold() -> Run:
        for suffix in ("", "-journal", ".lock"):
            Path(f"{index}{suffix}").unlink(missing_ok=True)
        return run([exe, "--archive", str(root), "search", TERM4], env=env, sample_tree=True)

    print("cold build ...", flush=True)
    cold_runs = rounds({"cold": cold}, args.cold_runs)["cold"]
    index_mb = index.stat().st_size / 1e6
    articles = sqlite3.connect(index).execute("SELECT count(*) FROM articles").fetchone()[0]

    # ------------------------------------------------------------- warm, side by side
    queries = {
        f"4 characters: {TERM4}": ((TERM4,), [TERM4]),
        f"2 characters: {TERM2}": ((TERM2,), [TERM2]),
        f"two terms: {' '.join(TWO_TERMS)} --since {SINCE}": (
            (*TWO_TERMS, "--since", SINCE),
            list(TWO_TERMS),
        ),
    }
    reference = {
        "python -c pass": [python, "-c", "pass"],
        "python -c 'import sqlite3'": [python, "-c", "import sqlite3"],
        "ecdigest --version": [exe, "--version"],
    }
    commands: dict[str, Callable[[], Run]] = {
        name: (lambda argv=argv: run(argv, env=env)) for name, argv in reference.items()
    }
    for label, (words, terms) in queries.items():
        patterns = [arg for t in terms for arg in ("-e", t)]
        commands[f"{label}|ecdigest"] = ecd(*words)
        commands[f"{label}|ecdigest (dev venv)"] = ecd(*words, program=dev_exe)
        commands[f"{label}|rg -l"] = lambda p=patterns: run(["rg", "-l", *p, str(root)], env=env)
        commands[f"{label}|grep -rl"] = lambda p=patterns: run(
            ["grep", "-rl", "--include=*.toml", *p, str(root)], env=env
        )
    print("warm ...", flush=True)
    warm = rounds(commands, args.runs)
    for label in queries:
        hits = warm[f"{label}|ecdigest"][0].out.decode().strip().splitlines()[-1]
        files_found = len(warm[f"{label}|rg -l"][0].out.splitlines())
        queries[label] = (queries[label][0], [hits, f"{files_found} files"])

    # ------------------------------------------------------------- incremental
    paths = sorted(p for p in root.rglob("*.toml") if p.name != "ecdigest.toml")[::7]

    def incremental(state: list[int] = [0]) -> Run:  # noqa: B006 - a counter across rounds
        path = paths[state[0] % len(paths)]
        state[0] += 1
        text = path.read_text("utf-8")
        marker = f"（第 {state[0]} 次修订）"
        path.write_text(text.replace("。", "。" + marker, 1), "utf-8")
        return run([exe, "--archive", str(root), "search", TERM2], env=env)

    print("incremental ...", flush=True)
    incremental_runs = rounds({"incremental": incremental}, args.runs)["incremental"]
    paths[0].write_text(paths[0].read_text("utf-8").replace("。", "。（再改）", 1), "utf-8")
    incremental_rss = peak_rss_kb([exe, "--archive", str(root), "search", TERM2], env=env)
    # Memory of the other commands, one run each under /usr/bin/time.
    memory = {}
    for name in ("python -c pass", "python -c 'import sqlite3'", "ecdigest --version"):
        memory[name] = peak_rss_kb(reference[name], env=env)
    for label, (words, _) in queries.items():
        memory[f"{label}|ecdigest"] = peak_rss_kb([exe, "--archive", str(root), "search", *words], env=env)
    load_after = os.getloadavg()

    # ------------------------------------------------------------- report
    info = machine()
    lines = [
        "## Search",
        "",
        f"Measured {started:%Y-%m-%d %H:%M %z} by `python bench/bench_search.py` on {info['cpu']}, "
        f"{info['cores']} cores, {info['os']}; Python {info['python']}, SQLite {info['sqlite']}, "
        f"{info['rg']}, {info['grep']}. Load average before/after: "
        f"{load_before[0]:.2f} / {load_after[0]:.2f} (the machine is shared).",
        "",
        f"Archive: {files:,} issue files, {articles:,} articles, {toml_bytes / 1e6:.0f} MB of TOML, generated by "
        f"`bench/gen_archive.py` (articles from the {origin}, shuffled, dates over 20 years). "
        f"Index: {index_mb:.0f} MB. Every number is the median of whole-process wall times, every "
        "command run once per round, rounds repeated; `ecdigest` from a plain venv with bytecode "
        "caches (the editable dev venv's import hook adds ~15 ms to any Python process: shown too).",
        "",
        "| what | median | runs | max RSS | target |",
        "|---|---:|---:|---:|---|",
    ]
    cold_tree = max(r.tree_rss_kb for r in cold_runs) / 1024
    cold_rss = max(r.maxrss_kb for r in cold_runs) / 1024  # VmHWM of the largest process
    cold_cpu = statistics.median(r.cpu for r in cold_runs)
    lines.append(
        f"| cold build of the index (first `ecdigest search`; CPU {cold_cpu:.1f} s in two processes) "
        f"| {median(cold_runs):.2f} s | {len(cold_runs)} | "
        f"{cold_rss:.0f} MB ({cold_tree:.0f} MB with its worker) | <= {TARGET_COLD:.0f} s, "
        f"{_ok(median(cold_runs) <= TARGET_COLD)}; memory <= {TARGET_MEMORY_MB:.0f} MB, {_ok(cold_tree <= TARGET_MEMORY_MB)} |"
    )
    lines.append(
        f"| incremental: search right after one issue was edited | {median(incremental_runs) * 1000:.0f} ms | "
        f"{len(incremental_runs)} | {incremental_rss / 1024:.0f} MB | "
        f"<= {TARGET_INCREMENTAL * 1000:.0f} ms, {_ok(median(incremental_runs) <= TARGET_INCREMENTAL)} |"
    )
    for name in ("python -c pass", "python -c 'import sqlite3'", "ecdigest --version"):
        runs = warm[name]
        lines.append(
            f"| reference: `{name}` | {median(runs) * 1000:.1f} ms | {len(runs)} | "
            f"{memory[name] / 1024:.0f} MB | |"
        )
    lines += [
        "",
        "Warm searches (index up to date) against the baselines over the same files:",
        "",
        "| query | ecdigest | ecdigest (dev venv) | rg -l | grep -rl | ecdigest / rg | found |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    worst = 0.0
    for label, (_, found) in queries.items():
        e, d, r, g = (
            median(warm[f"{label}|{k}"]) for k in ("ecdigest", "ecdigest (dev venv)", "rg -l", "grep -rl")
        )
        ratio = e / r
        worst = max(worst, ratio)
        lines.append(
            f"| {label} | {e * 1000:.1f} ms | {d * 1000:.1f} ms | {r * 1000:.1f} ms | {g * 1000:.1f} ms | "
            f"{ratio:.2f} | {found[0]}; rg: {found[1]} |"
        )
    warm_rss = max(v for k, v in memory.items() if k.endswith("|ecdigest")) / 1024
    lines += [
        "",
        f"Target for warm searches: ecdigest / rg <= {TARGET_RATIO:.1f} for every query: "
        f"{_ok(worst <= TARGET_RATIO)} (worst {worst:.2f}). Max RSS of a warm search: {warm_rss:.0f} MB.",
    ]
    if args.note:
        lines += ["", args.note]
    return "\n".join(lines) + "\n"


def _ok(passed: bool) -> str:
    return "met" if passed else "**missed**"


if __name__ == "__main__":
    main()
