"""The shortcuts a warm search takes to start faster answer exactly what the long way does.

Each shortcut skips work on every search's start (bench/RESULTS.md, "Scale"): the terms'
script key without building the translate table (zhkey), the invisible characters tested
without a set of all 4,300 of them (query), SQLite's C module without the `sqlite3`
package's date adapters (derived), no `array` until a document is built (search_index). Each is compared here with the long way it replaces.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _hardening import REPO, SHIPPED_ARCHIVE, cli_env
from hypothesis import given
from hypothesis import strategies as st

from ecdigest import query, zhkey

# --------------------------------------------------------------------------- zhkey: short texts


def test_table_characters_are_unique_and_ordered() -> None:
    """_fold_short takes the first place a character is found: the table's entry only if
    each character has one entry."""
    characters = zhkey.PAIRS[0::2]
    assert len(set(characters)) == len(characters) == len(zhkey.table())
    assert list(characters) == sorted(characters)


def test_short_fold_is_translate_for_every_character_in_the_table() -> None:
    table = zhkey.table()
    keys = zhkey.PAIRS[1::2]
    for char in zhkey.PAIRS[0::2] + keys + "跨境电商直播网abcＡＢＣ🙂\U000e0041":
        assert zhkey._fold_short(char) == char.translate(table), repr(char)


@given(
    st.text(
        alphabet=st.sampled_from(zhkey.PAIRS[:400] + zhkey.PAIRS[-400:] + "跨境电商 ab５\U00020000"),
        max_size=64,
    )
)
def test_short_fold_is_translate(text: str) -> None:
    assert zhkey._fold_short(text) == text.translate(zhkey.table())


def test_random_short_texts_fold_as_translate() -> None:
    rng = random.Random(11)
    pool = zhkey.PAIRS + "电子商务动态跨境电商网络直播，。a1 "
    for _ in range(2000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(1, 64)))
        assert zhkey._fold_short(text) == text.translate(zhkey.table())


def _fresh(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_fold_of_a_search_term_builds_no_table() -> None:
    """A fresh process (a search): the terms fold through the shortcut, the same keys."""
    code = (
        "from ecdigest import zhkey\n"
        "out = [zhkey.fold(t) for t in ('跨境電商', '臺灣', '著', 'abc', '电商')]\n"
        "print(len(zhkey._table), '|'.join(out))\n"
    )
    built, folded = _fresh(code).split(" ")
    assert built == "0"
    assert folded == "跨境电商|台湾|着|abc|电商"


# --------------------------------------------------------------------------- query: invisible characters


DEFAULT_IGNORABLE = [(0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
                     (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
                     (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
                     (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
                     (0xE0000, 0xE0FFF)]  # fmt: skip


def _ref_ignorable(char: str) -> bool:
    return any(low <= ord(char) <= high for low, high in DEFAULT_IGNORABLE)


def test_is_ignorable_is_the_unicode_list() -> None:
    """Every code point near and inside the ranges (each range's ends and neighbours), and
    the whole tag block, answer as Unicode's list does."""
    points = set(range(0, 0x3200)) | set(range(0xDFFF0, 0xE1010)) | {0x10FFFF}
    for low, high in DEFAULT_IGNORABLE:
        points |= {low - 1, low, low + 1, high - 1, high, high + 1}
    for point in sorted(points):
        if 0xD800 <= point <= 0xDFFF:
            continue
        char = chr(point)
        assert query.is_ignorable(char) == _ref_ignorable(char), hex(point)


@given(
    st.text(
        alphabet=st.sampled_from(["a", "跨", " ", "\u00ad", "\u200b", "\ufeff", "\U000e0001", "\U000e0fff"])
        | st.characters(),
        max_size=300,
    )
)
def test_drop_ignorable_is_the_definition(text: str) -> None:
    assert query.drop_ignorable(text) == "".join(c for c in text if not _ref_ignorable(c))


# --------------------------------------------------------------------------- derived: the SQLite driver


def test_driver_is_what_sqlite3_exports() -> None:
    import sqlite3

    from ecdigest.derived import sqlite_driver

    driver = sqlite_driver()
    for name in ("connect", "Connection", "Error", "DatabaseError", "OperationalError", "sqlite_version"):
        assert getattr(driver, name) is getattr(sqlite3, name)


# The driver is loaded without functools (derived._load_without_functools): its stand-in
# lru_cache must be functools' own, and nothing after it may see the stand-in.


@given(
    maxsize=st.sampled_from([None, -3, 0, 1, 2, 5, 128]),
    typed=st.booleans(),
    calls=st.lists(st.sampled_from([0, 1, 2, 3, 1.0, 2.0, "a", "b", True, False]), max_size=60),
)
def test_lru_cache_is_functools_lru_cache(maxsize: int | None, typed: bool, calls: list[object]) -> None:
    import functools

    from ecdigest.derived import lru_cache

    seen: tuple[list[object], list[object]] = ([], [])

    def ours(x: object) -> tuple[str, object]:
        seen[0].append(x)
        return type(x).__name__, x

    def theirs(x: object) -> tuple[str, object]:
        seen[1].append(x)
        return type(x).__name__, x

    mine, reference = lru_cache(maxsize, typed)(ours), functools.lru_cache(maxsize, typed)(theirs)
    assert [mine(x) for x in calls] == [reference(x) for x in calls]
    assert seen[0] == seen[1]
    assert tuple(mine.cache_info()) == tuple(reference.cache_info())
    mine.cache_clear()
    assert tuple(mine.cache_info())[:2] == (0, 0)


def test_lru_cache_of_anything_else_is_functools_answer() -> None:
    from ecdigest.derived import lru_cache

    def twice(x: int) -> int:
        return 2 * x

    cached = lru_cache(twice)  # functools' bare-decorator form
    assert cached(4) == 8 and cached.__wrapped__ is twice
    with pytest.raises(TypeError):
        lru_cache("128")


# A process as a plain install starts it: this test venv's editable install loads functools
# at start-up (its import hook), so these run without site-packages, the repository on the path.
_PLAIN = ("-S",)


def _plain_env() -> dict[str, str]:
    return cli_env(PYTHONPATH=str(REPO))


_FRESH = (
    "import sys\n"
    "from ecdigest.derived import sqlite_driver\n"
    "driver = sqlite_driver()\n"
    "loaded = [m for m in ('functools', 'collections', 'types') if m in sys.modules]\n"
    "conn = driver.connect(':memory:')\n"
    "rows = [conn.execute(f'SELECT {i % 300}, ?', (i,)).fetchone() for i in range(2000)]\n"
    "assert rows == [(i % 300, i) for i in range(2000)], rows[:5]\n"
    "conn.execute('CREATE TABLE t(x)')\n"
    "conn.executemany('INSERT INTO t VALUES (?)', [(i,) for i in range(500)])\n"
    "assert conn.execute('SELECT sum(x) FROM t').fetchone() == (124750,)\n"
    "import functools, sqlite3\n"
    "assert functools.lru_cache.__module__ == 'functools' and hasattr(functools, 'partial')\n"
    "assert sqlite3.connect is driver.connect and sqlite_driver() is driver\n"
    "assert sqlite3.connect(':memory:').execute('SELECT 1').fetchone() == (1,)\n"
    "print(loaded)\n"
)


def test_driver_loads_without_functools_in_a_fresh_process() -> None:
    """A command's process: `_sqlite3` loads without functools, collections or types, its
    statements (more than the 128 its cache holds) answer as usual, and functools and the
    sqlite3 package load afterwards as they always do."""
    result = subprocess.run(
        [sys.executable, *_PLAIN, "-c", _FRESH], capture_output=True, text=True, check=False, env=_plain_env()
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_module_asking_more_of_functools_is_loaded_the_usual_way(tmp_path: Path) -> None:
    (tmp_path / "needs_cache.py").write_text("from functools import lru_cache\nGOT = lru_cache.__module__\n")
    (tmp_path / "needs_more.py").write_text(
        "from functools import lru_cache, partial\nGOT = (lru_cache.__module__, partial.__module__)\n"
    )
    code = (
        "import sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from ecdigest.derived import _load_without_functools as load\n"
        "print(load('needs_cache').GOT, 'functools' in sys.modules)\n"
        "print(load('needs_more').GOT, 'functools' in sys.modules)\n"
        "print(sys.modules['functools'].__file__ is not None)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        env=cli_env(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "ecdigest.derived False",
        "('functools', 'functools') True",
        "True",
    ]


@pytest.fixture(scope="module")
def warm_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    root = tmp_path_factory.mktemp("fast") / "archive"
    shutil.copytree(SHIPPED_ARCHIVE, root, ignore=shutil.ignore_patterns(".ecdigest"))
    _loaded(root, "search", "跨境")
    return root


PROBE = (
    "import sys, runpy, json\n"
    "sys.argv = ['ecdigest', *sys.argv[1:]]\n"
    "try:\n    runpy.run_module('ecdigest', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
)


def _loaded(root: Path, *args: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "--archive", str(root), *args],
        capture_output=True,
        text=True,
        check=False,
        env=cli_env(),
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [["search", "跨境"], ["search", "電商", "--format", "json"]])
def test_warm_search_loads_neither_the_sqlite3_package_nor_datetime(
    warm_archive: Path, args: list[str]
) -> None:
    """Nor `array` (the index's documents are built only when a file changed)."""
    loaded = _loaded(warm_archive, *args)
    assert "_sqlite3" in loaded
    unwanted = {"sqlite3", "datetime", "_datetime", "array"}
    assert not loaded & unwanted, sorted(loaded & unwanted)


SCRIPT_PROBE = (
    "import sys\n"
    "sys.argv = ['ecdigest', *sys.argv[1:]]\n"
    "from ecdigest.launcher import main\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    "loaded = sorted(sys.modules)\n"
    "import json\n"
    "print(json.dumps(loaded), file=sys.stderr)\n"
)


@pytest.mark.parametrize(
    "args", [["search", "跨境"], ["search", "直播", "--section", "行业资讯", "--since", "2020-01-01"]]
)
def test_console_script_search_loads_no_functools(warm_archive: Path, args: list[str]) -> None:
    """The console script's warm search (scripts/ecdigest: `launcher.main`) prints what the
    Typer app prints and loads neither functools nor what it brings (collections, types)."""
    command = ["--archive", str(warm_archive), *args]
    probe = subprocess.run(
        [sys.executable, *_PLAIN, "-c", SCRIPT_PROBE, *command],
        capture_output=True,
        check=False,
        env=_plain_env(),
    )
    assert probe.returncode == 0, probe.stderr
    loaded = set(json.loads(probe.stderr.decode().strip().splitlines()[-1]))
    assert "_sqlite3" in loaded
    assert not loaded & {"functools", "collections", "types", "sqlite3"}, sorted(
        loaded & {"functools", "collections", "types"}
    )
    app = subprocess.run(
        [sys.executable, "-c", "from ecdigest.cli import main; main()", *command],
        capture_output=True,
        check=False,
        env=cli_env(),
    )
    assert app.returncode == 0, app.stderr
    assert probe.stdout == app.stdout and app.stdout.count(b"\n") > 2


@pytest.mark.parametrize(("term", "folds"), [("无关", False), ("直播", True), ("跨境电商", True)])
def test_warm_search_snippets_compile_no_pattern(tmp_path: Path, term: str, folds: bool) -> None:
    """The snippets of a warm search fold whole bodies when a hit's body lacks the term in
    its plain form (the match is in the title, or in Traditional characters): the invisible
    characters are looked for without compiling a pattern (with importing `re`, ~3 ms)."""
    from test_search import write_issue

    from ecdigest.operations import init_archive

    root = tmp_path / "a"
    init_archive(root)
    long_body = "无关的内容，" * 60
    write_issue(
        root,
        "2023-01",
        [{"title": "直播", "body": long_body}, {"title": "x", "body": long_body + "跨境電商"}],
    )
    _loaded(root, "search", term)  # the index, built
    code = PROBE.replace(
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)",
        "q = sys.modules['ecdigest.query']\n"
        "print(json.dumps([len(q._ignorable_pattern), q._checked[0]]), file=sys.stderr)",
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "--archive", str(root), "search", term],
        capture_output=True,
        text=True,
        check=False,
        env=cli_env(),
    )
    assert result.returncode == 0, result.stderr
    assert "无关的内容" in result.stdout
    compiled, checked = json.loads(result.stderr.strip().splitlines()[-1])
    assert (compiled, checked > 0) == (0, folds)


long_texts = st.text(
    alphabet=st.sampled_from(
        ["a", "跨", "境", " ", "\n", "\u00ad", "\u200b", "\ufeff", "\U000e0001", "\U000e0fff"]
    )
    | st.characters(),
    min_size=257,
    max_size=700,
)


@given(long_texts)
def test_drop_ignorable_of_long_texts_is_the_definition_both_ways(text: str) -> None:
    """Long texts: the set check (a search's few bodies) and the compiled pattern (an index
    build's millions of characters) both give the definition's answer."""
    expected = "".join(c for c in text if not _ref_ignorable(c))
    saved_checked, saved_pattern = query._checked[0], list(query._ignorable_pattern)
    try:
        query._checked[0] = 0
        query._ignorable_pattern.clear()
        assert query.drop_ignorable(text) == expected  # the set check
        query._checked[0] = query._CHECK_BEFORE_PATTERN
        assert query.drop_ignorable(text) == expected  # the pattern (compiled here)
        query._checked[0] = 0
        assert query.drop_ignorable(text) == expected  # the pattern once it exists
    finally:
        query._checked[0] = saved_checked
        query._ignorable_pattern[:] = saved_pattern


# --------------------------------------------------------------------------- derived: the scan in a thread


def test_scan_in_a_thread_is_the_scan(warm_archive: Path) -> None:
    from ecdigest import derived

    pending = derived.ScanInThread(str(warm_archive))
    assert pending.result() == derived.scan(str(warm_archive))
    assert pending.result() == derived.scan(str(warm_archive))  # asked again: the same answer


def test_scan_in_a_thread_raises_its_error_to_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ecdigest import derived

    def broken(root: str) -> dict[bytes, tuple[int, int]]:
        raise OSError(5, "the disk went away")

    monkeypatch.setattr(derived, "scan", broken)
    pending = derived.ScanInThread(str(tmp_path))
    with pytest.raises(OSError, match="the disk went away"):
        pending.result()


def test_search_store_scans_in_a_thread_and_sees_an_edit(tmp_path: Path) -> None:
    """The search index opens with the scan under way: an edit made before the search is
    seen, as with a scan done first."""
    from test_search import search_ids, write_issue

    from ecdigest import search_index
    from ecdigest.operations import init_archive

    assert search_index.STORE.scan_in_thread
    root = tmp_path / "a"
    init_archive(root)
    write_issue(root, "2023-01", [{"title": "直播", "body": "x"}])
    assert len(search_ids(root, "直播")[0]) == 1
    write_issue(root, "2023-01", [{"title": "直播", "body": "x"}, {"title": "y", "body": "直播带货"}])
    assert len(search_ids(root, "直播")[0]) == 2


# --------------------------------------------------------------------------- search_index: the count beside


def _count_archive(root: Path, issues: int) -> None:
    from test_search import write_issue

    from ecdigest.operations import init_archive

    init_archive(root)
    for n in range(issues):
        write_issue(
            root,
            f"2023-{n + 1:02d}",
            [{"title": f"直播{k}", "body": "跨境电商" if k % 2 else "网店"} for k in range(3)],
            date=dt.date(2023, n + 1, 1),
        )
    _age(root)


def _age(root: Path) -> None:
    """Files as an archive has them: not written in the last seconds (racily clean files are
    read again by every search)."""
    import os
    import time

    old = time.time() - 3600
    for path in root.rglob("*.toml"):
        os.utime(path, (old, old))


def _counted_in_thread(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """Spy: what each Count's thread found (None: nothing, the count is taken again here)."""
    from ecdigest import search_index

    seen: list[int | None] = []
    real = search_index.Count.result

    def result(self: Any) -> int:
        if self._done is not None:
            with self._done:
                pass
        seen.append(self.value)
        return real(self)

    monkeypatch.setattr(search_index.Count, "result", result)
    return seen


@pytest.mark.parametrize(
    ("words", "options"),
    [
        ("直播", {}),
        ("网", {}),
        ("跨境电商", {"sort": "date", "limit": 2}),
        ("直播 -网店", {"sections": ["行业资讯"], "since": "2023-03-01"}),
        ("直播", {"within": "title", "limit": 0}),
    ],
)
def test_count_beside_is_the_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, words: str, options: dict[str, Any]
) -> None:
    """The thread's count (second connection) is the count the first connection gives,
    with RANK_LIMIT small so that the newest-first cut is taken too (a search that ranks
    every match counts them in its ranking statement and starts no thread), and every
    query shape counted beside (as a phrase's is; `count_beside_is_for_phrases`)."""
    from test_search import search_ids

    from ecdigest import search_index

    root = tmp_path / "a"
    _count_archive(root, 6)
    monkeypatch.setattr(search_index, "RANK_LIMIT", 2)
    monkeypatch.setattr(search_index._Plan, "count_beside", lambda self: True)
    seen = _counted_in_thread(monkeypatch)
    found, result = search_ids(root, words, **options)
    assert seen == [result.total] and result.total > 0
    monkeypatch.setattr(search_index, "MEMORY", str(root / ".ecdigest" / "search.sqlite3"))  # no thread
    seen.clear()
    again, alone = search_ids(root, words, **options)
    assert seen == [None]
    assert (again, alone.total, [h.article for h in alone.hits]) == (
        found,
        result.total,
        [h.article for h in result.hits],
    )


@pytest.mark.parametrize(
    ("words", "options", "beside"),
    [
        ("网", {}, False),  # uni: one character's list
        ("播", {"within": "title"}, False),  # uni_t
        ("直播", {}, False),  # bi: one pair's list
        ("直播 -网店", {"sections": ["行业资讯"]}, False),
        ("直播 OR 网店", {"sort": "date", "limit": 2}, False),
        ("跨境电商", {}, True),  # a phrase of three pairs: positions
        ("跨境电商", {"sort": "date", "limit": 2}, True),
        ("直播 -跨境电商", {}, True),
        ("网 直播", {}, True),  # a one-character term in bi: a prefix query
        ("电商", {"within": "body"}, False),
    ],
)
def test_count_beside_is_for_phrases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, words: str, options: dict[str, Any], beside: bool
) -> None:
    """Counted in a thread only when counting reads positions or merges many lists; else on
    the first connection after the ranking: the same count and page as counted beside."""
    from test_search import search_ids

    from ecdigest import search_index

    root = tmp_path / "a"
    _count_archive(root, 6)
    monkeypatch.setattr(search_index, "RANK_LIMIT", 2)
    seen = _counted_in_thread(monkeypatch)
    found, result = search_ids(root, words, **options)
    assert result.total > 2, (words, result.total)
    assert seen == ([result.total] if beside else [None]), words
    monkeypatch.setattr(search_index._Plan, "count_beside", lambda self: not beside)
    seen.clear()
    again, other = search_ids(root, words, **options)
    assert seen == ([None] if beside else [result.total]), words
    assert (again, other.total, [h.article for h in other.hits]) == (
        found,
        result.total,
        [h.article for h in result.hits],
    )


def test_count_beside_a_rebuilt_index_counts_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An index rebuilt and renamed over the one this search reads is another state: the
    thread opens the new file and finds its `files` differ, and the count is this
    connection's (the page and the count agree)."""
    from test_search import write_issue

    from ecdigest import derived, search_index
    from ecdigest.search import parse_query

    root = tmp_path / "a"
    _count_archive(root, 3)
    monkeypatch.setattr(search_index, "RANK_LIMIT", 4)  # more matches: counted beside
    monkeypatch.setattr(search_index._Plan, "count_beside", lambda self: True)  # as a phrase is
    index = search_index.open_index(str(root))
    try:
        write_issue(root, "2023-09", [{"title": "直播", "body": "直播"}], date=dt.date(2023, 9, 1))
        derived.discard(index.place)  # unlinked: the next open builds a new file
        search_index.open_index(str(root)).close()
        seen = _counted_in_thread(monkeypatch)
        rows, total = index.query(parse_query("直播"), limit=0)
    finally:
        index.close()
    assert seen == [None]
    assert total == len(rows) == 9
    assert search_index.open_index(str(root)).query(parse_query("直播"), limit=0)[1] == 10


def test_count_beside_a_waiting_writer_does_not_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer waiting to commit (it holds SQLite's PENDING lock and waits for this search's
    read to end) refuses new readers: the thread gives up at once and the count is taken
    on the first connection, instead of both waiting for each other."""
    import threading
    import time

    from ecdigest import derived, search_index
    from ecdigest.search import parse_query

    root = tmp_path / "a"
    _count_archive(root, 3)
    monkeypatch.setattr(search_index, "RANK_LIMIT", 4)  # more matches: counted beside
    monkeypatch.setattr(search_index._Plan, "count_beside", lambda self: True)  # as a phrase is
    index = search_index.open_index(str(root))
    writer = derived.connect(index.place, busy_ms=20_000)
    committed = threading.Event()

    def write() -> None:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('test', 'x')")
        writer.execute("COMMIT")  # waits for the search's read transaction
        committed.set()

    try:
        index.conn.execute("SELECT count(*) FROM files").fetchone()  # the read lock, held
        thread = threading.Thread(target=write)
        thread.start()
        time.sleep(0.3)  # the writer is waiting to commit
        assert not committed.is_set()
        seen = _counted_in_thread(monkeypatch)
        started = time.monotonic()
        rows, total = index.query(parse_query("直播"), limit=0)
        assert time.monotonic() - started < 10
        assert seen == [None] and total == len(rows) == 9
    finally:
        index.close()
    thread.join(20)
    assert committed.is_set()
    writer.close()


# --------------------------------------------------------------------------- search: snippets without the table


def _first_match_the_long_way(text: str, terms: tuple[str, ...]) -> int:
    """search._first_match before the shortcut: the whole text's key for missing terms."""
    from ecdigest.search import find_spans

    best = -1
    lowered = text.lower()
    exact = len(lowered) == len(text)
    missing = []
    for term in terms:
        position = lowered.find(term) if exact else -1
        if position < 0:
            missing.append(term)
        elif best < 0 or position < best:
            best = position
    if missing:
        whole = query.key(text)
        missing = [term for term in missing if term in whole]
    if missing:
        spans = find_spans(text, missing)
        if spans and (best < 0 or spans[0][0] < best):
            best = spans[0][0]
    return best


_SNIPPET_ALPHABET = (
    "网網台臺檯颱湾灣着著\uf9df发發髮后後电電商跨境直播⽹Ａa５5 \n\u200b\u00ad，。"
    + zhkey.PAIRS[:60]
    + zhkey.PAIRS[-60:]
)


@given(
    st.text(alphabet=st.sampled_from(_SNIPPET_ALPHABET), max_size=400),
    st.lists(
        st.text(alphabet=st.sampled_from(_SNIPPET_ALPHABET), min_size=1, max_size=4), min_size=1, max_size=3
    ),
)
def test_first_match_is_the_long_way(text: str, words: list[str]) -> None:
    from ecdigest import search

    terms = tuple(t for t in dict.fromkeys(query.key(w) for w in words) if t.strip())
    if not terms:
        return
    assert search._first_match(text, terms) == _first_match_the_long_way(text, terms)


def test_sources_are_the_table_read_backwards() -> None:
    from ecdigest import search

    table = zhkey.table()
    for char in "网網台臺湾灣着著发發髮后後a跨境" + zhkey.PAIRS[1:400:2] + zhkey.PAIRS[0:400:2]:
        expected = {chr(c) for c in table if table[c] == char} | ({char} if ord(char) not in table else set())
        assert set(search._sources(char)) == expected, char


def test_count_beside_not_begun_is_counted_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ranking done before the thread began to count (a slow second connection): the
    count is taken here, once, and the thread leaves it alone."""
    import threading
    import time

    from test_search import search_ids

    from ecdigest import search_index

    root = tmp_path / "a"
    _count_archive(root, 4)
    search_ids(root, "直播")  # the index, built
    monkeypatch.setattr(search_index, "RANK_LIMIT", 4)  # more matches: counted beside
    monkeypatch.setattr(search_index._Plan, "count_beside", lambda self: True)  # as a phrase is
    real_connect = search_index.connect
    opened = threading.Event()
    counted: list[str] = []
    real_count = search_index._count

    def slow_connect(place: str, busy_ms: int = 0, read_only: bool = False) -> Any:
        time.sleep(0.5)
        conn = real_connect(place, busy_ms=busy_ms, read_only=read_only)
        opened.set()
        return conn

    def spy_count(conn: Any, statements: Any) -> int:
        counted.append(threading.current_thread().name)
        return real_count(conn, statements)

    monkeypatch.setattr(search_index, "connect", slow_connect)
    monkeypatch.setattr(search_index, "_count", spy_count)
    started = time.monotonic()
    found, result = search_ids(root, "直播")
    assert time.monotonic() - started < 0.5  # did not wait for the thread
    assert result.total == len(found) == 12
    assert opened.wait(5)
    time.sleep(0.2)
    assert counted == [threading.main_thread().name]


def test_search_runs_without_the_cyclic_collector_and_gives_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from test_search import search_ids

    from ecdigest import search_index

    root = tmp_path / "a"
    _count_archive(root, 2)
    seen: list[bool] = []
    real = search_index.open_unchecked

    def spy(place: str, files: Any = None) -> Any:
        seen.append(gc.isenabled())
        return real(place, files)

    monkeypatch.setattr(search_index, "open_unchecked", spy)
    assert gc.isenabled()
    assert search_ids(root, "直播")[1].total == 6
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        search_ids(root, "直播")
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


# --------------------------------------------------------------------------- search: answering while the scan runs


def _answers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Spy: 'early' for each answer from the index before the scan was done, 'checked' for
    each from an index known to be up to date."""
    from ecdigest import search, search_index

    seen: list[str] = []
    real_answer = search._answer
    real_open = search_index.open_index

    def answer(index: Any, options: Any) -> Any:
        seen.append("checked" if getattr(index, "checked", False) else "early")
        return real_answer(index, options)

    def open_index(root: str, early: Any = None) -> Any:
        index = real_open(root, early)
        index.checked = True
        return index

    monkeypatch.setattr(search, "_answer", answer)
    monkeypatch.setattr(search_index, "open_index", open_index)
    monkeypatch.setattr(search_index.Index, "checked", False, raising=False)
    return seen


def test_an_up_to_date_index_answers_while_the_scan_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_search import search_ids

    root = tmp_path / "a"
    _count_archive(root, 3)
    search_ids(root, "直播")  # the index, built
    seen = _answers(monkeypatch)
    found, result = search_ids(root, "直播")
    assert seen == ["early"] and result.total == len(found) == 9


def test_an_edit_the_scan_finds_is_answered_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file edited in place since the last search: the early answer is thrown away, the
    index brought up to date, and asked again; so is an error that only the stale index gave
    (a section the edit brought)."""
    import os

    from test_search import search_ids, write_issue

    root = tmp_path / "a"
    _count_archive(root, 2)
    search_ids(root, "直播")
    path = write_issue(
        root,
        "2023-01",
        [{"title": "直播新规", "body": "直播", "section": "政策法规"}],
        date=dt.date(2023, 1, 1),
    )
    os.utime(path, (1_000_000_000, 1_000_000_000))
    seen = _answers(monkeypatch)
    found, result = search_ids(root, "直播", sections=["政策法规"])
    assert seen == ["early", "checked"]
    assert found == {("2023-01", "2023-01-001")}
    seen.clear()
    found, result = search_ids(root, "直播", sections=["政策法规"])
    assert seen == ["early"] and result.total == 1


def test_an_error_of_an_up_to_date_index_is_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_search import search_ids

    from ecdigest.errors import UsageError

    root = tmp_path / "a"
    _count_archive(root, 2)
    search_ids(root, "直播")
    seen = _answers(monkeypatch)
    with pytest.raises(UsageError, match="unknown section '无此栏目'"):
        search_ids(root, "直播", sections=["无此栏目"])
    assert seen == ["early", "checked"]  # asked again from an index known to be current


def test_a_search_right_after_a_write_answers_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file written within RACY_NS of the search that last read it (`add`, then a search):
    its bytes still have the stored digest, so the early answer is kept (the same allowance
    `open_store` makes: derived.same_bytes); an edit in place that keeps the size and the
    mtime within that window is still found, and answered again."""
    import os
    import shutil

    from test_search import search_ids, write_issue

    from ecdigest import derived

    # The window, wide enough that a loaded machine stays inside it for the whole test.
    monkeypatch.setattr(derived, "RACY_NS", 600 * 1_000_000_000)
    root = tmp_path / "a"
    _count_archive(root, 2)
    search_ids(root, "直播")
    path = write_issue(root, "2023-01", [{"title": "直播新规", "body": "直播要闻"}], date=dt.date(2023, 1, 1))
    search_ids(root, "直播")  # reads the new file (its size and mtime changed)
    seen = _answers(monkeypatch)
    found, result = search_ids(root, "直播")
    assert seen == ["early"]
    assert ("2023-01", "2023-01-001") in found and result.total == len(found) == 4

    stat = os.stat(path)
    data = path.read_bytes()
    edited = data.replace("直播新规".encode(), "网店新规".encode()).replace(
        "直播要闻".encode(), "网店要闻".encode()
    )
    assert len(edited) == len(data) and edited != data
    path.write_bytes(edited)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the same size and mtime
    seen.clear()
    found, result = search_ids(root, "直播")
    assert seen == ["early", "checked"]
    assert ("2023-01", "2023-01-001") not in found and result.total == len(found) == 3
    fresh = tmp_path / "fresh"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns(".ecdigest"))
    expected, reference = search_ids(fresh, "直播")
    assert (found, result.total) == (expected, reference.total)


def test_random_edits_answer_as_a_fresh_index(tmp_path: Path) -> None:
    """Edits, deletions and new files, each aged to another old mtime, between searches:
    every answer (early or not) is the answer of an index built afresh from the files."""
    import os
    import shutil

    from test_search import search_ids, write_issue

    rng = random.Random(18)
    root = tmp_path / "a"
    _count_archive(root, 3)
    words = ["直播", "网店", "跨境电商", "政策"]
    for step in range(24):
        name = f"2023-{rng.randint(1, 5):02d}"
        path = root / "2023" / f"{name}.toml"
        if rng.random() < 0.2 and path.exists():
            path.unlink()
        else:
            articles = [
                {"title": rng.choice(words) + str(k), "body": "".join(rng.choices(words, k=3))}
                for k in range(rng.randint(1, 4))
            ]
            path = write_issue(root, name, articles, date=dt.date(2023, int(name[-2:]), 1))
            stamp = 1_000_000_000 + step * 7
            os.utime(path, (stamp, stamp))
        term = rng.choice(words)
        found, result = search_ids(root, term)
        fresh = tmp_path / f"fresh{step}"
        shutil.copytree(root, fresh, ignore=shutil.ignore_patterns(".ecdigest"))
        expected, reference = search_ids(fresh, term)
        assert (found, result.total) == (expected, reference.total), step
        shutil.rmtree(fresh)


@pytest.mark.parametrize("name", ["search.sqlite3", "odd?name#%.sqlite3"])
def test_the_count_beside_never_creates_a_database(tmp_path: Path, name: str) -> None:
    """A thread that comes late (its search is over, the index deleted) must not leave an
    empty database behind: it opens the index read-only, and only an existing file."""
    import sqlite3

    from ecdigest import derived

    place = str(tmp_path / name)
    with pytest.raises(sqlite3.OperationalError):
        derived.connect(place, read_only=True).execute("SELECT 1 FROM sqlite_master").fetchall()
    assert not (tmp_path / name).exists()
    writer = derived.connect(place)
    writer.execute("CREATE TABLE t(x)")
    writer.close()
    reader = derived.connect(place, read_only=True)
    assert reader.execute("SELECT name FROM sqlite_master").fetchall() == [("t",)]
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.execute("INSERT INTO t VALUES (1)")
    reader.close()


def test_titles_first_reads_the_titles_from_the_newest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A one-character term in more than RANK_LIMIT articles puts titles that have it first
    among the newest; the titles' list read from the first of the newest gives the order the
    whole list gives, with ids added out of date order (loose) among them."""
    import os

    from test_search import search_ids, write_issue

    from ecdigest import search_index
    from ecdigest.operations import init_archive

    root = tmp_path / "a"
    init_archive(root)
    rng = random.Random(5)

    def issue(month: int) -> None:
        articles = [
            {
                "title": rng.choice(["网店", "直播", "网购新规", "其他"]),
                "body": rng.choice(["网", "网络", "x"]),
            }
            for _ in range(6)
        ]
        path = write_issue(root, f"2023-{month:02d}", articles, date=dt.date(2023, month, 1))
        os.utime(path, (1_000_000_000 + month, 1_000_000_000 + month))

    for month in (3, 6, 9, 12):
        issue(month)
    search_ids(root, "网")
    for month in (1, 7, 10):  # older than the newest: numbered out of order
        issue(month)
    search_ids(root, "网")  # the update (RANK_LIMIT as shipped: no renumbering)
    monkeypatch.setattr(search_index, "RANK_LIMIT", 7)
    real_split = search_index._Plan.split

    def whole_list(self: Any, key: str) -> Any:
        found = real_split(self, key)
        self.newest_from = 1
        return found

    orders = []
    for bounded in (True, False):
        if not bounded:
            monkeypatch.setattr(search_index._Plan, "split", whole_list)
        for within in ("all", "title"):
            _, result = search_ids(root, "网", within=within)
            orders.append([(h.issue, h.article) for h in result.hits])
    assert orders[:2] == orders[2:]
    ordered = int(
        search_index.open_index(str(root))
        .conn.execute("SELECT value FROM meta WHERE key = 'ordered'")
        .fetchone()[0]
    )
    assert ordered < 42  # some rows were added out of order


def test_the_console_search_freezes_what_it_leaves_for_the_end(warm_archive: Path) -> None:
    """The fast path's search ends its process: what is left is frozen (the collection
    Python runs while ending skips it) after the output is written."""
    code = PROBE.replace(
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)",
        "import gc\nprint(json.dumps(gc.get_freeze_count()), file=sys.stderr)",
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "--archive", str(warm_archive), "search", "跨境"],
        capture_output=True,
        text=True,
        check=False,
        env=cli_env(),
    )
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.rstrip().endswith(("articles match", "article matches")) or "showing" in result.stdout
    )
    assert json.loads(result.stderr.strip().splitlines()[-1]) > 1000


# --------------------------------------------------------------------------- search: counted by the ranking


def _ranked_archive(root: Path, rng: random.Random) -> None:
    """Issues of random words, some dates repeated, two files with the same issue id (ties
    in every ordering column but the score), and an older issue written last (ids out of
    date order)."""
    from test_search import write_issue

    from ecdigest.operations import init_archive

    words = ["直播", "网店", "跨境电商", "政策", "网"]
    init_archive(root)

    def articles() -> list[dict[str, Any]]:
        same = rng.choice(words)
        return [
            {
                "title": rng.choice(words) if rng.random() < 0.5 else same,
                "body": " ".join(rng.choices(words, k=rng.randint(1, 4))),
                "section": rng.choice(["行业资讯", "政策法规"]),
            }
            for _ in range(rng.randint(1, 5))
        ]

    for n in range(6):
        write_issue(root, f"2023-{n + 1:02d}", articles(), date=dt.date(2023, 1 + n % 4, 1))
    write_issue(root, "2023-02", articles(), date=dt.date(2023, 2, 1), name="copy.toml")
    _age(root)
    from test_search import search_ids

    search_ids(root, "网")  # built
    write_issue(root, "2022-12", articles(), date=dt.date(2022, 12, 1))
    _age(root)
    search_ids(root, "网")  # added out of date order


@pytest.mark.parametrize("seed", range(6))
def test_the_ranking_statement_counts_as_the_count_statements(tmp_path: Path, seed: int) -> None:
    """`select_counted` gives the page `select` gives (the same order, ties included) and
    the count the count statements give, for queries, filters and limits of every kind."""
    from ecdigest import search_index
    from ecdigest.search import parse_query

    rng = random.Random(seed)
    root = tmp_path / "a"
    _ranked_archive(root, rng)
    index = search_index.open_index(str(root))
    try:
        for words, within, options, limit in [
            ("直播", "all", {}, 20),
            ("网", "all", {}, 3),
            ("网", "title", {}, 0),
            ("跨境电商", "all", {"sections": ["政策法规"]}, 2),
            ("直播 OR 政策 -网店", "all", {"since": "2023-02-01"}, 0),
            ("网店 政策", "body", {"issues": ["2023-02", "2022-12"], "until": "2023-03-01"}, 1),
            ("没有", "all", {}, 20),
        ]:
            for score in (search_index._BM25, "0"):
                plan = search_index._Plan(
                    index.conn,
                    index.place,
                    parse_query(words),
                    within=within,
                    sections=options.get("sections", []),
                    sources=[],
                    issues=options.get("issues", []),
                    since=options.get("since"),
                    until=options.get("until"),
                )
                assert plan.top > plan.ordered  # both arms: ids in date order and loose ones
                order = f"s, {plan._ORDER}"
                page, count = plan.select_counted(plan.arms(), score, order, limit)
                assert page == plan.select(plan.arms(), score, order, limit), (words, score)
                assert count == search_index._count(index.conn, plan.count_statements()), words
    finally:
        index.close()


def test_a_search_ranking_every_match_counts_without_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At most RANK_LIMIT matches: no count beside (no thread, no second connection); the
    count and the page are those of the same search counted beside (RANK_LIMIT small)."""
    from test_search import search_ids

    from ecdigest import search_index

    root = tmp_path / "a"
    _ranked_archive(root, random.Random(7))
    started: list[int] = []
    real_init = search_index.Count.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        started.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(search_index.Count, "__init__", init)
    for words, options in [("网", {}), ("直播 OR 政策", {"limit": 2}), ("网店", {"sections": ["政策法规"]})]:
        started.clear()
        found, result = search_ids(root, words, **options)
        assert started == [] and result.total > 0, words
        monkeypatch.setattr(search_index, "RANK_LIMIT", 1)
        again, beside = search_ids(root, words, **options)
        monkeypatch.setattr(search_index, "RANK_LIMIT", 2000)
        assert started == [1], words
        assert result.total == beside.total
        if result.total <= 1 or options.get("limit"):
            continue
        # Every match is shown (limit 0 by default here): the same set either way.
        assert found == again
