"""Chinese conversion benchmark: the editions' converters and the search key, per MB.

`zhconv.fold` (zhkey.py) runs over every text the search index holds (search is
script-neutral), so its cost per MB of text is what that adds to a cold index build. The editions' converters run once per export. Measured in one process,
interleaved round-robin, on the shipped issue's titles and bodies repeated to SIZE MB:

    OpenCC s2twp alone          the converter without our fixes (the floor)
    zh-Hant-TW, zh-Hant-HK      the editions: OpenCC + zh_hant_fixes.tsv + corner brackets
    fold                        zhkey.py's table, one character for one: the search key
    str.casefold                a reference the search index already pays per text

It also checks what the search follow-up relies on: fold keeps the text's length, and the
original and its s2t/s2tw/s2hk conversions give the same key (but for the characters
OpenCC writes as another character Simplified also has: 了解 -> 瞭解, counted).

    python bench/bench_fold.py [--mb 4] [--runs 7] [--write]

`--write` replaces the `## Chinese conversion` section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

from _results import machine, write_section

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RESULTS = REPO / "bench" / "RESULTS.md"
SECTION = "## Chinese conversion"


def shipped_text() -> str:
    data = tomllib.loads((REPO / "issues" / "2023" / "2023-06.toml").read_text("utf-8"))
    return "\n".join(f"{a['title']}\n{a['body']}" for a in data["articles"])


def main() -> None:
    import opencc

    from ecdigest import zhconv

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=4.0, help="text size in MB (UTF-8)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args()

    base = shipped_text()
    text = base * max(1, round(args.mb * 1e6 / len(base.encode())))
    megabytes = len(text.encode()) / 1e6
    bare = opencc.OpenCC("s2twp")
    tw, hk = zhconv.converter("zh-Hant-TW"), zhconv.converter("zh-Hant-HK")
    zhconv.fold("预热")
    cases: dict[str, Callable[[str], object]] = {
        "OpenCC s2twp alone": bare.convert,
        "zh-Hant-TW (OpenCC + fixes + brackets)": tw.convert,
        "zh-Hant-HK (OpenCC + fixes + brackets)": hk.convert,
        "fold (zhkey table): the search key": zhconv.fold,
        "str.casefold (reference)": str.casefold,
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, function in cases.items():
            start = time.perf_counter()
            function(text)
            times[name].append(time.perf_counter() - start)

    key = zhconv.fold(base)
    checks = []
    for config in ("s2t", "s2tw", "s2hk"):
        variant = opencc.OpenCC(config).convert(base)
        folded = zhconv.fold(variant)
        apart = sum(1 for a, b in zip(key, folded, strict=False) if a != b)
        checks.append(
            f"{config}: same length {len(folded) == len(base)}, characters with another key {apart}"
        )

    lines = [
        SECTION,
        "",
        f"Measured {dt.date.today().isoformat()} on {machine()}; opencc {opencc.__version__}. "
        f"`python bench/bench_fold.py --mb {args.mb:g} --runs {args.runs}`: the shipped issue's titles and "
        f"bodies repeated to {megabytes:.2f} MB of UTF-8, each conversion timed {args.runs} times round-robin "
        f"in one process; medians. Load average before the run: {os.getloadavg()[0]:.2f} (shared machine).",
        "",
        "| conversion | median | per MB | × OpenCC alone |",
        "|---|---:|---:|---:|",
    ]
    floor = statistics.median(times["OpenCC s2twp alone"])
    for name, values in times.items():
        median = statistics.median(values)
        lines.append(
            f"| {name} | {median * 1000:.0f} ms | {median * 1000 / megabytes:.1f} ms | {median / floor:.2f} |"
        )
    lines += ["", "fold on the shipped issue and its conversions: " + "; ".join(checks) + ".", ""]
    report = "\n".join(lines)
    print(report)
    if args.write:
        write_section(report)


if __name__ == "__main__":
    main()
