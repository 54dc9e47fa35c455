"""Site search: the site's own index against Pagefind's extended build, both against what
`ecdigest search` answers, on the shipped issue, in headless Chromium.

Builds the shipped archive's site, indexes it with Pagefind too (`pip install
'pagefind[extended]'`: the binary ships in the wheel; the issue pages' `.issue` element is
the root, each article's heading a sub-result), serves the folder on 127.0.0.1, then for
1-, 2- and 4-character terms asks the CLI (`--limit 0 --format json`), the site's search
page and Pagefind's JavaScript API (`pagefind.search`, every result's sub-results), and
counts per engine the articles found, missed and found wrongly. Also: index sizes, the
time to build each index and the bytes a browser downloads for one query (Resource Timing,
beyond the search page itself).

    python bench/bench_site_search.py [--write]

`--write` replaces the `## Site search` section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import http.server
import json
import os
import platform
import re
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_section
from bench_build import query_bytes

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "RESULTS.md"
SECTION = "## Site search"
TERMS = [
    "网",
    "店",
    "播",
    "税",
    "直播",
    "电商",
    "跨境",
    "数字",
    "平台",
    "跨境电商",
    "数字经济",
    "人工智能",
    "直播电商",
    "网络直播",
]


def env() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ECDIGEST_")}
    clean["ECDIGEST_NOW"] = "2023-07-10T09:00:00+08:00"
    return clean


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecdigest", *args], capture_output=True, text=True, env=env(), check=True
    )


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp()}")
    driver = webdriver.Chrome(
        options=options, service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    )
    # Every query from a cold cache: the bytes counted are what a first query costs.
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    return driver


def transferred(driver: Any, before: str) -> int:
    """Bytes of the resources loaded after the page itself (index files, wasm, fragments)."""
    sizes: list[int] = driver.execute_script(
        "return performance.getEntriesByType('resource').filter(e => !e.name.endsWith(arguments[0]))"
        ".map(e => e.encodedBodySize || e.transferSize || 0)",
        before,
    )
    return sum(sizes)


def ours(driver: Any, url: str, term: str) -> tuple[list[str], int]:
    driver.get(f"{url}search.html?q={quote(term)}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        count = driver.execute_script("return document.getElementById('search-status').dataset.count || null")
        if count is not None:
            break
        time.sleep(0.05)
    ids: list[str] = driver.execute_script(
        "return Array.from(document.querySelectorAll('.search-result')).map(e => e.dataset.article)"
    )
    while len(ids) < int(count):
        driver.execute_script("document.querySelector('.search-results + button').click()")
        time.sleep(0.1)
        ids = driver.execute_script(
            "return Array.from(document.querySelectorAll('.search-result')).map(e => e.dataset.article)"
        )
    return sorted(ids), transferred(driver, "search.html?q=" + quote(term))


def pagefind(driver: Any, url: str, term: str) -> tuple[list[str], int]:
    driver.get(url + "404.html")
    driver.set_script_timeout(60)
    found = driver.execute_async_script(
        """
const [term, done] = arguments;
(async () => {
  const pf = await import('/pagefind/pagefind.js');
  const search = await pf.search(term);
  const out = [];
  for (const result of search.results) {
    const data = await result.data();
    for (const sub of data.sub_results) out.push(sub.url);
  }
  done(out);
})().catch(e => done('error: ' + e));
""",
        term,
    )
    if isinstance(found, str):
        raise RuntimeError(found)
    ids = sorted(
        {u.split("#", 1)[1].removesuffix("-title") for u in found if "#" in u and re.search(r"#\d", u)}
    )
    return ids, transferred(driver, "404.html")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ecd-site-search-"))
    archive = work / "issues"
    shutil.copytree(REPO / "issues", archive, ignore=shutil.ignore_patterns(".ecdigest"))
    site = work / "site"
    started = time.perf_counter()
    cli("--archive", str(archive), "build", "-o", str(site))
    build_seconds = time.perf_counter() - started
    ours_bytes = folder_bytes(site / "search")
    have_pagefind = True
    try:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pagefind", "--site", str(site), "--root-selector", ".issue"],
            check=True,
            capture_output=True,
        )
        pagefind_seconds = time.perf_counter() - started
        pagefind_bytes = folder_bytes(site / "pagefind")
    except (subprocess.CalledProcessError, FileNotFoundError):
        have_pagefind = False
        pagefind_seconds, pagefind_bytes = 0.0, 0
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    driver = browser()
    rows = []
    try:
        for term in TERMS:
            expected = sorted(
                h["article"]
                for h in json.loads(
                    cli("--archive", str(archive), "search", term, "--limit", "0", "--format", "json").stdout
                    or "[]"
                )
            )
            mine, _ = ours(driver, url, term)
            # Ours from the files it needs (bench_build.query_bytes: entry point, one shard
            # per character pair, the titles of the first 20 results); Resource Timing does
            # not see the sizes of scripts added by script elements reliably.
            mine_bytes = query_bytes(site, term)
            theirs, theirs_bytes = pagefind(driver, url, term) if have_pagefind else ([], 0)
            rows.append((term, expected, mine, mine_bytes, theirs, theirs_bytes))
    finally:
        driver.quit()
        server.shutdown()

    def score(found: list[str], expected: list[str]) -> str:
        missed = len(set(expected) - set(found))
        extra = len(set(found) - set(expected))
        mark = "same" if not missed and not extra else f"{missed} missed, {extra} wrong"
        return f"{len(found)} ({mark})"

    lines = [
        f"Measured {dt.date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores; Chromium headless; "
        f"`python bench/bench_site_search.py` on the shipped issue (53 articles). Pagefind {'1.5 extended (pagefind[extended] from PyPI)' if have_pagefind else 'not installed'}.",
        "",
        "| term | `ecdigest search` | site search (ours) | Pagefind | bytes a first query loads: ours / Pagefind |",
        "|---|---:|---:|---:|---:|",
    ]
    for term, expected, mine, mine_bytes, theirs, theirs_bytes in rows:
        lines.append(
            f"| {term} | {len(expected)} | {score(mine, expected)} | {score(theirs, expected) if have_pagefind else '–'} "
            f"| {mine_bytes / 1000:.0f} KB / {theirs_bytes / 1000:.0f} KB |"
        )
    lines += [
        "",
        f"Index: ours {ours_bytes / 1000:.0f} KB, written by `build` itself ({build_seconds:.1f} s for the whole site, "
        f"incremental); Pagefind {pagefind_bytes / 1000:.0f} KB (its UI assets included), {pagefind_seconds:.1f} s, "
        "re-indexing every page on every run.",
    ]
    print("\n".join(lines))
    if args.write:
        write_section("\n".join([SECTION, "", *lines]) + "\n")
        print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
