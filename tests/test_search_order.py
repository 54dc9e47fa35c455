"""The search index's date order and what rests on it: date filters and `--sort date`
answered from id ranges, ranking capped to the newest matches, one-character terms from
the character tables; and search across scripts (Traditional and Simplified alike)."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_search import loaded_articles, ref_fold, search_ids, write_issue

from ecdigest import search_index
from ecdigest.operations import init_archive
from ecdigest.search import find_spans, make_snippet, parse_query

DATES = [None, dt.date(2021, 3, 1), dt.date(2022, 5, 2), dt.date(2022, 5, 2), dt.date(2023, 1, 9)]
ALPHABET = list("直播电商跨境網電台臺 ")
QUERIES = ["直", "網", "電商", "跨境", "直播 电"]
BOUNDS = [None, "2021-03-01", "2022-05-02", "2022-12-31"]


def _key(issue: Any, article: Any) -> str:
    date = issue.date or article.date
    return date.isoformat() if date else ""


def _matches(
    root: Path, text: str, within: str, since: str | None, until: str | None, issues: tuple[str, ...] = ()
) -> list[Any]:
    """(key, issue, pos, title folded, (issue id, article id)) of every match, brute force."""
    query = parse_query(text)
    found = []
    for issue, article in loaded_articles(root):
        if issues and issue.id not in issues:
            continue
        key = _key(issue, article)
        if (since or until) and not key:
            continue
        if (since and key < since) or (until and key > until):
            continue
        texts = {"title": [ref_fold(article.title)], "body": [ref_fold(article.body)]}
        texts["all"] = texts["title"] + texts["body"]
        if all(any(t in h for t in group for h in texts[within]) for group in query.groups):
            pos = issue.articles.index(article)
            found.append((key, issue.id, pos, texts["title"][0], (issue.id, article.id)))
    return found


def _newest_first(rows: list[Any]) -> list[Any]:
    """--sort date's order: date descending (undated last), issue id descending, position."""
    rows = sorted(rows, key=lambda r: r[2])
    rows.sort(key=lambda r: r[1], reverse=True)
    rows.sort(key=lambda r: r[0], reverse=True)
    return rows


def _check(root: Path, limit_rank: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_index, "RANK_LIMIT", limit_rank)
    ids = sorted({issue.id for issue, _ in loaded_articles(root)})
    some_issues = tuple(ids[: max(1, len(ids) - 1)])
    for text in QUERIES:
        for within in ("all", "title", "body"):
            for since, until, issues in [
                (None, None, ()),
                (BOUNDS[1], BOUNDS[2], ()),
                (BOUNDS[2], None, ()),
                # An article filter: the SQL joins every match to its row (no bare FTS query).
                (None, None, some_issues),
            ]:
                expected = _matches(root, text, within, since, until, issues)
                options = {"within": within, "since": since, "until": until, "issues": issues}
                _, result = search_ids(root, text, sort="date", **options)
                order = [(h.issue, h.article) for h in result.hits]
                assert order == [r[4] for r in _newest_first(expected)], (text, within, since, until)
                for n in (1, 2):
                    _, page = search_ids(root, text, sort="date", limit=n, **options)
                    assert [(h.issue, h.article) for h in page.hits] == order[:n]
                    assert page.total == len(expected)
                _, ranked = search_ids(root, text, **options)
                _check_ranking(ranked.hits, expected, limit_rank, text, within)


def _check_ranking(hits: list[Any], expected: list[Any], limit_rank: int, text: str, within: str) -> None:
    got = [(h.issue, h.article) for h in hits]
    assert sorted(got) == sorted(r[4] for r in expected)
    if len(expected) <= limit_rank:
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True)
        return
    cut = sorted((r[0] for r in expected), reverse=True)[limit_rank - 1]
    newer = [r for r in expected if r[0] >= cut]
    head, tail = got[: len(newer)], got[len(newer) :]
    assert sorted(head) == sorted(r[4] for r in newer), (text, within)
    assert tail == [r[4] for r in _newest_first([r for r in expected if r[0] < cut])]
    term = parse_query(text).groups[0][0]
    if len(parse_query(text).groups) == 1 and len(term) == 1 and within != "body":
        # One character in more articles than are ranked: titles that have it first.
        by_id = {r[4]: r for r in newer}
        titled = [term in by_id[h][3] for h in head]
        assert titled == sorted(titled, reverse=True)
        for flag in (True, False):
            part = [by_id[h] for h, t in zip(head, titled, strict=True) if t is flag]
            assert [r[4] for r in part] == [r[4] for r in _newest_first(part)]
    else:
        scores = [h.score for h in hits[: len(newer)]]
        assert scores == sorted(scores, reverse=True)


def _ordered_invariant(root: Path) -> None:
    conn = sqlite3.connect(root / ".ecdigest" / "search.sqlite3")
    try:
        ordered = int((conn.execute("SELECT value FROM meta WHERE key = 'ordered'").fetchone() or (0,))[0])
        keys = [
            row[0]
            for row in conn.execute(
                "SELECT coalesce(date, '') FROM articles WHERE id <= ? ORDER BY id", (ordered,)
            )
        ]
        assert keys == sorted(keys)
        for table in ("bi", "uni", "uni_t"):
            conn.execute(f"INSERT INTO {table}({table}) VALUES('integrity-check')")
    finally:
        conn.close()


texts = st.text(alphabet=ALPHABET, max_size=8)
articles = st.lists(st.tuples(texts, texts, st.sampled_from(DATES[1:])), min_size=1, max_size=4)
issue_specs = st.tuples(st.sampled_from(DATES), articles)


def _write(root: Path, name: str, number: int, spec: tuple[Any, Any]) -> None:
    date, items = spec
    write_issue(
        root,
        f"2020-{number:02d}",
        [{"title": t, "body": b, "date": d} for t, b, d in items],
        date=date,
        name=f"{name}.toml",
    )


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    first=st.lists(issue_specs, min_size=1, max_size=4),
    steps=st.lists(
        st.tuples(st.sampled_from(["rewrite", "delete", "rename", "add"]), st.integers(0, 9), issue_specs),
        max_size=4,
    ),
    limit_rank=st.sampled_from([1, 2, 3]),
)
def test_date_order_filters_and_capped_ranking_stay_exact(
    first: list[Any], steps: list[Any], limit_rank: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "archive"
        init_archive(root)
        files: dict[str, int] = {}
        for number, spec in enumerate(first, start=1):
            files[f"f{number}"] = number
            _write(root, f"f{number}", number, spec)
        _check(root, limit_rank, monkeypatch)
        _ordered_invariant(root)
        for number, (action, which, spec) in enumerate(steps, start=len(first) + 1):
            names = sorted(files)
            name = names[which % len(names)] if names else ""
            path = next(root.rglob(f"{name}.toml"), None) if name else None
            if action == "add" or path is None:
                files[f"f{number}"] = number
                _write(root, f"f{number}", number, spec)
            elif action == "rewrite":
                path.unlink()
                _write(root, name, files[name], spec)
            elif action == "delete":
                path.unlink()
                del files[name]
            else:
                path.rename(path.with_name(f"g{number}.toml"))
                files[f"g{number}"] = files.pop(name)
            _check(root, limit_rank, monkeypatch)
            _ordered_invariant(root)


def test_out_of_order_rows_are_numbered_afresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_index, "RANK_LIMIT", 2)
    root = tmp_path / "a"
    init_archive(root)
    for n in range(1, 11):
        write_issue(root, f"2023-{n:02d}", [{"title": "直播", "body": "电商"}], date=dt.date(2023, n, 1))
    search_ids(root, "直播")

    def state() -> tuple[int, int]:
        # A rebuild replaces the file: a connection of its own each time.
        conn = sqlite3.connect(root / ".ecdigest" / "search.sqlite3")
        try:
            ordered = int(conn.execute("SELECT value FROM meta WHERE key = 'ordered'").fetchone()[0])
            return ordered, int(conn.execute("SELECT max(id) FROM articles").fetchone()[0])
        finally:
            conn.close()

    assert state() == (10, 10)
    # The same number of articles and the same date: the ids it had.
    write_issue(root, "2023-03", [{"title": "直播带货", "body": "电商"}], date=dt.date(2023, 3, 1))
    search_ids(root, "直播")
    assert state() == (10, 10)
    # More articles than its place holds: added after every row, out of order.
    write_issue(
        root,
        "2023-04",
        [{"title": "直播", "body": "x"}, {"title": "y", "body": "直播"}],
        date=dt.date(2023, 4, 1),
    )
    search_ids(root, "直播")
    assert state() == (10, 12)
    # The newest issue grows: its rows stay ordered only if nothing is out of order before them.
    for n in (5, 6):
        write_issue(
            root,
            f"2023-{n:02d}",
            [{"title": "直播", "body": "x"}, {"title": "z", "body": "直播"}],
            date=dt.date(2023, n, 1),
        )
    _, result = search_ids(root, "直播", sort="date")
    # 6 of 13 rows out of order (more than RANK_LIMIT and a tenth): numbered afresh, in order.
    assert state() == (13, 13)
    assert [h.issue for h in result.hits][:3] == ["2023-10", "2023-09", "2023-08"]


def test_one_character_terms_use_the_character_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "a"
    init_archive(root)
    write_issue(root, "2023-01", [{"title": "網購", "body": "直播"}, {"title": "其他", "body": "网店"}])
    write_issue(
        root,
        "2023-02",
        [{"title": "x", "body": "网"}, {"title": "网", "body": "y"}],
        date=dt.date(2023, 7, 1),
    )
    for path in root.rglob("*.toml"):  # not written just now: no search reads them again
        os.utime(path, (1_000_000_000, 1_000_000_000))
    search_ids(root, "網")  # the index, built
    seen: list[str] = []
    monkeypatch.setattr(search_index, "RANK_LIMIT", 1)
    real = search_index._Plan.count_statements

    def spy(self: Any) -> Any:
        seen.append(self.table)
        return real(self)

    monkeypatch.setattr(search_index._Plan, "count_statements", spy)
    found, result = search_ids(root, "網")
    assert seen == ["uni"]
    assert [h.article for h in result.hits] == ["2023-02-002", "2023-02-001", "2023-01-001", "2023-01-002"]
    seen.clear()
    found, result = search_ids(root, "网", within="title")
    assert seen == ["uni_t"] and sorted(found) == [("2023-01", "2023-01-001"), ("2023-02", "2023-02-002")]


# --------------------------------------------------------------------------- across scripts


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    root = tmp_path / "a"
    init_archive(root)
    write_issue(
        root,
        "2023-01",
        [
            {"title": "跨境电商新规", "body": "台湾地区的跨境电商发展显著。"},
            {"title": "跨境電商在臺灣", "body": "網路購物與直播帶貨，發展顯著。"},
            {"title": "其他", "body": "无关的内容"},
        ],
    )
    return root


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("跨境電商", {"2023-01-001", "2023-01-002"}),
        ("跨境电商", {"2023-01-001", "2023-01-002"}),
        ("电", {"2023-01-001", "2023-01-002"}),
        ("網", {"2023-01-002"}),
        ("网路", {"2023-01-002"}),
        ("臺灣", {"2023-01-001", "2023-01-002"}),
        ("台湾", {"2023-01-001", "2023-01-002"}),
        ("显著", {"2023-01-001", "2023-01-002"}),
        ("直播带货", {"2023-01-002"}),
        ("著", {"2023-01-001", "2023-01-002"}),
    ],
)
def test_search_finds_either_script(scripts: Path, query: str, expected: set[str]) -> None:
    found, _ = search_ids(scripts, query)
    assert {article for _, article in found} == expected


def test_snippets_and_highlights_show_the_articles_own_text(scripts: Path) -> None:
    _, result = search_ids(scripts, "跨境电商 网路", limit=0)
    (hit,) = result.hits
    assert hit.title == "跨境電商在臺灣"
    assert hit.snippet == "網路購物與直播帶貨，發展顯著。"
    assert [hit.title[a:b] for a, b in hit.title_spans()] == ["跨境電商"]
    assert [hit.snippet[a:b] for a, b in hit.snippet_spans()] == ["網路"]
    body = "前文" * 30 + "網路購物"
    assert make_snippet(body, ["网路"]).endswith("網路購物")
    assert find_spans("臺灣與台湾", ["台湾"]) == [(0, 2), (3, 5)]
