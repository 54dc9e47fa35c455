"""The catalog answers exactly what a full read of every issue file answers.

A hypothesis state machine writes, edits, rewrites in place (same size, same mtime),
touches, renames, deletes and breaks issue files in a small archive, and after every step
compares the catalog with a full read (every file parsed by the archive module): every
field of every issue and article, the ids a new article must avoid, which file `get` and
`latest` choose, and validation of one issue (its cross-issue checks answered by the
catalog) against validation of the whole archive (which reads every file). Then real
processes: writers racing catalog readers, and readers killed with SIGKILL at random
moments during cold builds and updates.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace as dataclasses_replace
from pathlib import Path
from typing import Any

import pytest
from conftest import Invoke, run_cli
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ecdigest import catalog as catalog_mod
from ecdigest import derived
from ecdigest.archive import Archive, duplicate_id_error, strict_error
from ecdigest.catalog import body_digest, open_catalog
from ecdigest.codec import encode_issue
from ecdigest.errors import EcdigestError
from ecdigest.model import Article, Issue
from ecdigest.operations import init_archive
from ecdigest.validate import validate_report

# --------------------------------------------------------------------------- a full read


def full_read(archive: Archive) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(issues, articles) as tuples, from every file parsed by the archive module."""
    issues: list[tuple[Any, ...]] = []
    articles: list[tuple[Any, ...]] = []
    for path in archive.issue_paths():
        try:
            data: bytes | None = path.read_bytes()
        except OSError:
            data = None
        digest = derived.digest_bytes(data) if data is not None else None
        try:
            result = archive.read_lenient(path)
        except EcdigestError as exc:
            issues.append((path, None, None, None, None, 0, 0, (), digest, (exc.message, exc.line, exc.hint)))
            continue
        issue = result.issue
        assert issue is not None
        error = strict_error(result)
        counts: dict[str, int] = {}
        for pos, a in enumerate(issue.articles):
            counts[a.section] = counts.get(a.section, 0) + 1
            articles.append(
                (path, issue.id, pos, a.id, a.section, a.title, a.source, a.compiled_by, a.date, a.url,
                 tuple(a.tags), body_digest(a.body))
            )  # fmt: skip
        issues.append(
            (path, issue.id, issue.title, issue.date, issue.status, issue.last_article_number,
             len(issue.articles), tuple(counts.items()), digest,
             None if error is None else (error.message, error.line, error.hint))
        )  # fmt: skip
    return issues, articles


def catalog_read(archive: Archive) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with archive.catalog() as catalog:
        entries = catalog.issues()
        found = catalog.articles()
    assert [e.order() for e in entries] == sorted(e.order() for e in entries)
    issues = sorted(
        (
            (e.path, e.id, e.title, e.date, e.status, e.last_article_number, e.article_count, e.sections,
             e.digest, None if e.error is None else (e.error.message, e.error.line, e.error.hint))
            for e in entries
        ),
        key=lambda t: t[0].parts,
    )  # fmt: skip
    articles = sorted(
        (
            (a.path, a.issue, a.pos, a.id, a.section, a.title, a.source, a.compiled_by, a.date, a.url, a.tags,
             a.body_digest)
            for a in found
        ),
        key=lambda t: (t[0].parts, t[2]),
    )  # fmt: skip
    return issues, articles


def scanned_ids(archive: Archive, prefix: str, exclude: Path | None) -> list[str]:
    """What `taken_article_ids` promises: `id = "…"` lines and parsed article ids of every other file."""
    found: set[tuple[Path, str]] = set()
    for path in archive.issue_paths():
        if path == exclude:
            continue
        try:
            text = path.read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        found.update((path, v) for v in re.findall(r'(?m)^\s*id\s*=\s*"([^"]*)"', text))
        try:
            issue = archive.read_lenient(path).issue
        except EcdigestError:
            continue
        assert issue is not None
        found.update((path, a.id) for a in issue.articles if a.id)
    return sorted(v for _, v in found if v.startswith(prefix))


def outcome(call: Any) -> tuple[str, Any]:
    try:
        item = call()
    except EcdigestError as exc:
        return type(exc).__name__, str(exc)
    return "ok", (item.path, item.issue)


def reference_get(archive: Archive, issue_id: str) -> tuple[str, Any]:
    """`get` from a full read: the one file with this id, read strictly."""
    readable: list[tuple[Path, Issue | None]] = []
    for path in archive.issue_paths():
        try:
            readable.append((path, archive.read_lenient(path).issue))
        except EcdigestError:
            readable.append((path, None))
    files = [p for p, issue in readable if issue is not None and issue.id == issue_id]
    if not files:
        files = [p for p, issue in readable if issue is None and p.stem == issue_id]
    if not files:
        return "NotFoundError", None
    if len(files) > 1:
        return "InputError", str(duplicate_id_error(issue_id, files[0], files[1]))
    return outcome(lambda: archive.read(files[0]))


def reference_latest(archive: Archive, status: str | None) -> tuple[str, Any]:
    """`latest` from a full read: the newest issue of `status`; a broken file that could be
    it is an error."""
    loaded = []
    for path in archive.issue_paths():
        try:
            result = archive.read_lenient(path)
        except EcdigestError as exc:
            return "InputError", str(exc)
        loaded.append((path, result.issue, strict_error(result)))
    loaded.sort(key=lambda t: (t[1].date.isoformat() if t[1].date else "", t[1].id, t[0].parts))
    for path, issue, error in reversed(loaded):
        if status is not None and issue.status != status:
            continue
        if error is not None:
            return "InputError", str(error)
        twins = sorted(p for p, other, _ in loaded if other.id == issue.id)
        if len(twins) > 1:
            return "InputError", str(duplicate_id_error(issue.id, twins[0], twins[1]))
        return "ok", (path, archive.read(path).issue)
    return "NotFoundError", None


def check_everything(root: Path) -> None:
    archive = Archive.open(root)
    assert catalog_read(archive) == full_read(archive)
    # The kept counts of title pairs (near-duplicate lookups) are the pair index's own.
    with archive.catalog() as catalog:
        place = catalog.place
    import sqlite3

    conn = sqlite3.connect(place)
    try:
        kept = conn.execute("SELECT term, docs FROM title_pair_docs ORDER BY term").fetchall()
        assert kept == conn.execute("SELECT term, doc FROM title_pair_counts ORDER BY term").fetchall()
    finally:
        conn.close()
    paths = archive.issue_paths()
    ids = set()  # what `validate ISSUE` accepts: ids, and the names of files without one
    for path in paths:
        try:
            issue = archive.read_lenient(path).issue
        except EcdigestError:
            issue = None
        ids.add(issue.id if issue is not None and issue.id else path.stem)
    for prefix in ("", "A-", "B-0", "C"):
        for exclude in (None, *paths[:1]):
            assert archive.taken_article_ids(prefix, exclude=exclude) == scanned_ids(archive, prefix, exclude)
    for issue_id in sorted(ids | {p.stem for p in paths} | {"nowhere"}):
        got, want = outcome(lambda i=issue_id: archive.get(i)), reference_get(archive, issue_id)
        assert got[0] == want[0] and (want[1] is None or got[1] == want[1]), (issue_id, got, want)
    for status in (None, "draft", "published"):
        got, want = outcome(lambda s=status: archive.latest(status=s)), reference_latest(archive, status)
        assert got[0] == want[0] and (want[1] is None or got[1] == want[1]), (status, got, want)
    # One issue validated with the catalog answers as the whole archive validated by reading it.
    whole = validate_report(archive).problems
    # Letting each file's text and bodies go once it is checked changes nothing reported.
    assert validate_report(archive, keep=False).problems == whole
    # The kept per-file results and W601 answers (validate_cache.py), updated incrementally
    # from the state the machine's previous step left: the same answer.
    assert validate_report(archive, keep=False, cache=True).problems == whole
    for issue_id in sorted(ids):
        one = validate_report(archive, [issue_id])
        chosen = {str(p) for p in one.checked}
        assert one.problems == [p for p in whole if p.path in chosen], issue_id


# --------------------------------------------------------------------------- generated archives

ISSUE_IDS = ["A", "B", "C", "2023-07"]
BASE_TITLES = [
    "商务部：把握跨境电商发展机遇推进贸易数字化应用",
    "上海城市数字化转型优秀应用案例集发布",
    "直播电商",
    "618期间淘宝直播将为全国产业带中小商家开设专场",
]
SECTIONS = ["行业资讯", "政策法规", "数据观察", "未知栏目"]
BROKEN = [
    b'id = "A"\ntitle = \n',  # invalid TOML
    b'id = "B"\ntitle = "\xff"\n',  # not UTF-8
    'id = "C"\ntitle = 5\ndate = 2023-06-05\n\n[[articles]]\nid = "C-001"\ntitle = "直播电商"\n'
    'section = "行业资讯"\nsource = "《人民日报》"\nbody = """\nid = "C-077"\n"""\n'.encode(),  # wrong type
    b'id = "A"\nstatus = "publishd"\ndate = 2023-06-01\n',  # bad value
    b"",
]


@st.composite
def titles(draw: st.DrawFn) -> str:
    base = draw(st.sampled_from(BASE_TITLES))
    if draw(st.booleans()) and len(base) > 2:
        at = draw(st.integers(0, len(base) - 1))
        base = base[:at] + draw(st.sampled_from("数据跨境。 ，")) + base[at + 1 :]
    return base


@st.composite
def issues(draw: st.DrawFn) -> Issue:
    issue_id = draw(st.sampled_from(ISSUE_IDS))
    date = draw(st.sampled_from([None, dt.date(2023, 6, 1), dt.date(2023, 6, 5), dt.date(2023, 7, 1)]))
    count = draw(st.integers(0, 4))
    articles = []
    for n in range(count):
        number = draw(st.integers(1, 5)) if draw(st.booleans()) else n + 1
        prefix = draw(st.sampled_from([issue_id, issue_id, "B"]))
        articles.append(
            Article(
                id=f"{prefix}-{number:03d}",
                section=draw(st.sampled_from(SECTIONS)),
                title=draw(titles()),
                source=draw(st.sampled_from(["《人民日报》", "“央广网”"])),
                date=dt.date(2023, 5, 29),
                compiled_by=draw(st.sampled_from([None, "《电子商务动态》编辑部"])),
                url=draw(st.sampled_from([None, "https://example.org/a"])),
                tags=tuple(
                    draw(st.lists(st.sampled_from(["跨境电商", "直播", "数据"]), max_size=2, unique=True))
                ),
                body=draw(st.sampled_from(["第一段。\n\n第二段。", "第一段。 第二段。", "直播带货。"])),
            )
        )
    return Issue(
        id=issue_id,
        title=f"电子商务动态 {issue_id}",
        date=date,
        status=draw(st.sampled_from(["draft", "published"])),
        articles=tuple(articles),
        last_article_number=draw(st.integers(0, 3)),
    )


NAMES = ["2023/a.toml", "2023/b.toml", "c.toml", "sub/dir/d.toml", "2023/e.toml"]


class CatalogMachine(RuleBasedStateMachine):
    """Random file operations; after each, the catalog must equal a full read."""

    @initialize()
    def archive(self) -> None:
        import tempfile

        self.tmp = Path(tempfile.mkdtemp(prefix="ecdigest-catalog-"))
        self.root = self.tmp / "archive"
        init_archive(self.root)

    def teardown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _path(self, name: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _existing(self) -> list[Path]:
        return sorted(self.root.rglob("*.toml"), key=str)

    @rule(name=st.sampled_from(NAMES), issue=issues())
    def write(self, name: str, issue: Issue) -> None:
        self._path(name).write_text(encode_issue(issue), "utf-8")

    @rule(
        pick=st.integers(0, 10),
        at=st.integers(0, 5),
        change=st.sampled_from(
            ["title", "body", "tags", "section", "id", "drop", "add", "status", "status+title"]
        ),
        title=titles(),
    )
    def edit_articles(self, pick: int, at: int, change: str, title: str) -> None:
        """A small edit of an issue that reads (the catalog's writer then rewrites only the
        rows that differ): one article's field, one article fewer or more, the status."""
        files = [p for p in self._existing() if p.name != "ecdigest.toml"]
        if not files:
            return
        path = files[pick % len(files)]
        try:
            issue = Archive.open(self.root).read_lenient(path).issue
        except EcdigestError:
            return
        if issue is None:
            return
        articles = list(issue.articles)
        k = at % len(articles) if articles else 0
        if change in ("status", "status+title"):
            issue = dataclasses_replace(issue, status="draft" if issue.status == "published" else "published")
        if articles and change in ("title", "status+title"):
            articles[k] = dataclasses_replace(articles[k], title=title)
        elif articles and change == "body":
            articles[k] = dataclasses_replace(articles[k], body=articles[k].body + "\n\n新的一段。")
        elif articles and change == "tags":
            articles[k] = dataclasses_replace(articles[k], tags=(*articles[k].tags[1:], "新标签"))
        elif articles and change == "section":
            articles[k] = dataclasses_replace(articles[k], section=SECTIONS[(at + 1) % len(SECTIONS)])
        elif articles and change == "id":
            articles[k] = dataclasses_replace(articles[k], id=f"{issue.id}-{at + 50:03d}")
        elif articles and change == "drop":
            del articles[k]
        elif change == "add":
            new = Article(id=f"{issue.id}-{at + 60:03d}", section=SECTIONS[at % len(SECTIONS)], title=title,
                          source="《人民日报》", date=dt.date(2023, 5, 29), tags=("数据",), body="又一段。")  # fmt: skip
            articles.insert(k, new)
        path.write_text(encode_issue(dataclasses_replace(issue, articles=tuple(articles))), "utf-8")

    @rule(name=st.sampled_from(NAMES), data=st.sampled_from(BROKEN))
    def write_broken(self, name: str, data: bytes) -> None:
        self._path(name).write_bytes(data)

    @rule(
        pick=st.integers(0, 10),
        swap=st.sampled_from(
            [("直播", "带货"), ("A", "C"), ("published", "publishe"), ("2023-06-05", "2023-07-01")]
        ),
    )
    def rewrite_in_place(self, pick: int, swap: tuple[str, str]) -> None:
        """Same size, and the same mtime when the file was written less than a second ago
        (a second write within one timestamp tick): only the racily-clean check sees it.
        (An older mtime put back on purpose, as `touch -r` would, is invisible to any
        stat-based check, git's included; that is not an edit this models.)"""
        files = [p for p in self._existing() if p.name != "ecdigest.toml"]
        if not files:
            return
        path = files[pick % len(files)]
        data = path.read_bytes()
        old, new = (s.encode() for s in swap)
        if len(old) != len(new):
            new = new[: len(old)].ljust(len(old), b"x")
        changed = data.replace(old, new, 1) if old in data else data.replace(new, old, 1)
        info = path.stat()
        path.write_bytes(changed)
        if time.time_ns() - info.st_mtime_ns < derived.RACY_NS // 2:
            os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))

    @rule(pick=st.integers(0, 10))
    def touch(self, pick: int) -> None:
        files = [p for p in self._existing() if p.name != "ecdigest.toml"]
        if files:
            path = files[pick % len(files)]
            os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))

    @rule(pick=st.integers(0, 10), name=st.sampled_from(NAMES))
    def rename(self, pick: int, name: str) -> None:
        files = [p for p in self._existing() if p.name != "ecdigest.toml"]
        if files:
            os.replace(files[pick % len(files)], self._path(name))

    @rule(pick=st.integers(0, 10))
    def delete(self, pick: int) -> None:
        files = [p for p in self._existing() if p.name != "ecdigest.toml"]
        if files:
            files[pick % len(files)].unlink()

    @rule()
    def damage_the_catalog(self) -> None:
        place = Path(derived.local_place(str(self.root), "catalog"))
        if place.exists():
            place.write_bytes(place.read_bytes()[: place.stat().st_size // 2])

    @invariant()
    def catalog_equals_a_full_read(self) -> None:
        if hasattr(self, "root"):
            check_everything(self.root)


# Every step checks everything (~0.2 s): a dozen runs here, many more in the slow suite.
EXAMPLES = int(os.environ.get("ECDIGEST_CATALOG_EXAMPLES", "12"))
CatalogMachine.TestCase.settings = settings(
    max_examples=EXAMPLES, stateful_step_count=10, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_catalog_equals_a_full_read = CatalogMachine.TestCase


class SlowCatalogMachine(CatalogMachine):
    pass


SlowCatalogMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_catalog_equals_a_full_read_long = pytest.mark.slow(SlowCatalogMachine.TestCase)


# --------------------------------------------------------------------------- freshness and damage


@pytest.fixture
def small(tmp_path: Path) -> Path:
    root = tmp_path / "small"
    init_archive(root)
    for n, status in ((1, "published"), (2, "draft")):
        issue = Issue(
            id=f"2023-0{n}",
            title=f"第 {n} 期",
            date=dt.date(2023, n, 5),
            status=status,
            articles=(Article(id=f"2023-0{n}-001", section="行业资讯", title="直播电商", source="《人民日报》",
                              date=dt.date(2023, n, 1), tags=("直播",), body="第一段。"),),
        )  # fmt: skip
        (root / "2023").mkdir(exist_ok=True)
        (root / "2023" / f"2023-0{n}.toml").write_text(encode_issue(issue), "utf-8")
    return root


def _age(root: Path) -> None:
    old = time.time() - 60
    for path in root.rglob("*.toml"):
        os.utime(path, (old, old))


def test_only_changed_files_are_parsed_again(small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _age(small)
    parsed: list[str] = []
    real = catalog_mod.STORE.parse

    def counting(archive: Archive, path: Path, data: bytes | None) -> Any:
        parsed.append(path.name)
        return real(archive, path, data)

    monkeypatch.setattr(catalog_mod.STORE, "parse", counting)
    archive = Archive.open(small)
    open_catalog(archive).close()
    assert sorted(parsed) == ["2023-01.toml", "2023-02.toml"]
    parsed.clear()
    open_catalog(archive).close()
    assert parsed == []
    path = small / "2023" / "2023-02.toml"
    os.utime(path, (time.time() - 30, time.time() - 30))  # touched, same bytes: hashed only
    open_catalog(archive).close()
    assert parsed == []
    path.write_text(path.read_text("utf-8").replace("第一段", "第二段"), "utf-8")
    with open_catalog(archive) as catalog:
        assert parsed == ["2023-02.toml"]
        assert [a.body_digest for a in catalog.articles("2023-02")] == [body_digest("第二段。")]


def _rows(place: str, statement: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(place)
    try:
        return conn.execute(statement).fetchall()
    finally:
        conn.close()


def test_an_edit_rewrites_only_the_rows_that_differ(small: Path) -> None:
    """A file taken in again keeps its articles' row ids and writes only changed values: a
    body edited leaves the pair index and the other articles' rows as they were; a title
    edited changes that article's pairs alone. The answers stay a full read's."""
    path = small / "2023" / "2023-01.toml"
    issue = Archive.open(small).read_lenient(path).issue
    assert issue is not None
    extra = [
        dataclasses_replace(issue.articles[0], id=f"2023-01-00{n}", title=f"第{n}篇文章的标题与众不同")
        for n in (2, 3)
    ]
    path.write_text(encode_issue(dataclasses_replace(issue, articles=(*issue.articles, *extra))), "utf-8")
    check_everything(small)
    with open_catalog(Archive.open(small)) as catalog:
        place = catalog.place
    articles = "SELECT id, article, title, body_digest FROM articles ORDER BY file, pos"
    pairs = "SELECT * FROM title_pairs_data ORDER BY id"
    before, before_pairs = _rows(place, articles), _rows(place, pairs)
    issue = Archive.open(small).read_lenient(path).issue
    assert issue is not None
    changed = list(issue.articles)
    changed[1] = dataclasses_replace(changed[1], body="改过的正文。")
    path.write_text(encode_issue(dataclasses_replace(issue, articles=tuple(changed))), "utf-8")
    check_everything(small)
    after = _rows(place, articles)
    assert [row[0] for row in after] == [row[0] for row in before]  # the same row ids
    assert [row for row in after if row[1] != "2023-01-002"] == [
        row for row in before if row[1] != "2023-01-002"
    ]
    assert after[1][3] == body_digest("改过的正文。") != before[1][3]
    assert _rows(place, pairs) == before_pairs  # no title changed: the pair index untouched
    changed[2] = dataclasses_replace(changed[2], title="一个全新的标题完全不同")
    path.write_text(encode_issue(dataclasses_replace(issue, articles=tuple(changed))), "utf-8")
    check_everything(small)
    assert [row[0] for row in _rows(place, articles)] == [row[0] for row in before]
    assert _rows(place, pairs) != before_pairs


def test_a_removed_files_id_given_to_a_new_file_in_one_update(small: Path) -> None:
    """A file removed and a new one found in the same update: the new file may get the
    removed one's files id (SQLite reuses the largest); it must not be taken for the removed
    file taken in again."""
    check_everything(small)
    with open_catalog(Archive.open(small)) as catalog:
        place = catalog.place
    ((last_id, last_path),) = _rows(place, "SELECT id, path FROM files ORDER BY id DESC LIMIT 1")
    gone = small / os.fsdecode(last_path)
    issue = Archive.open(small).read_lenient(gone).issue
    assert issue is not None
    gone.unlink()
    other = dataclasses_replace(
        issue,
        id="2023-09",
        status="published",
        articles=tuple(dataclasses_replace(a, id=f"2023-09-{n:03d}", title="另一篇文章的标题足够长")
                       for n, a in enumerate(issue.articles, 1)),
    )  # fmt: skip
    (small / "2023" / "2023-09.toml").write_text(encode_issue(other), "utf-8")
    check_everything(small)
    assert _rows(place, "SELECT id, path FROM files ORDER BY id DESC LIMIT 1") == [
        (last_id, b"2023/2023-09.toml")
    ]


def test_show_and_add_read_one_file(small: Path, monkeypatch: pytest.MonkeyPatch, invoke: Invoke) -> None:
    """With the catalog warm, `show ISSUE` parses one file and `add` two reads of its target."""
    for n in range(3, 12):
        (small / "2023" / f"2023-{n:02d}.toml").write_text(
            (small / "2023" / "2023-01.toml").read_text("utf-8").replace("2023-01", f"2023-{n:02d}"), "utf-8"
        )
    _age(small)
    assert invoke("list", archive=small).exit_code == 0
    read: list[str] = []
    real = Archive.read_lenient

    def counting(self: Archive, path: Path, data: bytes | None = None) -> Any:
        read.append(path.name)
        return real(self, path, data)

    monkeypatch.setattr(Archive, "read_lenient", counting)
    assert invoke("show", "2023-07", archive=small).exit_code == 0
    assert read == ["2023-07.toml"]
    read.clear()
    added = invoke("add", "--title", "新", "--section", "行业资讯", "--source", "《人民日报》",
                   "--date", "2023-02-01", "--body", "正文。", archive=small)  # fmt: skip
    assert added.exit_code == 0, added.output
    assert added.stdout == "2023-02-002\n"  # the newest draft
    assert set(read) == {"2023-02.toml"}


def test_taken_ids_survive_a_file_that_does_not_parse(small: Path) -> None:
    (small / "2023" / "broken.toml").write_text(
        'id = "2023-02"\n[[articles]]\nid = "2023-02-007"\ntitle = \n'
    )
    archive = Archive.open(small)
    assert archive.taken_article_ids("2023-02-") == ["2023-02-001", "2023-02-007"]
    assert archive.taken_article_ids("2023-02-", exclude=small / "2023" / "broken.toml") == ["2023-02-001"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"this is not a database"),
        lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 3]),
        lambda p: p.write_bytes(b""),
        lambda p: _sql(p, "PRAGMA user_version = 99"),
        lambda p: _sql(p, "DROP TABLE issues"),
        lambda p: _sql(p, "UPDATE meta SET value = 'old' WHERE key = 'derive'"),
    ],
    ids=["garbage", "truncated", "empty", "schema-99", "no-issues-table", "derive-version"],
)
def test_damaged_or_old_catalog_is_rebuilt_silently(invoke: Invoke, small: Path, damage: Any) -> None:
    first = invoke("list", "--format", "json", archive=small)
    assert first.exit_code == 0
    place = Path(derived.local_place(str(small), "catalog"))
    damage(place)
    again = invoke("list", "--format", "json", archive=small)
    assert (again.exit_code, again.stdout, again.stderr) == (0, first.stdout, "")
    assert sqlite3.connect(place).execute("PRAGMA user_version").fetchone() == (catalog_mod.SCHEMA_VERSION,)


def _sql(path: Path, statement: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(statement)
    conn.commit()
    conn.close()


def test_corruption_found_while_querying_is_repaired(small: Path, tmp_path: Path) -> None:
    """A query that meets a damaged file (here: the connection swapped for one to garbage)
    discards the catalog, rebuilds it and answers."""
    archive = Archive.open(small)
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database" * 200)
    with open_catalog(archive) as catalog:
        assert catalog._conn is not None
        catalog._conn.close()
        catalog._conn = sqlite3.connect(garbage)
        assert [e.id for e in catalog.issues()] == ["2023-01", "2023-02"]
    place = Path(derived.local_place(str(small), "catalog"))
    assert sqlite3.connect(place).execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_unwritable_archive_folder_uses_the_user_cache_then_memory(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    shutil.rmtree(small / ".ecdigest", ignore_errors=True)
    (small / ".ecdigest").write_text("not a folder")
    archive = Archive.open(small)
    with open_catalog(archive) as catalog:
        assert [e.id for e in catalog.issues()] == ["2023-01", "2023-02"]
        assert catalog.place.startswith(str(tmp_path / "cache"))
    (tmp_path / "cache").rename(tmp_path / "cache-gone")
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    with open_catalog(archive) as catalog:
        assert catalog.place == derived.MEMORY
        assert [a.id for a in catalog.articles()] == ["2023-01-001", "2023-02-001"]


def test_completion_values(small: Path) -> None:
    with open_catalog(Archive.open(small)) as catalog:
        assert catalog.values("section") == ["行业资讯"]
        assert catalog.values("source") == ["《人民日报》"]
        assert catalog.values("tag") == ["直播"]
        assert catalog.article_ids("2023-0") == ["2023-01-001", "2023-02-001"]
        assert catalog.issue_ids() == ["2023-01", "2023-02"]
        (article,) = catalog.find_articles("2023-02-001")
        assert article.path == small / "2023" / "2023-02.toml" and article.tags == ("直播",)
        assert [a.id for a in catalog.same_body(body_digest("第一段。"))] == ["2023-01-001", "2023-02-001"]
        with pytest.raises(ValueError):
            catalog.values("body")


# --------------------------------------------------------------------------- `list` with a broken file


def test_list_reports_a_broken_file_and_lists_the_rest(small: Path, invoke: Invoke) -> None:
    (small / "2023" / "bad.toml").write_text('id = "2023-03"\ntitle = \n', "utf-8")
    (small / "2023" / "twin.toml").write_text((small / "2023" / "2023-01.toml").read_text("utf-8"), "utf-8")
    for args in (["list"], ["list", "--format", "json"]):
        result = invoke(*args, archive=small)
        assert result.exit_code == 1, result.output
        assert result.stderr.splitlines() == [
            f"ecdigest: warning: {small / '2023' / 'bad.toml'}:2: invalid TOML: Invalid value (fix the syntax)",
            f"ecdigest: warning: {small / '2023' / 'twin.toml'}: issue id '2023-01' is also used by "
            f"{small / '2023' / '2023-01.toml'} (give each issue file its own id)",
        ]
        assert "2023-01" in result.stdout and "2023-02" in result.stdout
        # The fast path (no Typer) prints the same bytes and exit code.
        fast = run_cli(["--archive", str(small), *args])
        slow = run_cli(["--archive", str(small), *args], env={"ECDIGEST_DEBUG": "1"})
        assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr)
        assert fast.returncode == 1 and fast.stdout.decode() == result.stdout


# --------------------------------------------------------------------------- real processes


def _archive_of(root: Path, count: int) -> None:
    init_archive(root)
    for n in range(count):
        date = dt.date(2004, 1, 5) + dt.timedelta(days=7 * n)
        issue = Issue(
            id=f"i{n:04d}",
            title=f"第 {n} 期",
            date=date,
            status="published" if n % 5 else "draft",
            articles=tuple(
                Article(id=f"i{n:04d}-{k:03d}", section="行业资讯", title=f"第 {n} 期第 {k} 篇：{BASE_TITLES[k % 4]}",
                        source="《人民日报》", date=date, body=f"正文 {n} {k}。")
                for k in range(1, 6)
            ),
        )  # fmt: skip
        folder = root / str(date.year)
        folder.mkdir(exist_ok=True)
        (folder / f"i{n:04d}.toml").write_text(encode_issue(issue), "utf-8")


def _ecdigest() -> list[str]:
    exe = shutil.which("ecdigest", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "ecdigest"]


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECDIGEST_")}
    env["ECDIGEST_NOW"] = "2023-07-10T09:00:00+08:00"
    return env


def test_writers_racing_readers(tmp_path: Path) -> None:
    """Processes rewrite, add, rename and delete issue files while others list and validate;
    afterwards the catalog equals a full read, and no reader ever failed."""
    root = tmp_path / "archive"
    _archive_of(root, 30)
    stop = time.monotonic() + 6
    errors: list[str] = []

    def reader(args: list[str]) -> int:
        runs = 0
        while time.monotonic() < stop:
            result = subprocess.run([*_ecdigest(), "--archive", str(root), *args], capture_output=True,
                                    env=_clean_env(), timeout=120, check=False)  # fmt: skip
            if (
                result.returncode not in (0, 1)
                or b"Traceback" in result.stderr
                or b"internal" in result.stderr
            ):
                errors.append(f"{args}: {result.returncode} {result.stderr.decode()[-400:]}")
            runs += 1
        return runs

    def writer(seed: int) -> int:
        rnd = random.Random(seed)
        runs = 0
        while time.monotonic() < stop:
            files = sorted(p for p in root.rglob("i*.toml"))
            path = rnd.choice(files)
            action = rnd.random()
            if path.stem == "i0003" and 0.4 <= action < 0.7:
                continue  # the reader validates this one
            try:
                if action < 0.4:
                    text = path.read_text("utf-8")
                    path.write_text(text.replace("正文", rnd.choice(["正文", "内容", "全文"]), 1), "utf-8")
                elif action < 0.6:
                    path.rename(path.with_name(f"i{rnd.randrange(10000):04d}.toml"))
                elif action < 0.7:
                    path.unlink()
            except FileNotFoundError:
                # Another of these writers renamed or deleted it since this one listed the
                # folder: the writers race each other too, and that is not a reader failing.
                continue
            if action >= 0.7:
                result = subprocess.run(
                    [*_ecdigest(), "--archive", str(root), "add", "--force", path.stem if path.stem.startswith("i") else "x",
                     "--title", f"并发 {seed} {runs}", "--section", "行业资讯", "--source", "《人民日报》",
                     "--date", "2004-01-01", "--body", "正文。"],
                    capture_output=True, env=_clean_env(), timeout=120, check=False,
                )  # fmt: skip
                if result.returncode not in (0, 2):
                    errors.append(f"add: {result.returncode} {result.stderr.decode()[-400:]}")
            runs += 1
        return runs

    with ThreadPoolExecutor(5) as pool:
        jobs = [pool.submit(reader, ["list", "--format", "json"]), pool.submit(reader, ["validate", "i0003"])]
        jobs += [pool.submit(writer, seed) for seed in range(3)]
        counts = [job.result() for job in jobs]
    assert not errors, errors[:3]
    assert min(counts) >= 2, counts
    check_everything(root)
    conn = sqlite3.connect(derived.local_place(str(root), "catalog"))
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def _no_process_left(root: Path, seconds: float = 5.0) -> None:
    """No process (a killed command's orphaned worker) still works on `root`."""
    deadline = time.monotonic() + seconds
    while True:
        alive = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as handle:
                        if str(root).encode() in handle.read():
                            alive.append(int(entry))
                except OSError:
                    pass
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert not alive, f"processes left working on {root}: {alive}"


def test_kills_during_builds_and_updates_leave_a_catalog_that_equals_a_full_read(tmp_path: Path) -> None:
    """SIGKILL `list` at random moments of a cold build (worker processes included) and of
    updates; the next reader cleans up and answers as a full read does."""
    root = tmp_path / "archive"
    _archive_of(root, 120)
    rnd = random.Random(20230605)
    place = Path(derived.local_place(str(root), "catalog"))
    argv = [*_ecdigest(), "--archive", str(root), "list", "--format", "json"]
    started = time.monotonic()
    expected = subprocess.run(argv, capture_output=True, env=_clean_env(), timeout=120, check=True).stdout
    seconds = time.monotonic() - started
    killed = 0
    for trial in range(16):
        if trial % 2 == 0:
            for suffix in ("", "-journal"):
                if os.path.exists(str(place) + suffix):
                    os.unlink(str(place) + suffix)  # a cold build
        else:
            for path in rnd.sample(sorted(root.rglob("i*.toml")), 8):  # an update of a few files
                path.write_text(path.read_text("utf-8") + "\n", "utf-8")
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_clean_env())
        try:
            # A cold build is killed before the time the first one took (under load a kill
            # past it would often come too late); an update at any moment, even after it ended.
            proc.wait(timeout=rnd.uniform(0.05, seconds * (0.9 if trial % 2 == 0 else 1.5)))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed += 1
        # Workers of a killed build see their parent gone and stop on their own.
        _no_process_left(root)
        result = subprocess.run(argv, capture_output=True, env=_clean_env(), timeout=120, check=False)
        assert result.returncode == 0, result.stderr.decode()
        assert json.loads(result.stdout) == json.loads(expected)
        check_everything(root)
        leftovers = [p.name for p in place.parent.iterdir() if p.name.endswith(".tmp")]
        assert leftovers == [], leftovers
    assert killed >= 4, killed


@pytest.mark.parametrize("parent_alive", [True, False])
def test_a_worker_whose_parent_is_gone_before_it_starts_ends_by_itself(
    tmp_path: Path, parent_alive: bool
) -> None:
    """A cold build's worker knows its parent by the pid the parent gave it, not by the one
    it reads once it runs: a parent killed in between (getppid() is then already 1) must
    not leave the worker blocked on a queue nobody reads. Here the queue is never read:
    the worker told of a parent that is not its own ends at once; one whose parent lives
    keeps waiting (until the test stops it)."""
    import multiprocessing

    from ecdigest.archive import Archive
    from ecdigest.catalog import STORE

    root = tmp_path / "archive"
    _archive_of(root, 6)
    archive = Archive.open(root)
    paths = [os.fsencode(os.path.relpath(p, root)) for p in archive.issue_paths()]
    context = multiprocessing.get_context("fork")
    results = context.Queue(maxsize=1)
    parent = os.getpid() if parent_alive else 2**22 + 12345  # no process has this pid
    worker = context.Process(
        target=derived._prepare_worker,
        args=(STORE, lambda: archive, str(root), paths, results, parent),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=5)
    try:
        assert worker.is_alive() == parent_alive
    finally:
        if worker.is_alive():
            worker.kill()
            worker.join()


def test_a_file_just_written_is_checked_by_its_bytes_without_an_update(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Within RACY_NS of a write, every open must look at the written file again (its size
    and mtime could hide a second write); when its bytes are the ones the catalog read (the
    stored digest), the catalog is right and is used as it is, without taking the lock to
    note the check (`add` opens it right after the previous `add` wrote). A rewrite of the
    same size within the same mtime is still read again."""
    root = tmp_path / "a"
    shutil.copytree(Path(__file__).parent.parent / "issues", root, ignore=shutil.ignore_patterns(".ecdigest"))
    archive = Archive.open(root)
    path = archive.issue_paths()[0]
    item = archive.read(path)
    archive.write(path, item.issue.with_article(dataclasses_replace(item.issue.articles[0], id="x-999"), 999))
    with archive.catalog() as catalog:  # takes in the write: the file is racy now
        assert "x-999" in catalog.article_ids("x-")
    updates: list[bytes] = []
    ready_locked = derived._ready_locked
    monkeypatch.setattr(derived, "_ready_locked", lambda *args: updates.append(b"") or ready_locked(*args))
    with archive.catalog() as catalog:
        assert "x-999" in catalog.article_ids("x-")
    assert updates == []  # same bytes: no update, no lock
    info = path.stat()
    text = path.read_bytes()
    path.write_bytes(text.replace(b"x-999", b"x-998"))  # the same size
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    with archive.catalog() as catalog:
        assert "x-998" in catalog.article_ids("x-") and "x-999" not in catalog.article_ids("x-")
    assert len(updates) == 1
