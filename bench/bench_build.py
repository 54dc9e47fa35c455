"""Build benchmark: `ecdigest build` (the web archive) cold, with nothing changed and with one
issue changed, against `python -c pass`, at several archive sizes; the site's size, the
search index's size and the bytes a browser downloads for one query.

For each size N (default 100, 1000, 3000 issues) an archive from bench/gen_archive.py
(generated into --workdir when missing; its catalog made once by `ecdigest list`), then,
measured as whole processes in one run:

    cold        the output folder removed first (1 run: it is the slow one)
    no change   the same build again (median of --runs)
    one issue   an edit in one issue's body, then the build (median of --runs; the
                edits alternate between the newest issue, which the main feeds carry, and
                one in the middle, which an archive feed page carries)
    python -c pass, interleaved with the no-change runs (median): the floor

Targets (issue 11/13): no change <= 40x, one issue <= 80x and <= 1 s, cold <= 400x and
<= 30 s at 1,000 issues. Peak memory is the largest child's max RSS.

    python bench/bench_build.py [--sizes 100,1000] [--runs 5] [--workdir /tmp/ecd-bench] [--write]

`--write` replaces the `## Build (web archive)` section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _results import write_section

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "RESULTS.md"
SECTION = "## Build (web archive)"
QUERY = "直播"


def env() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ECDIGEST_")}
    clean["ECDIGEST_NOW"] = "2024-06-30T09:00:00+08:00"
    # Users have bytecode caches (pip writes them; an editable install on first import):
    # without them every run compiles ecdigest from source (~0.15 s of a one-issue build).
    clean.pop("PYTHONDONTWRITEBYTECODE", None)
    return clean


# The interpreter and console script every timed process runs: a plain venv made by main()
# (bench_search.release_env, as bench_scale's), never this (development) environment, whose
# editable install's import hook made `python -c pass` ~9 ms slower and flattered every ratio.
RELEASE: dict[str, str] = {}


def python() -> str:
    return RELEASE.get("python", sys.executable)


def ecdigest() -> list[str]:
    if "exe" in RELEASE:
        return [RELEASE["exe"]]
    exe = shutil.which("ecdigest", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "ecdigest"]


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (from /proc: a cold build's forked workers)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += parents.get(current, [])
    return found


def tree_memory(pid: int) -> tuple[int, int]:
    """(sum of RSS, sum of PSS) in KB over `pid` and its descendants, now. RSS counts a
    page a forked worker still shares with its parent in both; PSS splits it between them
    (what the tree really holds)."""
    rss = pss = 0
    for member in descendants(pid):
        try:
            with open(f"/proc/{member}/smaps_rollup", encoding="ascii") as handle:
                for line in handle:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            continue
    return rss, pss


class TreeSampler:
    """The peak of `tree_memory` while a command runs (sampled every 0.2 s)."""

    def __init__(self, pid: int) -> None:
        import threading

        self.pid = pid
        self.rss = self.pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            rss, pss = tree_memory(self.pid)
            self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


TREE: dict[str, int] = {}  # the last timed command's tree peak: {"rss": KB, "pss": KB}


def timed(args: list[str]) -> tuple[float, int, str]:
    """(seconds, peak RSS of this child (its waited-for workers included) in KB, stdout);
    the peak of the whole process tree (sum of RSS and of PSS) is left in TREE."""
    import tempfile

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(args, stdout=out, stderr=err, env=env())
        sampler = TreeSampler(child.pid) if os.path.exists("/proc/self/smaps_rollup") else None
        _, status, usage = os.wait4(child.pid, 0)
        if sampler is not None:
            sampler.stop()
            TREE.update(rss=sampler.rss, pss=sampler.pss)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            sys.exit(f"bench_build: {' '.join(args)} failed: {err.read().decode().strip()}")
        return seconds, usage.ru_maxrss, out.read().decode()


def archive_for(size: int, workdir: Path) -> Path:
    root = workdir / f"archive-{size}"
    if not (root / "ecdigest.toml").exists():
        subprocess.run(
            [sys.executable, str(BENCH / "gen_archive.py"), str(root), "--issues", str(size)], check=True
        )
    subprocess.run([*ecdigest(), "--archive", str(root), "list"], capture_output=True, env=env(), check=False)
    return root


def issue_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.toml") if p.name != "ecdigest.toml" and ".ecdigest" not in p.parts)


def edit(path: Path, number: int) -> None:
    text = path.read_text("utf-8")
    text = text.replace("。", f"。（第 {number} 次修改）", 1)
    path.write_text(text, "utf-8")


def sizes_of(out: Path) -> dict[str, int]:
    total = files = index = 0
    for path in out.rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            size = path.stat().st_size
            total += size
            files += 1
            if "search" in path.relative_to(out).parts[:1] and path.suffix == ".js":
                index += size
    return {"bytes": total, "files": files, "index": index, "query": query_bytes(out, QUERY)}


def _call_args(path: Path) -> list[object]:
    text = path.read_text("utf-8")
    inner = text[text.index("(") + 1 : text.rindex(")")]
    value: list[object] = json.loads(f"[{inner}]")
    return value


def query_bytes(out: Path, query: str) -> int:
    """What the search page loads for `query` (beyond search.html and search.js): the
    index's entry point, one postings shard per gram and segment, and the chunks of
    titles for the first 20 results."""
    sys.path.insert(0, str(REPO))
    from ecdigest.search import fold
    from ecdigest.site.searchindex import fnv1a

    search = out / "search"
    meta_file = next(search.glob("meta-*.js"))
    (meta,) = _call_args(meta_file)
    assert isinstance(meta, dict)
    total = meta_file.stat().st_size
    term = fold(query)
    grams = [term] if len(term) == 1 else [term[i : i + 2] for i in range(len(term) - 1)]
    found: list[tuple[str, int]] = []
    offset = 0
    for segment in meta["segments"]:
        docs: set[int] | None = None
        for gram in grams:
            shard = search / segment["name"] / f"p{fnv1a(gram) % segment['shards']}.js"
            total += shard.stat().st_size
            postings = _call_args(shard)[2]
            assert isinstance(postings, dict)
            listed = set(_decode(postings.get(gram, "")))
            docs = listed if docs is None else docs & listed
        found += [(segment["name"], d) for d in sorted(docs or ())]
        offset += segment["docs"]
    chunks = {(name, doc // meta["chunk"]) for name, doc in found[-20:]}
    for name, number in chunks:
        total += (search / name / f"d{number}.js").stat().st_size
    return total


def _decode(gaps: str) -> list[int]:
    docs, previous = [], -1
    for char in gaps:
        code = ord(char)
        if code >= 0xE000:
            code -= 0x800
        previous += code - 0x30
        docs.append(previous)
    return docs


def run_size(size: int, runs: int, workdir: Path) -> dict[str, object]:
    root = archive_for(size, workdir)
    out = workdir / f"site-{size}"
    shutil.rmtree(out, ignore_errors=True)
    build = [*ecdigest(), "--archive", str(root), "build", "-o", str(out), "-q"]
    cold, cold_rss, _ = timed(build)
    cold_tree = dict(TREE)
    # The cold build leaves ~0.6 GB (1,000 issues) of dirty pages the kernel writes back for
    # a minute after: wait for them here, or the no-change rows time the disk's writeback.
    os.sync()
    floor: list[float] = []
    nochange: list[float] = []
    for _ in range(runs):
        floor.append(timed([python(), "-c", "pass"])[0])
        nochange.append(timed(build)[0])
    files = issue_files(root)
    # Edit published issues only: gen_archive's newest two and middle issue are drafts, which
    # a build leaves out, so editing one measured a build with nothing to do.
    published = [p for p in files if 'status = "published"' in p.read_text("utf-8")]
    newest = max(published, key=lambda p: p.stem)
    middle = published[len(published) // 2]
    one: list[float] = []
    one_rss = 0
    written: list[int] = []
    for number in range(runs):
        edit(newest if number % 2 == 0 else middle, number)
        floor.append(timed([python(), "-c", "pass"])[0])
        seconds, rss, stdout = timed([*build[:-1], "-f", "json"])
        one.append(seconds)
        one_rss = max(one_rss, rss)
        written.append(len(json.loads(stdout)["written"]))
        if not written[-1]:
            raise SystemExit(
                f"bench: editing {newest if number % 2 == 0 else middle} made the build write nothing"
            )
    base = statistics.median(floor)
    return {
        "issues": size,
        "articles": sum(p.read_text("utf-8").count("[[articles]]") for p in files),
        "floor": base,
        "cold": cold,
        "cold_rss": cold_rss,
        "cold_tree_rss": cold_tree.get("rss", 0),
        "cold_tree_pss": cold_tree.get("pss", 0),
        "nochange": statistics.median(nochange),
        "one": statistics.median(one),
        "one_rss": one_rss,
        "one_written": statistics.median(written),
        **sizes_of(out),
    }


def table(rows: list[dict[str, object]]) -> list[str]:
    def ms(value: object) -> str:
        seconds = float(value)  # type: ignore[arg-type]
        return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"

    lines = [
        "| issues (articles) | `python -c pass` | cold | × | no change | × | one issue changed | × | peak RSS cold / one |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        floor = float(r["floor"])  # type: ignore[arg-type]
        lines.append(
            f"| {r['issues']:,} ({r['articles']:,}) | {ms(r['floor'])} | {ms(r['cold'])} | {float(r['cold']) / floor:.0f}× "  # type: ignore[arg-type]
            f"| {ms(r['nochange'])} | {float(r['nochange']) / floor:.0f}× | {ms(r['one'])} | {float(r['one']) / floor:.0f}× "  # type: ignore[arg-type]
            f"| {int(r['cold_rss']) // 1024} / {int(r['one_rss']) // 1024} MB |"  # type: ignore[call-overload]
        )
    lines += [
        "",
        "Cold build's memory: the largest process's peak RSS, and the whole process tree's "
        "(parent and workers, sampled every 0.2 s) as the sum of RSS (a page a worker shares "
        "with its parent counted twice) and of PSS (shared pages split).",
        "",
        "| issues | largest process | tree, sum of RSS | tree, sum of PSS |",
        "|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['issues']:,} | {int(r['cold_rss']) // 1024} MB | {int(r['cold_tree_rss']) // 1024} MB "  # type: ignore[call-overload]
            f"| {int(r['cold_tree_pss']) // 1024} MB |"  # type: ignore[call-overload]
        )
    lines += [
        "",
        "| issues | site | files | search index | one query (`直播`) |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['issues']:,} | {int(r['bytes']) / 1e6:.1f} MB | {r['files']:,} | {int(r['index']) / 1e6:.1f} MB | {int(r['query']) / 1e3:.0f} KB |"  # type: ignore[call-overload]
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,3000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/ecd-bench-build"))
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    from bench_search import release_env

    venv = args.workdir / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    RELEASE["exe"] = str(release_env(venv))
    RELEASE["python"] = str(venv / "bin" / "python")
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        row = run_size(size, args.runs, args.workdir)
        print(json.dumps(row), flush=True)
        rows.append(row)
    load = os.getloadavg()
    lines = [
        f"Measured {dt.date.today().isoformat()} on {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        "(other agents share the machine).",
        f"`python bench/bench_build.py --sizes {args.sizes} --runs {args.runs}`: whole processes, medians; "
        "archives from bench/gen_archive.py, no editions configured.",
        "",
        *table(rows),
    ]
    print("\n".join(lines))
    if args.write:
        write_section("\n".join([SECTION, "", *lines]) + "\n")
        print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
