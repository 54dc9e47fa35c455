"""What capping bm25 to the newest matches costs in ranking quality, on a built index.

    python bench/bench_ranking.py ARCHIVE [TERM ...]

ARCHIVE is an archive whose search index is built (run `ecdigest --archive ARCHIVE search x`
first; bench/gen_archive.py makes the realistic one). For each term: the number of
matches, the mean bm25 (titles 3x, higher is better) of the top 20 over every match and
of the top 20 over the newest RANK_LIMIT matches (what `ecdigest search` ranks when there
are more), their ratio, and how many articles the two top 20s share.
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ecdigest import search_index
from ecdigest.query import parse_query

TERMS = ["直播", "跨境电商", "数字 经济", "网络", "平台", "消费者"]


def main() -> None:
    root = Path(sys.argv[1])
    terms = sys.argv[2:] or TERMS
    conn = sqlite3.connect(root / ".ecdigest" / "search.sqlite3")
    print("| term | matches | top 20 of all: mean bm25 | top 20 of the newest: mean bm25 | ratio | shared |")
    print("|---|---:|---:|---:|---:|---:|")
    for term in terms:
        expression = search_index.match_expression(parse_query(term))
        rows = conn.execute(
            f"SELECT bi.rowid, -{search_index._BM25.format(t='bi')}, coalesce(a.date, '') "
            "FROM bi JOIN articles a ON a.id = bi.rowid WHERE bi MATCH ?",
            (expression,),
        ).fetchall()
        if not rows:
            continue
        best = sorted(rows, key=lambda r: -r[1])[:20]
        newest = sorted(rows, key=lambda r: r[2], reverse=True)
        cut = newest[min(len(newest), search_index.RANK_LIMIT) - 1][2]
        capped = sorted((r for r in rows if r[2] >= cut), key=lambda r: -r[1])[:20]
        full_mean = statistics.mean(r[1] for r in best)
        capped_mean = statistics.mean(r[1] for r in capped)
        shared = len({r[0] for r in best} & {r[0] for r in capped})
        ratio = capped_mean / full_mean if full_mean else 1.0
        print(f"| {term} | {len(rows):,} | {full_mean:.3g} | {capped_mean:.3g} | {ratio:.3f} | {shared} |")


if __name__ == "__main__":
    main()
