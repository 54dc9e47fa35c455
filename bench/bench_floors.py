"""Floors: the least any Python program must spend on the jobs whose issue-11 targets are
missed, measured side by side with the target's baseline, so that a missed target can be
told apart from one that no design in this language and stack can meet.

    python bench/bench_floors.py [--archive DIR] [--site DIR] [--runs 11] [--write]

Searches (--archive: a 1,000-issue archive from bench/gen_archive.py whose search index is
made first by one `ecdigest search`), interleaved round-robin, medians of whole processes:

    python -c pass          the interpreter of the plain venv ecdigest runs from
    floor: any 20           `import _sqlite3`, stat every issue file (the least a search must
                            do to answer what the files hold now), open the index read-only,
                            one FTS5 statement returning the ids of any 20 matches, print
                            them: no ranking, no count, no snippets, none of ecdigest's code
    floor: bm25 top 20      the same, the 20 best by bm25 (titles 3x) as ecdigest ranks
                            them (terms of two or more characters)
    ecdigest search TERM    the real command
    rg -l TERM              the issue's baseline over the same files

The cold build (--site: a site `ecdigest build` made of the same archive): one process each,
medians of --runs // 3 (at least 3):

    floor: read             read and parse every issue file (fasttoml, the fast reader)
    floor: write            write every file of the built site again (bytes already in
                            memory per file, os.open/os.write as the builder does), into a
                            fresh folder, on two processes (the machine's two cores)

Their sum is a floor for a cold build (which also renders 54,000 articles twice, the feeds
and the site search's postings), compared with issue 11's 400x `python -c pass`.
`--write` replaces the `## Floors` section of bench/RESULTS.md.
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

from _results import machine, write_section
from bench_search import child_env, release_env

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from ecdigest.query import fold  # noqa: E402
from ecdigest.search_index import BODY_WEIGHT, TITLE_WEIGHT, pair_phrase  # noqa: E402

SECTION = "## Floors"
# bench_scale's search shapes: (label, words, filters the articles must pass).
TERMS: list[tuple[str, list[str], str]] = [
    ("1 character, common", ["网"], ""),
    ("2 characters, common", ["直播"], ""),
    ("4 characters, common", ["跨境电商"], ""),
    ("2 characters, rare", ["首彩"], ""),
    ("3 characters, rare", ["担秀位"], ""),
    ("4 characters, rare", ["迭排逐区"], ""),
    (
        "two terms, section and date filters",
        ["数字", "经济", "--section", "行业资讯", "--since", "2015-01-01"],
        " AND a.section = '行业资讯' AND a.date >= '2015-01-01'",
    ),
]

# The programs are `python -c` texts with their inputs in argv: nothing of ecdigest imported.
QUERY = """
import _sqlite3 as sqlite3, sys
db, table, match = sys.argv[1:4]
conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
rows = conn.execute(sys.argv[4], (match,)).fetchall()
sys.stdout.write("".join(f"{a} {b}\\n" for a, b in rows))
"""

STAT = """
import os, sys
def walk(folder):
    with os.scandir(folder) as entries:
        for e in entries:
            if e.name.startswith("."):
                continue
            if e.is_dir(follow_symlinks=False):
                walk(e.path)
            elif e.name.endswith(".toml"):
                e.stat(follow_symlinks=False)
walk(sys.argv[5])
"""

READ = """
import os, sys
sys.path.insert(0, sys.argv[2])
from ecdigest.fasttoml import loads
n = 0
for top, dirs, files in os.walk(sys.argv[1]):
    dirs[:] = [d for d in dirs if not d.startswith(".")]
    for name in files:
        if name.endswith(".toml") and name != "ecdigest.toml":
            with open(os.path.join(top, name), "rb") as f:
                data = loads(f.read().decode())
            n += len(data["articles"]) if data else 0
print(n)
"""

WRITE = """
import os, sys
src, dst = sys.argv[1], sys.argv[2]
names = []
for top, dirs, files in os.walk(src):
    rel = os.path.relpath(top, src)
    for d in dirs:
        os.makedirs(os.path.join(dst, rel, d), exist_ok=True)
    names += [os.path.join(rel, f) for f in files]
names.sort()
def copy(part):
    for name in part:
        with open(os.path.join(src, name), "rb") as f:
            data = f.read()
        fd = os.open(os.path.join(dst, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, data)
        os.close(fd)
pid = os.fork()
copy(names[pid == 0::2])
if pid:
    os.waitpid(pid, 0)
else:
    os._exit(0)
"""


def query_words(words: list[str]) -> list[str]:
    """A search's terms: its words before the first option."""
    return words[: next((i for i, w in enumerate(words) if w.startswith("--")), len(words))]


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def search_rows(archive: Path, python: str, exe: str, runs: int, env: dict[str, str]) -> list[str]:
    db = archive / ".ecdigest" / "search.sqlite3"
    subprocess.run(
        [exe, "--archive", str(archive), "search", "网"], env=env, stdout=subprocess.DEVNULL, check=True
    )
    commands: dict[str, list[str]] = {"python -c pass": [python, "-c", "pass"]}
    for label, words, filters in TERMS:
        query = query_words(words)
        terms = [fold(w) for w in query]
        table = "uni" if len(terms) == 1 and len(terms[0]) == 1 else "bi"
        match = " AND ".join(f"({pair_phrase(t)})" for t in terms)
        # The least a search printing 20 matches must ask: any 20 matching ids, unranked;
        # and, since ecdigest ranks by bm25 (titles 3x), the 20 best by it (`bi` only: `uni`
        # keeps no positions). ecdigest also counts the matches and cuts snippets.
        join = f"SELECT a.issue, a.article FROM {table} CROSS JOIN articles a ON a.id = {table}.rowid"
        shapes = {"any 20": f"{join} WHERE {table} MATCH ?{filters} LIMIT 20"}
        if table == "bi":
            shapes["bm25 top 20"] = (
                f"{join} WHERE bi MATCH ?{filters} ORDER BY bm25(bi, {BODY_WEIGHT}, {TITLE_WEIGHT}) LIMIT 20"
            )
        for shape, sql in shapes.items():
            args = [str(db), table, match, sql, str(archive)]
            commands[f"{label}|{shape}"] = [python, "-c", STAT + QUERY, *args]
        commands[f"{label}|ecdigest search"] = [exe, "--archive", str(archive), "search", *words]
        patterns = [a for w in query for a in ("-e", w)]
        commands[f"{label}|rg -l"] = ["rg", "-l", *patterns, str(archive)]
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            times[name].append(timed(argv, env) * 1000)
    med = {name: statistics.median(values) for name, values in times.items()}
    floor = med["python -c pass"]
    rows = [
        f"`python -c pass`: {floor:.1f} ms. Floors: the interpreter, `_sqlite3`, a stat of every issue "
        "file and one statement (any 20 matches; the 20 best by bm25).",
        "",
        "| term | `rg -l` | floor: any 20 | floor: bm25 top 20 | `ecdigest search` | target "
        "| floors ÷ `rg -l` | search ÷ `rg -l` |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, words, _ in TERMS:
        rg = med[f"{label}|rg -l"]
        any20, real = med[f"{label}|any 20"], med[f"{label}|ecdigest search"]
        top = med.get(f"{label}|bm25 top 20")
        ranked = f"{top:.1f}" if top is not None else "—"
        ratios = f"{any20 / rg:.2f}×" + (f" / {top / rg:.2f}×" if top is not None else "")
        target = "1×" if "rare" in label else "2×"
        shown = " ".join(query_words(words))
        rows.append(
            f"| {label} `{shown}` | {rg:.1f} | {any20:.1f} | {ranked} | {real:.1f} | {target} | "
            f"{ratios} | {real / rg:.2f}× |"
        )
    return rows


def build_rows(archive: Path, site: Path, python: str, runs: int, env: dict[str, str]) -> list[str]:
    reads, writes, passes = [], [], []
    for _ in range(max(3, runs // 3)):
        passes.append(timed([python, "-c", "pass"], env))
        reads.append(timed([python, "-c", READ, str(archive), str(REPO)], env))
        with tempfile.TemporaryDirectory(dir=site.parent) as scratch:
            os.sync()
            writes.append(timed([python, "-c", WRITE, str(site), scratch], env))
            # Deleting 60,000 files costs seconds: outside the timed part, renamed first.
            trash = Path(scratch).with_name(Path(scratch).name + "-trash")
            os.rename(scratch, trash)
            os.mkdir(scratch)
        shutil.rmtree(trash)
    floor = statistics.median(passes)
    read, write = statistics.median(reads), statistics.median(writes)
    files = sum(len(names) for _, _, names in os.walk(site))
    size = sum(os.path.getsize(os.path.join(top, n)) for top, _, names in os.walk(site) for n in names)
    return [
        f"Site: {files:,} files, {size / 1e6:.1f} MB. `python -c pass`: {floor * 1000:.1f} ms; "
        f"issue 11's cold target 400× = {400 * floor:.2f} s.",
        "",
        "| floor | time | × `python -c pass` |",
        "|---|---:|---:|",
        f"| read and parse every issue file | {read:.2f} s | {read / floor:.0f}× |",
        f"| write every file of the site (2 processes) | {write:.2f} s | {write / floor:.0f}× |",
        f"| both | {read + write:.2f} s | {(read + write) / floor:.0f}× |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--archive", type=Path, required=True, help="a 1,000-issue archive (its index is built)"
    )
    parser.add_argument("--site", type=Path, help="a site `ecdigest build` made of that archive")
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--write", action="store_true", help="replace the section in bench/RESULTS.md")
    args = parser.parse_args()
    env = child_env()
    with tempfile.TemporaryDirectory(prefix="ecd-floors-") as venv_dir:
        exe = str(release_env(Path(venv_dir) / "venv"))
        python = str(Path(venv_dir) / "venv" / "bin" / "python")
        load = os.getloadavg()
        issues = sum(1 for _ in args.archive.rglob("*.toml")) - 1
        lines = [
            SECTION,
            "",
            f"Measured {dt.date.today()} on {machine()}; load average "
            f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the start. "
            f"`python bench/bench_floors.py --runs {args.runs}` on {issues:,} issues: medians of whole processes.",
            "",
            "### Searches",
            "",
            *search_rows(args.archive, python, exe, args.runs, env),
        ]
        if args.site:
            lines += ["", "### Cold build", "", *build_rows(args.archive, args.site, python, args.runs, env)]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
