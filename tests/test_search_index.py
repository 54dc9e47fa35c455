"""The search index: exactly the brute-force answers, kept fresh, robust against damage,
usable from a read-only folder and by two searches at once."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, Invoke, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_search import brute_force, search_ids, write_issue

from ecdigest import derived, search_index
from ecdigest.operations import init_archive
from ecdigest.search import parse_query

# --------------------------------------------------------------------------- exactly the brute-force answers

# Characters chosen to trip folding and tokenizing: Chinese, Latin in both cases, full-width
# forms, ligatures and letters whose case folding changes length, combining marks, the
# characters that quote or separate in FTS5 syntax, whitespace and control characters.
ALPHABET = (
    list("直播电商跨境数据的一了")
    + list("abAB5gG")
    + list("５ＧＡｃ，：（")
    + [
        "ß",
        "ﬁ",
        "İ",
        "Σ",
        "ς",
        "\u0301",
        '"',
        "'",
        "-",
        "*",
        "%",
        "“",
        " ",
        "\n",
        "\u3000",
        "\t",
        "\x01",
        "\x00",
    ]
)
texts = st.text(alphabet=ALPHABET, max_size=24)


def _query_text(groups: list[list[str]], excluded: list[str]) -> str:
    def quoted(term: str) -> str:
        return '"' + term + '"'

    parts = [" OR ".join(quoted(t) for t in group) for group in groups]
    parts += ["-" + quoted(t) for t in excluded]
    return " ".join(parts)


@st.composite
def archives_and_queries(draw: st.DrawFn) -> tuple[list[list[tuple[str, str]]], list[tuple[Any, ...]]]:
    issues = draw(st.lists(st.lists(st.tuples(texts, texts), min_size=1, max_size=4), min_size=1, max_size=3))
    pool = [t for issue in issues for pair in issue for t in pair]

    def a_term() -> str:
        source = draw(st.sampled_from(pool))
        if source and draw(st.booleans()):
            start = draw(st.integers(0, len(source) - 1))
            length = draw(st.integers(1, 5))
            term = source[start : start + length]
        else:
            term = draw(st.text(alphabet=ALPHABET, min_size=1, max_size=4))
        return term.replace('"', "")

    queries = []
    for _ in range(draw(st.integers(1, 6))):
        groups = [[a_term() for _ in range(draw(st.integers(1, 2)))] for _ in range(draw(st.integers(1, 3)))]
        excluded = [a_term() for _ in range(draw(st.integers(0, 1)))]
        within = draw(st.sampled_from(["all", "title", "body"]))
        queries.append((groups, excluded, within))
    return issues, queries


def _build(root: Path, issues: list[list[tuple[str, str]]]) -> None:
    for n, articles in enumerate(issues, start=1):
        write_issue(
            root, f"2023-{n:02d}", [{"title": t, "body": b} for t, b in articles], date=dt.date(2023, n, 1)
        )


def _check(root: Path, queries: list[tuple[Any, ...]]) -> None:
    from ecdigest.errors import UsageError

    for groups, excluded, within in queries:
        text = _query_text(groups, excluded)
        try:
            query = parse_query(text)
        except UsageError:
            continue  # a term that folds to nothing: refused, nothing to compare
        found, result = search_ids(root, text, within=within)
        expected = brute_force(root, query.groups, query.excluded, within=within)
        assert found == expected, (text, within)
        assert result.total == len(found) == len(result.hits)
        scores = [h.score for h in result.hits]
        assert scores == sorted(scores, reverse=True)
        # A page of one: the total then comes from the separate count query.
        page, paged = search_ids(root, text, within=within, limit=1)
        assert paged.total == len(expected) and len(page) == min(1, len(expected))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(archives_and_queries())
def test_index_answers_exactly_what_a_scan_finds(case: tuple[Any, Any]) -> None:
    issues, queries = case
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "archive"
        init_archive(root)
        _build(root, issues)
        _check(root, queries)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(archives_and_queries(), archives_and_queries())
def test_index_stays_exact_through_edits(first: tuple[Any, Any], second: tuple[Any, Any]) -> None:
    """Re-indexing rewritten, deleted and new files (contentless FTS deletes) keeps it exact."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "archive"
        init_archive(root)
        _build(root, first[0])
        _check(root, first[1])
        for path in (root / "2023").glob("*.toml"):
            path.unlink()
        _build(root, second[0])
        _check(root, second[1] + first[1])
        search_ids(root, "a")  # the queries may all have been refused: make sure an index exists
        conn = sqlite3.connect(root / ".ecdigest" / "search.sqlite3")
        conn.execute("INSERT INTO bi(bi) VALUES('integrity-check')")
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()


def test_large_queries(small: Path) -> None:
    """Many terms are one FTS expression; repeats count once; past the bounds, one error."""
    from ecdigest.errors import UsageError

    many = " ".join(f"-x{n}yz" for n in range(60))
    assert search_ids(small, "直播 " + many)[0] == brute_force(small, [["直播"]])
    assert search_ids(small, " ".join(["直播 OR 直播电商"] * 500))[0] == brute_force(
        small, [["直播", "直播电商"]]
    )
    with pytest.raises(UsageError, match="65 different terms"):
        search_ids(small, " ".join(f"直播 OR 电商{n}号" for n in range(64)))


def test_leftovers_of_a_killed_build_are_removed(small: Path) -> None:
    search_ids(small, "直播")
    state = small / ".ecdigest"
    (state / "search.sqlite3.99999999.tmp").write_bytes(b"half a database")
    (state / "search.sqlite3").write_bytes(b"damaged")
    search_ids(small, "直播")
    assert sorted(p.name for p in state.iterdir()) == ["lock", "search.sqlite3", "search.sqlite3.lock"]


def test_short_terms_at_the_edges(tmp_path: Path) -> None:
    """One- and two-character terms at the start and end of a text, and texts shorter than a trigram."""
    root = tmp_path / "a"
    init_archive(root)
    pairs = [("直", "播"), ("直播", ""), ("ab", "xyz直"), ("", ""), ("跨 境", "a\nb"), ("跨\u3000境", "a-b")]
    write_issue(root, "2023-01", [{"title": t, "body": b} for t, b in pairs])
    for query in [
        "直",
        "播",
        "直播",
        "b",
        "ab",
        "xyz",
        "z直",
        "yz直",
        "直 播",
        "跨境",
        '"跨 境"',
        "a-",
        '"-b"',
        "a",
    ]:
        found, _ = search_ids(root, query)
        assert found == brute_force(root, parse_query(query).groups), query


# --------------------------------------------------------------------------- freshness


@pytest.fixture
def small(tmp_path: Path) -> Path:
    root = tmp_path / "small"
    init_archive(root)
    write_issue(root, "2023-01", [{"title": "直播电商", "body": "第一段"}, {"title": "其他", "body": "无关"}])
    write_issue(root, "2023-02", [{"title": "跨境", "body": "直播带货"}], date=dt.date(2023, 2, 1))
    return root


class Calls:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.prepared: list[str] = []
        self.parsed: list[str] = []
        prepare, read = derived.prepare, search_index._read_issue

        def counting_prepare(store: Any, archive: Any, root: str, path: bytes, stored: Any) -> Any:
            self.prepared.append(os.fsdecode(path))
            return prepare(store, archive, root, path, stored)

        def counting_read(archive: Any, path: Path, data: bytes | None) -> Any:
            self.parsed.append(path.name)
            return read(archive, path, data)

        monkeypatch.setattr(derived, "prepare", counting_prepare)
        monkeypatch.setattr(search_index, "_read_issue", counting_read)

    def reset(self) -> None:
        self.prepared.clear()
        self.parsed.clear()


def _age(root: Path) -> None:
    """Make every file look indexed long after it was written (as it is after a few seconds)."""
    old = time.time() - 60
    for path in root.rglob("*.toml"):
        os.utime(path, (old, old))


def test_only_changed_files_are_read_again(small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _age(small)
    calls = Calls(monkeypatch)
    assert len(search_ids(small, "直播")[0]) == 2
    assert sorted(calls.parsed) == ["2023-01.toml", "2023-02.toml"]
    calls.reset()
    search_ids(small, "直播")
    assert calls.prepared == [] and calls.parsed == []
    # Touched, same bytes: read and hashed, not parsed.
    path = small / "2023" / "2023-02.toml"
    os.utime(path, (time.time() - 30, time.time() - 30))
    calls.reset()
    search_ids(small, "直播")
    assert calls.prepared == ["2023/2023-02.toml"] and calls.parsed == []
    # Changed: parsed again, and only that file.
    path.write_text(path.read_text("utf-8").replace("直播带货", "现场带货"), "utf-8")
    calls.reset()
    assert search_ids(small, "直播")[0] == {("2023-01", "2023-01-001")}
    assert calls.parsed == ["2023-02.toml"]


def test_same_size_edit_within_the_same_mtime_is_seen(small: Path) -> None:
    """An edit that keeps size and mtime (a quick rewrite): caught by the racy-mtime check."""
    path = small / "2023" / "2023-02.toml"
    assert ("2023-02", "2023-02-001") in search_ids(small, "直播")[0]
    info = path.stat()
    text = path.read_text("utf-8")
    path.write_text(text.replace("直播带货", "现场带货"), "utf-8")  # same byte length
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert path.stat().st_size == info.st_size
    assert search_ids(small, "直播")[0] == {("2023-01", "2023-01-001")}


def test_deleted_renamed_and_new_files(small: Path) -> None:
    path = small / "2023" / "2023-02.toml"
    path.rename(small / "2023" / "moved.toml")
    assert search_ids(small, "直播")[0] == {("2023-01", "2023-01-001"), ("2023-02", "2023-02-001")}
    (small / "2023" / "moved.toml").unlink()
    assert search_ids(small, "直播")[0] == {("2023-01", "2023-01-001")}
    write_issue(
        small, "2023-03", [{"title": "新", "body": "直播"}], date=dt.date(2023, 3, 1), name="sub.toml"
    )
    assert ("2023-03", "2023-03-001") in search_ids(small, "直播")[0]
    conn = sqlite3.connect(small / ".ecdigest" / "search.sqlite3")
    assert conn.execute("SELECT count(*) FROM files").fetchone() == (2,)
    assert conn.execute("SELECT count(*) FROM articles").fetchone() == (3,)


def test_scan_finds_what_the_archive_finds(small: Path) -> None:
    from ecdigest.archive import Archive

    (small / ".hidden").mkdir()
    (small / ".hidden" / "x.toml").write_text("id = 'x'\n")
    (small / "2023" / ".x.toml.123.abcdef01.tmp").write_text("")
    (small / "2023" / ".dot.toml").write_text("")
    (small / "notes.txt").write_text("")
    (small / "deep" / "er").mkdir(parents=True)
    write_issue(small / "deep" / "er", "2023-09", [{"title": "t", "body": "b"}])
    (small / "linked").symlink_to(small / "deep", target_is_directory=True)
    (small / "file-link.toml").symlink_to(small / "2023" / "2023-01.toml")
    found = {os.fsdecode(p) for p in derived.scan(str(small))}
    expected = {p.relative_to(small).as_posix() for p in Archive.open(small).issue_paths()}
    assert found == expected
    assert "file-link.toml" in found and not any(p.startswith("linked/") for p in found)


# --------------------------------------------------------------------------- damage and versions


def _index(root: Path) -> Path:
    return root / ".ecdigest" / "search.sqlite3"


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"this is not a database"),
        lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 3]),
        lambda p: p.write_bytes(b""),
        lambda p: _sql(p, "PRAGMA user_version = 0"),
        lambda p: _sql(p, "PRAGMA user_version = 99"),
        lambda p: _sql(p, "DROP TABLE meta"),
        lambda p: _sql(p, "UPDATE meta SET value = '0.0.0' WHERE key = 'unidata'"),
        lambda p: _sql(p, "UPDATE meta SET value = 'old' WHERE key = 'fold'"),
    ],
    ids=["garbage", "truncated", "empty", "schema-0", "schema-99", "no-meta", "unicode", "fold"],
)
def test_damaged_or_old_index_is_rebuilt_silently(invoke: Invoke, small: Path, damage: Any) -> None:
    first = invoke("search", "直播", "--format", "json", archive=small)
    assert first.exit_code == 0
    damage(_index(small))
    again = invoke("search", "直播", "--format", "json", archive=small)
    assert again.exit_code == 0, again.output
    assert again.stdout == first.stdout
    assert again.stderr == ""
    conn = sqlite3.connect(_index(small))
    assert conn.execute("PRAGMA user_version").fetchone() == (search_index.SCHEMA_VERSION,)


def _sql(path: Path, statement: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(statement)
    conn.commit()
    conn.close()


def test_corruption_found_while_querying_is_repaired(small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    search_ids(small, "直播")
    real_query = search_index.Index.query
    failures = iter([True])

    def failing_once(self: search_index.Index, *args: Any, **kwargs: Any) -> Any:
        if next(failures, False):
            raise derived.Corrupt(self.place)
        return real_query(self, *args, **kwargs)

    monkeypatch.setattr(search_index.Index, "query", failing_once)
    assert len(search_ids(small, "直播")[0]) == 2


# --------------------------------------------------------------------------- broken issue files


def test_broken_files_are_skipped_with_a_warning(invoke: Invoke, small: Path) -> None:
    (small / "2023" / "bad.toml").write_text('id = "2023-09"\ntitle = "x\n', "utf-8")
    (small / "2023" / "latin1.toml").write_bytes('id = "x"\ntitle = "café"\n'.encode("latin-1"))
    (small / "2023" / "typed.toml").write_text(
        'id = "2023-08"\ntitle = 5\n\n[[articles]]\nid = "2023-08-001"\ntitle = "直播"\nbody = "b"\n', "utf-8"
    )
    result = invoke("search", "直播", "--format", "json", archive=small)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    warnings = result.stderr.splitlines()
    assert len(warnings) == 3
    assert any(
        w.startswith("ecdigest: warning: ") and "bad.toml:2: invalid TOML" in w and "skipped" in w
        for w in warnings
    )
    assert any("latin1.toml:2: not valid UTF-8" in w for w in warnings)
    assert any("typed.toml:2: title" in w and "indexed what could be read" in w for w in warnings)
    ids = {(h["issue"], h["article"]) for h in __import__("json").loads(result.stdout)}
    assert ids == {("2023-01", "2023-01-001"), ("2023-02", "2023-02-001"), ("2023-08", "2023-08-001")}
    # Repeated while the files stay broken; gone once fixed.
    assert len(invoke("search", "直播", archive=small).stderr.splitlines()) == 3
    for name in ("bad", "latin1", "typed"):
        (small / "2023" / f"{name}.toml").unlink()
    assert invoke("search", "直播", archive=small).stderr == ""


# --------------------------------------------------------------------------- where the index lives


def test_unwritable_archive_folder_uses_the_user_cache(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`.ecdigest` cannot be created (a file is in the way: no permission bits to bypass, even for root)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    shutil.rmtree(small / ".ecdigest")
    (small / ".ecdigest").write_text("not a folder")
    before = sorted(p.relative_to(small) for p in small.rglob("*"))
    found, _ = search_ids(small, "直播")
    assert found == brute_force(small, [["直播"]])
    assert sorted(p.relative_to(small) for p in small.rglob("*")) == before
    (cached,) = (cache / "ecdigest").glob("search-*.sqlite3")
    # Kept up to date there like at home.
    write_issue(small, "2023-03", [{"title": "直播", "body": ""}], date=dt.date(2023, 3, 1))
    assert ("2023-03", "2023-03-001") in search_ids(small, "直播")[0]
    assert cached.stat().st_size > 0


def test_no_writable_place_at_all_uses_memory(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cache-is-a-file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache-is-a-file"))
    shutil.rmtree(small / ".ecdigest")
    (small / ".ecdigest").write_text("not a folder")
    found, _ = search_ids(small, "直播")
    assert found == brute_force(small, [["直播"]])


def test_a_fresh_index_in_a_read_only_folder_is_used_as_it_is(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _age(small)
    search_ids(small, "直播")
    places = list(derived.places(str(small), "search"))
    monkeypatch.setattr(derived, "_ready_locked", lambda *a: pytest.fail("no write was needed"))
    assert len(search_ids(small, "直播")[0]) == 2
    assert places[0] == str(_index(small))


def _drop_privileges() -> list[str] | None:
    """A command prefix that runs as nobody, or None (not root: permissions apply anyway)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]


def test_read_only_copy_is_searchable(small: Path) -> None:
    """A real read-only folder and files, searched by a user who cannot write them."""
    prefix = _drop_privileges()
    if prefix is None:
        pytest.skip("root without setpriv: cannot drop the permission bypass")
    search_ids(small, "直播")  # leave a (soon stale) index behind, as a shared archive would have
    shared = Path(tempfile.mkdtemp(prefix="ecdigest-ro-"))
    try:
        os.chmod(shared, 0o755)
        copy = shared / "archive"
        shutil.copytree(small, copy)
        write_issue(copy, "2023-03", [{"title": "只读", "body": "直播"}], date=dt.date(2023, 3, 1))
        home = shared / "home"
        home.mkdir()
        os.chmod(home, 0o777)
        for folder, _, files in os.walk(copy):
            os.chmod(folder, 0o555)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o444)
        before = {p: p.stat().st_mtime_ns for p in copy.rglob("*")}
        exe = str(Path(sys.executable).parent / "ecdigest")
        env = {k: v for k, v in os.environ.items() if not k.startswith("ECDIGEST_")}
        env.update(HOME=str(home), XDG_CACHE_HOME=str(home / "cache"))
        out = subprocess.run(
            [*prefix, exe, "--archive", str(copy), "search", "直播", "--format", "json", "--limit", "0"],
            capture_output=True,
            env=env,
            cwd=home,
            timeout=120,
            check=False,
        )
        assert out.returncode == 0, out.stderr.decode()
        ids = {(h["issue"], h["article"]) for h in __import__("json").loads(out.stdout)}
        assert ids == brute_force(copy, [["直播"]])
        assert ("2023-03", "2023-03-001") in ids
        assert {p: p.stat().st_mtime_ns for p in copy.rglob("*")} == before
        assert list((home / "cache" / "ecdigest").glob("search-*.sqlite3"))
    finally:
        for folder, _, _ in os.walk(shared):
            os.chmod(folder, 0o755)
        shutil.rmtree(shared)


# --------------------------------------------------------------------------- two searches at once


def test_two_searches_at_once_on_a_stale_index(small: Path) -> None:
    for n in range(3, 40):
        write_issue(
            small,
            f"2023-{n:02d}",
            [{"title": f"直播 {n}", "body": "跨境" * n}],
            date=dt.date(2024, 1, 1) + dt.timedelta(days=n),
            name=f"i{n}.toml",
        )
    argv = ["--archive", str(small), "search", "直播", "--format", "json", "--limit", "0"]
    exe = str(Path(sys.executable).parent / "ecdigest")
    for _round in range(2):
        procs = [
            subprocess.Popen([exe, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)
        ]
        outputs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], [e.decode() for _, e in outputs]
        assert len({out for out, _ in outputs}) == 1
        ids = {(h["issue"], h["article"]) for h in __import__("json").loads(outputs[0][0])}
        assert ids == brute_force(small, [["直播"]])
        # Make it stale again for the second round: edit several files at once.
        for n in range(3, 40, 3):
            path = small / "2024" / f"i{n}.toml"
            path.write_text(path.read_text("utf-8").replace(f"直播 {n}", f"现场 {n}"), "utf-8")
    conn = sqlite3.connect(_index(small))
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.execute("INSERT INTO bi(bi) VALUES('integrity-check')")


def test_cold_build_in_a_second_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The large-archive path: a forked worker prepares files (a broken one included)."""
    monkeypatch.setattr(search_index.STORE, "parallel_from", 2)
    root = tmp_path / "archive"
    init_archive(root)
    for n in range(1, 9):
        write_issue(
            root,
            f"2023-{n:02d}",
            [{"title": f"第{n}期", "body": "直播" if n % 2 else "跨境"}],
            date=dt.date(2023, n, 1),
        )
    (root / "2023" / "broken.toml").write_text("id = [", "utf-8")
    found, result = search_ids(root, "直播")
    assert found == brute_force(root, [["直播"]]) and len(found) == 4
    assert len(result.warnings) == 1 and "broken.toml" in result.warnings[0]


def test_search_command_runs_as_a_real_process(small: Path) -> None:
    result = run_cli(["--archive", str(small), "search", "直播", "-跨境"], cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines() == [
        "2023-01  2023-06-05  行业资讯  直播电商",
        "    第一段",
        "1 article matches",
    ]
    assert stat.S_ISREG(_index(small).stat().st_mode)
