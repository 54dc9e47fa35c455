"""The catalog: what every command needs to know about every issue, without reading them all.

`list`, "the newest issue", finding the file of an issue or an article by its id, the
article ids already taken, validation's cross-issue checks (duplicate ids, a story already
published), the editor's completion of ids, sections and sources, and the web archive's
index pages all need a little from every issue file; parsing 1,000 TOML files for it costs
seconds. The catalog keeps that little in `ARCHIVE/.ecdigest/catalog.sqlite3`, derived
from the files by the mechanism every cache of the archive shares (`derived.py`: size,
mtime and BLAKE2 digest of every file, the racily-clean check, a lock for writers, a read
transaction for readers, silent rebuilds, the user-cache and in-memory fallbacks). The
files stay the truth: a command that needs an issue's articles reads that one file.

Why a file of its own beside the search index rather than tables inside it (bench/RESULTS.md,
"Scale", the cold rows): on the generated 1,000-issue archive the catalog is built in 2.7 s
and the index in 21 s, and after an edit the catalog re-reads one file while the index also
re-folds and re-indexes its texts. Inside one file, `list` and an editor's completion would
wait for full-text work and for a search's writer lock (a cold index build holds it for the
whole build); beside it, they never do, and either schema can change without discarding the
other. What is shared is the mechanism (derived.py), not the file.

What it holds, per issue file: its path and digest; the issue's id, title, date, status,
last_article_number and its articles per section (in order of first appearance); and, when
a strict read of the file fails, that error (message, line, hint). A file whose TOML cannot
be read at all has no issue data, only its error. Per article: issue, position, id,
section, title, source, compiled_by, date, url, tags, a digest of its body (`body_digest`)
and its title reduced to letters and digits (`title_key`). The ids found by a plain text
scan of each file (`id = "…"` lines, so a file that does not parse still reserves its
ids), and an FTS5 table of the character pairs of published titles (near-duplicate titles).

Reading: `open_catalog(archive)` returns a `Catalog` (use it in a `with` block: it holds a
read transaction, so everything it answers comes from one state of the archive).
"""

from __future__ import annotations

import os

from .derived import Store, StoreWriter, discard, is_corrupt, open_store, sqlite_driver

# `typing` costs milliseconds to import and `list` runs through this module.
TYPE_CHECKING = False

if TYPE_CHECKING:
    import datetime as dt
    import sqlite3
    from collections.abc import Iterable, Sequence
    from pathlib import Path
    from typing import Any

    from .archive import Archive
    from .errors import InputError

NAME = "catalog"
SCHEMA_VERSION = 4  # 3: articles.body_line; 4: title_pair_docs
# Bump when `title_key`, `body_digest` or the id scan change what they return.
DERIVE_VERSION = "1"
# Titles shorter than this (in letters and digits) are compared exactly, never nearly.
MIN_NEAR = 6

_SCHEMA = """
CREATE TABLE issues(
    file INTEGER PRIMARY KEY,
    id TEXT,
    title TEXT,
    date TEXT,
    status TEXT,
    last_article_number TEXT,
    articles INTEGER NOT NULL,
    error TEXT,
    error_line INTEGER,
    error_hint TEXT
);
CREATE INDEX issues_id ON issues(id);
CREATE TABLE sections(
    file INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    name TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY(file, pos)
) WITHOUT ROWID;
CREATE TABLE articles(
    id INTEGER PRIMARY KEY,
    file INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    article TEXT NOT NULL,
    section TEXT NOT NULL,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    compiled_by TEXT,
    date TEXT,
    url TEXT,
    body_digest TEXT NOT NULL,
    body_line INTEGER,
    title_key TEXT NOT NULL
);
CREATE INDEX articles_file ON articles(file, pos);
CREATE INDEX articles_article ON articles(article);
CREATE INDEX articles_body ON articles(body_digest);
CREATE INDEX articles_title_key ON articles(title_key);
CREATE TABLE tags(
    article INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    tag TEXT NOT NULL,
    PRIMARY KEY(article, pos)
) WITHOUT ROWID;
CREATE INDEX tags_tag ON tags(tag);
CREATE TABLE ids(id TEXT NOT NULL, file INTEGER NOT NULL, PRIMARY KEY(id, file)) WITHOUT ROWID;
CREATE INDEX ids_file ON ids(file);
CREATE VIRTUAL TABLE title_pairs USING fts5(pairs, tokenize='ascii', content='', detail=none);
CREATE VIRTUAL TABLE title_pair_counts USING fts5vocab(title_pairs, 'row');
CREATE TABLE title_pair_docs(term TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID;
"""


# --------------------------------------------------------------------------- derived values


def body_digest(body: str) -> str:
    """A digest of an article's text that ignores how it is wrapped and spaced: two
    articles with the same digest have the same words (`add`'s duplicate warning)."""
    from .derived import blake2b_hex

    return blake2b_hex(" ".join(body.split()).encode("utf-8", "surrogatepass"), 16)


def title_key(title: str) -> str:
    """A title reduced to its letters and digits: spaces and punctuation do not tell stories apart."""
    import unicodedata

    text = unicodedata.normalize("NFKC", title).casefold()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def title_pairs(key: str) -> set[str]:
    """The character pairs of a title key (near-duplicate titles share most of them)."""
    return {key[i : i + 2] for i in range(len(key) - 1)}


def _storable(text: str | None) -> str | None:
    """Text SQLite can store: file names that are not UTF-8 arrive as lone surrogates."""
    if text is None:
        return None
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


# --------------------------------------------------------------------------- what is read back


class IssueEntry:
    """One issue file as the catalog knows it. `id` is None when the file cannot be read
    at all; `error` is what a strict read of the file raises (None: it reads cleanly)."""

    __slots__ = (
        "_path",
        "_root",
        "article_count",
        "date",
        "digest",
        "error",
        "id",
        "last_article_number",
        "relative",
        "sections",
        "status",
        "title",
    )

    def __init__(
        self,
        *,
        root: str,
        relative: str,
        id: str | None,
        title: str | None,
        date: dt.date | None,
        status: str | None,
        last_article_number: int,
        article_count: int,
        sections: tuple[tuple[str, int], ...],
        digest: str | None,
        error: InputError | None,
    ) -> None:
        self._root = root
        self._path: Path | None = None
        self.relative = relative  # the file below the archive's folder, `/`-separated
        self.id = id
        self.title = title
        self.date = date
        self.status = status
        self.last_article_number = last_article_number
        self.article_count = article_count
        self.sections = sections
        self.digest = digest
        self.error = error

    @property
    def path(self) -> Path:
        """The issue file (made when first asked: `list` never needs a Path)."""
        if self._path is None:
            from pathlib import Path

            self._path = Path(self._root, self.relative)
        return self._path

    @property
    def broken(self) -> bool:
        """A strict read of the file fails (see `error`)."""
        return self.error is not None

    @property
    def readable(self) -> bool:
        """The file parsed far enough to know its issue (maybe with field problems)."""
        return self.id is not None

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    def order(self) -> tuple[str, str, tuple[str, ...]]:
        """Oldest first: by date (undated first), id, then file (as `Archive.issues()`)."""
        return (self.date.isoformat() if self.date else "", self.id or "", tuple(self.relative.split("/")))

    def section_counts(self, sections: Iterable[str]) -> dict[str, int]:
        """Articles per section: configured order first, then others as they appear
        (`Issue.section_counts`)."""
        counts = dict(self.sections)
        order = [name for name in sections if name in counts]
        order += [name for name in counts if name not in order]
        return {name: counts[name] for name in order}

    def __repr__(self) -> str:
        return f"IssueEntry({self.id!r}, {self.relative!r}{', broken' if self.broken else ''})"


class ArticleEntry:
    """One article as the catalog knows it (its body: read the issue file at `path`)."""

    __slots__ = (
        "body_digest",
        "compiled_by",
        "date",
        "id",
        "issue",
        "path",
        "pos",
        "section",
        "source",
        "tags",
        "title",
        "url",
    )

    def __init__(
        self,
        *,
        path: Path,
        issue: str,
        pos: int,
        id: str,
        section: str,
        title: str,
        source: str,
        compiled_by: str | None,
        date: dt.date | None,
        url: str | None,
        tags: tuple[str, ...],
        body_digest: str,
    ) -> None:
        self.path = path
        self.issue = issue
        self.pos = pos
        self.id = id
        self.section = section
        self.title = title
        self.source = source
        self.compiled_by = compiled_by
        self.date = date
        self.url = url
        self.tags = tags
        self.body_digest = body_digest

    def __repr__(self) -> str:
        return f"ArticleEntry({self.id!r}, issue={self.issue!r})"


class TitleMatch:
    """An earlier published title that a title repeats: its similarity, whether it is the
    same title (the same letters and digits), the article, and where it stands in the
    archive's order (issue date, issue id, file, position)."""

    __slots__ = ("article", "exact", "order", "score")

    def __init__(self, score: float, exact: bool, article: ArticleEntry, order: tuple[Any, ...]) -> None:
        self.score = score
        self.exact = exact
        self.article = article
        self.order = order


def full_path(root: str, relative: str) -> str:
    """`str(Path(root, relative))`, without importing pathlib when `root` is already clean."""
    if root != "." and root == os.path.normpath(root):
        return os.path.join(root, relative)
    from pathlib import Path

    return str(Path(root, relative))


def duplicate_id_error(
    issue_id: str, first: str | os.PathLike[str], second: str | os.PathLike[str]
) -> InputError:
    """The error for a second file that uses an issue id (`second`), naming the first."""
    from .errors import InputError

    return InputError(
        f"issue id {issue_id!r} is also used by {first}",
        path=os.fspath(second),
        hint="give each issue file its own id",
    )


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    import datetime  # here: a kept `show` (rendered.py) makes no entry and needs no dates

    return datetime.date.fromisoformat(value)


# --------------------------------------------------------------------------- the catalog


class Catalog:
    """Answers about every issue of an archive from one consistent state of the catalog.

    Opened up to date (files changed since the last command are read again first) inside
    a read transaction: close it promptly (`with open_catalog(archive) as catalog:`), as a
    writer updating the catalog waits for readers to finish.
    """

    def __init__(self, archive: Archive | str | os.PathLike[str]) -> None:
        self.archive = archive if not isinstance(archive, str | os.PathLike) else None
        self._root = str(archive) if self.archive is None else str(self.archive.root)
        self._conn: sqlite3.Connection | None = None
        self.place = ""
        self._meta: dict[str, str] | None = None
        self._open()

    def _open(self) -> None:
        self._conn, self.place = open_store(STORE, self._root)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run a query; a damaged catalog is discarded, rebuilt and asked again, once."""
        sqlite3 = sqlite_driver()  # not the package: its import is ~0.5 ms of show's start

        for attempt in (1, 2):
            assert self._conn is not None, "the catalog is closed"
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                if attempt == 2 or not is_corrupt(exc):
                    raise
                self.close()
                discard(self.place)
                self._open()
        raise AssertionError("unreachable")  # pragma: no cover

    def settings_sections(self) -> list[str]:
        """The sections configured in ecdigest.toml (kept with the catalog: `list` then
        needs no other file)."""
        if self._meta is None:
            self._meta = dict(self._rows("SELECT key, value FROM meta"))
        value = self._meta.get("sections", "")
        return value.split("\n") if value else []

    def file_digests(self) -> bytes:
        """Every file's path and digest, in path order: the state `list` shows (rendered.py)."""
        return b"".join(
            path + b"\0" + (digest or "").encode() + b"\n"
            for path, digest in self._rows("SELECT path, digest FROM files ORDER BY path")
        )

    def _path(self, relative: bytes) -> Path:
        from pathlib import Path

        return Path(self._root, os.fsdecode(relative))

    # ------------------------------------------------------------------ issues

    def issues(self) -> list[IssueEntry]:
        """Every issue file, oldest first (as `Archive.issues()` orders them), broken ones
        included (`entry.broken`, `entry.error`)."""
        sections: dict[int, list[tuple[str, int]]] = {}
        for file_id, name, count in self._rows("SELECT file, name, count FROM sections ORDER BY file, pos"):
            sections.setdefault(file_id, []).append((name, count))
        entries = [
            self._issue(row, tuple(sections.get(row[0], ())))
            for row in self._rows(
                "SELECT i.file, f.path, f.digest, i.id, i.title, i.date, i.status, i.last_article_number, "
                "i.articles, i.error, i.error_line, i.error_hint FROM issues i JOIN files f ON f.id = i.file"
            )
        ]
        entries.sort(key=IssueEntry.order)
        return entries

    def latest(self, status: str | None = None) -> tuple[IssueEntry | None, IssueEntry | None]:
        """What `Archive.latest` needs of `issues()`, without an entry for every file: the
        first file that cannot be read at all (in `issues()` order: such files sort by path)
        and the newest issue of `status` (of any when None), each None when there is none."""
        unreadable = self._issue_files("i.id IS NULL", ())
        if unreadable:
            return unreadable[0], None
        chosen = self._newest(status)
        if chosen is None:
            return None, None
        (entry,) = self._issue_files("i.file = ?", (chosen,))
        return None, entry

    def _newest(self, status: str | None) -> int | None:
        """The file of the newest issue of `status` (of any when None), in `issues()` order."""
        where, params = ("WHERE i.status = ?", (status,)) if status is not None else ("", ())
        best: tuple[str, str, tuple[str, ...]] | None = None
        chosen = None
        for file_id, path, date, issue_id in self._rows(
            f"SELECT i.file, f.path, i.date, i.id FROM issues i JOIN files f ON f.id = i.file {where}", params
        ):
            key = (date or "", issue_id or "", tuple(os.fsdecode(path).split("/")))  # IssueEntry.order
            if best is None or key > best:
                best, chosen = key, file_id
        return chosen

    def shown_file(self, issue_id: str | None) -> tuple[str, str, int, int] | None:
        """(relative path, digest, size, mtime_ns) of the one file `Archive.get(issue_id)`
        (`latest()` for None) reads when nothing is in its way: no other file with that id,
        no strict-read error, and for the newest issue no file that cannot be read at all;
        None for anything else. What rendered.py keys a kept `show` by, asked without making
        entries (nor importing datetime for their dates)."""
        if issue_id is None:
            if self._rows("SELECT 1 FROM issues WHERE id IS NULL LIMIT 1"):
                return None
            newest = self._newest(None)
            if newest is None:
                return None
            rows = self._rows("SELECT id FROM issues WHERE file = ?", (newest,))
            issue_id = rows[0][0]
            if not issue_id:
                return None
        rows = self._rows(
            "SELECT f.path, f.digest, f.size, f.mtime_ns, i.error FROM issues i JOIN files f ON f.id = i.file "
            "WHERE i.id = ?",
            (issue_id,),
        )
        if len(rows) != 1 or rows[0][4] is not None or rows[0][1] is None:
            return None
        path, digest, size, mtime, _ = rows[0]
        return os.fsdecode(path), digest, size, mtime

    def issue_files(self, issue_id: str) -> list[IssueEntry]:
        """The files whose issue has this id (more than one: a duplicate id), in path order."""
        return self._issue_files("i.id = ?", (issue_id,))

    def files_without_id(self) -> list[IssueEntry]:
        """The files whose issue has no id (broken ones included), in path order."""
        return self._issue_files("coalesce(i.id, '') = ''", ())

    def _issue_files(self, where: str, params: Sequence[Any]) -> list[IssueEntry]:
        rows = self._rows(
            "SELECT i.file, f.path, f.digest, i.id, i.title, i.date, i.status, i.last_article_number, "
            "i.articles, i.error, i.error_line, i.error_hint FROM issues i JOIN files f ON f.id = i.file "
            f"WHERE {where}",
            params,
        )
        found = []
        for row in rows:
            counts = self._rows("SELECT name, count FROM sections WHERE file = ? ORDER BY pos", (row[0],))
            found.append(self._issue(row, tuple((name, count) for name, count in counts)))
        found.sort(key=lambda entry: entry.relative.split("/"))
        return found

    def _issue(self, row: Sequence[Any], sections: tuple[tuple[str, int], ...]) -> IssueEntry:
        (_, path, digest, issue_id, title, date, status, last, count, message, line, hint) = row
        relative = os.fsdecode(path)
        error = None
        if message is not None:
            from .errors import InputError

            error = InputError(message, path=full_path(self._root, relative), line=line, hint=hint)
        return IssueEntry(
            root=self._root,
            relative=relative,
            id=issue_id,
            title=title,
            date=_date(date),
            status=status,
            last_article_number=int(last or 0),
            article_count=count,
            sections=sections,
            digest=digest,
            error=error,
        )

    # ------------------------------------------------------------------ articles

    def _tags(self, rowids: list[int] | None) -> dict[int, list[str]]:
        """The tags of these articles (by row id; None: of every article), in their order."""
        tags: dict[int, list[str]] = {}
        if rowids is None:
            for rowid, tag in self._rows("SELECT article, tag FROM tags ORDER BY article, pos"):
                tags.setdefault(rowid, []).append(tag)
            return tags
        for start in range(0, len(rowids), 500):  # SQLite's limit on bound parameters
            chunk = rowids[start : start + 500]
            for rowid, tag in self._rows(
                f"SELECT article, tag FROM tags WHERE article IN ({','.join('?' * len(chunk))}) "
                "ORDER BY article, pos",
                chunk,
            ):
                tags.setdefault(rowid, []).append(tag)
        return tags

    def _article_rows(self, where: str, params: Sequence[Any]) -> list[tuple[int, ArticleEntry, str | None]]:
        """Articles matching `where` (SQL over `a` articles, `i` issues, `f` files): the row
        id, the entry, and its issue's date."""
        rows = self._rows(
            "SELECT a.id, f.path, i.id, i.date, a.pos, a.article, a.section, a.title, a.source, "
            "a.compiled_by, a.date, a.url, a.body_digest "
            f"FROM articles a JOIN issues i ON i.file = a.file JOIN files f ON f.id = a.file {where}",
            params,
        )
        tags = self._tags([row[0] for row in rows] if where else None)
        paths: dict[bytes, Path] = {}
        return [
            (
                rowid,
                ArticleEntry(
                    path=paths.get(path) or paths.setdefault(path, self._path(path)),
                    issue=issue,
                    pos=pos,
                    id=article,
                    section=section,
                    title=title,
                    source=source,
                    compiled_by=compiled_by,
                    date=_date(date),
                    url=url,
                    tags=tuple(tags.get(rowid, ())),
                    body_digest=digest,
                ),
                issue_date,
            )
            for (
                rowid,
                path,
                issue,
                issue_date,
                pos,
                article,
                section,
                title,
                source,
                compiled_by,
                date,
                url,
                digest,
            ) in rows
        ]

    def _articles(self, where: str, params: Sequence[Any]) -> list[ArticleEntry]:
        found = [entry for _, entry, _ in self._article_rows(where, params)]
        found.sort(key=lambda a: (a.path.parts, a.pos))
        return found

    def articles(self, issue_id: str | None = None) -> list[ArticleEntry]:
        """The articles of one issue (all of its files), or of every issue, oldest issue
        first, in file order within an issue."""
        if issue_id is None:
            found = self._articles("", ())
            entries = self.issues()
        else:
            found = self._articles("WHERE i.id = ?", (issue_id,))
            entries = sorted(self.issue_files(issue_id), key=IssueEntry.order)
        order = {entry.path: n for n, entry in enumerate(entries)}
        found.sort(key=lambda a: (order.get(a.path, -1), a.pos))
        return found

    def site_articles(
        self,
        *,
        paths: Iterable[Path] | None = None,
        field: str | None = None,
        values: Iterable[str] = (),
    ) -> dict[Path, list[tuple[Any, ...]]]:
        """What the web archive lists of articles, by file in file order, as plain tuples
        (id, section, title, source, date, tags): of every file, of `paths`, or only the
        articles whose `field` (section, source or tag) is one of `values`."""
        where = ""
        params: list[Any] = []
        if paths is not None:
            relative = [os.fsencode(os.path.relpath(path, self._root)) for path in paths]
            if not relative:
                return {}
            where = f"WHERE f.path IN ({','.join('?' * len(relative))})"
            params = relative
        elif field is not None:
            wanted = sorted(set(values))
            if not wanted:
                return {}
            marks = ",".join("?" * len(wanted))
            if field == "tag":
                where = f"WHERE a.id IN (SELECT article FROM tags WHERE tag IN ({marks}))"
            elif field in ("section", "source"):
                where = f"WHERE a.{field} IN ({marks})"
            else:
                raise ValueError(f"no such field: {field!r}")
            params = wanted
        rows = self._rows(
            "SELECT a.id, f.path, a.article, a.section, a.title, a.source, a.date "
            f"FROM articles a JOIN files f ON f.id = a.file {where} ORDER BY a.file, a.pos",
            params,
        )
        tags = self._tags([row[0] for row in rows] if where else None)
        by_file: dict[bytes, list[tuple[Any, ...]]] = {}
        for rowid, path, article, section, title, source, date in rows:
            by_file.setdefault(path, []).append(
                (article, section, title, source, _date(date), tuple(tags.get(rowid, ())))
            )
        return {self._path(path): found for path, found in by_file.items()}

    def value_counts(self, field: str, *, drafts: bool = False) -> dict[str, int]:
        """How many articles of the issues the web archive shows (published ones, drafts too
        when `drafts`; never a file with an error) have each value of `field` (section,
        source or tag; an article with a tag twice counts once)."""
        shown = "i.error IS NULL AND i.id IS NOT NULL AND (i.status = 'published' OR ?)"
        if field == "tag":
            sql = (
                "SELECT t.tag, count(DISTINCT t.article) FROM tags t JOIN articles a ON a.id = t.article "
                f"JOIN issues i ON i.file = a.file WHERE {shown} GROUP BY t.tag"
            )
        elif field in ("section", "source"):
            sql = f"SELECT a.{field}, count(*) FROM articles a JOIN issues i ON i.file = a.file WHERE {shown} GROUP BY a.{field}"
        else:
            raise ValueError(f"no such field: {field!r}")
        return dict(self._rows(sql, (1 if drafts else 0,)))

    def find_articles(self, article_id: str) -> list[ArticleEntry]:
        """The articles with this id (more than one: a duplicate), in path order."""
        return self._articles("WHERE a.article = ?", (article_id,))

    def same_body(self, digest: str) -> list[ArticleEntry]:
        """Articles whose `body_digest` is `digest` (the same text, however wrapped)."""
        return self._articles("WHERE a.body_digest = ?", (digest,))

    def repeated_bodies(self) -> list[tuple[str, Path, str, str, int, str, str, int | None]]:
        """Every article whose text another article also has (validate's W603 over the
        archive), in one query: (body digest, path, issue id, issue date, position, article
        id, title, the line of its body)."""
        rows = self._rows(
            "SELECT a.body_digest, f.path, i.id, coalesce(i.date, ''), a.pos, a.article, a.title, a.body_line "
            "FROM articles a JOIN issues i ON i.file = a.file JOIN files f ON f.id = a.file "
            "WHERE a.body_digest IN "
            "(SELECT body_digest FROM articles GROUP BY body_digest HAVING count(*) > 1)"
        )
        paths: dict[bytes, Path] = {}
        return [
            (digest, paths.get(path) or paths.setdefault(path, self._path(path)), *rest)
            for digest, path, *rest in rows
        ]

    def values(self, field: str) -> list[str]:
        """Distinct non-empty values of an article field in use: section, source,
        compiled_by or tag; sorted (what an editor's completion offers)."""
        if field == "tag":
            sql = "SELECT DISTINCT tag FROM tags"
        elif field in ("section", "source", "compiled_by"):
            sql = f"SELECT DISTINCT {field} FROM articles WHERE {field} IS NOT NULL AND {field} != ''"
        else:
            raise ValueError(f"no such field: {field!r}")
        return sorted(row[0] for row in self._rows(sql))

    def issue_ids(self) -> list[str]:
        """Every issue id in use (files that read), oldest issue first, each once."""
        return list(dict.fromkeys(e.id for e in self.issues() if e.id))

    def article_ids(self, prefix: str = "") -> list[str]:
        """Every article id starting with `prefix`, sorted (an editor's completion)."""
        return sorted(
            row[0]
            for row in self._rows(
                "SELECT DISTINCT article FROM articles WHERE article >= ? AND article < ?",
                (prefix, prefix + "\U0010ffff"),
            )
            if row[0].startswith(prefix)
        )

    def taken_ids(self, prefix: str, *, exclude: Path | None = None) -> list[str]:
        """Ids starting with `prefix` in `id = "…"` lines or parsed articles of every file
        but `exclude`: ids a new article must not take (`Archive.taken_article_ids`)."""
        rows = self._rows(
            "SELECT i.id, f.path FROM ids i JOIN files f ON f.id = i.file WHERE i.id >= ? AND i.id < ?",
            (prefix, prefix + "\U0010ffff"),
        )
        return sorted(
            value
            for value, path in rows
            if value.startswith(prefix) and (exclude is None or self._path(path) != exclude)
        )

    # ------------------------------------------------------------------ titles already published

    def already_published(
        self,
        key: str,
        *,
        before: tuple[str, str] | None,
        exclude_issue: str,
        exclude_path: Path,
        threshold: float,
    ) -> TitleMatch | None:
        """The earlier published title that a title with this `title_key` repeats: the
        first (in the archive's order) with the same key, else, for keys of MIN_NEAR
        characters or more, the one whose character pairs are most similar (Dice at least
        `threshold`; the first of equals). Only issues ordered before `before` ((date, id))
        when given; never an issue with the id `exclude_issue`, nor the file `exclude_path`.

        Near candidates come from the pair index by prefix filtering: with Dice >= d,
        Jaccard >= j = d / (2 - d), and two titles share at least ceil(j * |A|) pairs, so
        any such title contains one of the |A| - ceil(j * |A|) + 1 rarest pairs of A. The
        answer is exact: every candidate is checked with the real similarity.
        """
        exclude = os.fsencode(os.path.relpath(exclude_path, self._root))

        # Published, not this file, not this issue id, and (for a published issue) older.
        scope = "i.status = 'published' AND f.path != ? AND (i.id = '' OR i.id != ?)"
        scope_params: list[Any] = [exclude, exclude_issue]
        if before is not None:
            scope += " AND (coalesce(i.date, ''), i.id) < (?, ?)"
            scope_params += list(before)
        joins = "FROM articles a JOIN issues i ON i.file = a.file JOIN files f ON f.id = a.file"

        def candidates(where: str, params: Sequence[Any]) -> list[tuple[tuple[Any, ...], int, str]]:
            return [
                ((date or "", issue_id, tuple(os.fsdecode(path).split("/")), pos), rowid, other_key)
                for rowid, other_key, issue_id, date, path, pos in self._rows(
                    f"SELECT a.id, a.title_key, i.id, i.date, f.path, a.pos {joins} WHERE {where} AND {scope}",
                    [*params, *scope_params],
                )
            ]

        # The same title: the first in the archive's order. SQLite finds the oldest (date,
        # id) among possibly hundreds; files and positions order the few ties.
        oldest = self._rows(
            f"SELECT coalesce(i.date, ''), i.id {joins} WHERE a.title_key = ? AND {scope} ORDER BY 1, 2 LIMIT 1",
            [key, *scope_params],
        )
        if oldest:
            exact = candidates("a.title_key = ? AND coalesce(i.date, '') = ? AND i.id = ?", [key, *oldest[0]])
            order, rowid, _ = min(exact)
            return TitleMatch(1.0, True, self._article_by_rowid(rowid), order)
        pairs = title_pairs(key) if len(key) >= MIN_NEAR else set()
        if not pairs:
            return None
        jaccard = threshold / (2 - threshold) - 1e-9
        ids = self._near_candidates(pairs, threshold)
        best: tuple[float, tuple[Any, ...], int] | None = None
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for order, rowid, other_key in candidates(f"a.id IN ({','.join('?' * len(chunk))})", chunk):
                if len(other_key) < MIN_NEAR:
                    continue
                theirs = title_pairs(other_key)
                if not jaccard * len(pairs) <= len(theirs) <= len(pairs) / jaccard:
                    continue
                score = 2 * len(pairs & theirs) / (len(pairs) + len(theirs))
                if score >= threshold and (best is None or (-score, order) < (-best[0], best[1])):
                    best = (score, order, rowid)
        if best is None:
            return None
        return TitleMatch(best[0], False, self._article_by_rowid(best[2]), best[1])

    def _near_candidates(self, pairs: set[str], threshold: float) -> list[int]:
        """Rowids of the published titles that may be near a title with these `pairs`
        (prefix filtering, as `already_published` explains; to be checked by the caller)."""
        import math

        jaccard = threshold / (2 - threshold) - 1e-9
        # How many published titles hold each pair, from the table that keeps the counts
        # (fts5vocab counts them by reading each pair's whole list: ~2 ms a title).
        counts = dict(
            self._rows(
                f"SELECT term, docs FROM title_pair_docs WHERE term IN ({','.join('?' * len(pairs))})",
                list(pairs),
            )
        )
        ordered = sorted(pairs, key=lambda p: (counts.get(p, 0), p))
        rarest = [p for p in ordered[: len(ordered) - math.ceil(jaccard * len(ordered)) + 1] if counts.get(p)]
        if not rarest:
            return []
        expression = " OR ".join(f'"{p}"' for p in rarest)
        return [
            row[0]
            for row in self._rows("SELECT rowid FROM title_pairs WHERE title_pairs MATCH ?", (expression,))
        ]

    def digests(self) -> dict[bytes, str]:
        """Every issue file's digest ('' when it could not be read) by its path relative to
        the archive (bytes), as the catalog saw them."""
        return {bytes(path): digest or "" for path, digest in self._rows("SELECT path, digest FROM files")}

    def files_with_titles_like(self, keys: Iterable[str], threshold: float) -> set[bytes]:
        """The files (relative paths, bytes) holding a title whose `title_key` is one of
        `keys`, or, for keys of MIN_NEAR characters or more, is near one (Dice of character
        pairs at least `threshold`): published titles through the pair index, drafts'
        titles compared one by one (an archive has few drafts)."""
        wanted = sorted(set(keys) - {""})
        found: set[bytes] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.update(
                bytes(row[0])
                for row in self._rows(
                    "SELECT DISTINCT f.path FROM articles a JOIN files f ON f.id = a.file "
                    f"WHERE a.title_key IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
            )
        long = [(key, title_pairs(key)) for key in wanted if len(key) >= MIN_NEAR]
        if not long:
            return found
        jaccard = threshold / (2 - threshold) - 1e-9

        def near(other: str, pairs: set[str]) -> bool:
            if len(other) < MIN_NEAR:
                return False
            theirs = title_pairs(other)
            if not jaccard * len(pairs) <= len(theirs) <= len(pairs) / jaccard:
                return False
            # A hair below the threshold: a superset of the near titles is what callers need.
            return 2 * len(pairs & theirs) / (len(pairs) + len(theirs)) >= threshold - 1e-9

        joins = "FROM articles a JOIN files f ON f.id = a.file"
        for _, pairs in long:
            rowids = self._near_candidates(pairs, threshold)
            for start in range(0, len(rowids), 500):
                rows = rowids[start : start + 500]
                for path, other in self._rows(
                    f"SELECT f.path, a.title_key {joins} WHERE a.id IN ({','.join('?' * len(rows))})", rows
                ):
                    if bytes(path) not in found and near(other, pairs):
                        found.add(bytes(path))
        drafts = self._rows(
            f"SELECT f.path, a.title_key {joins} JOIN issues i ON i.file = a.file "
            "WHERE coalesce(i.status, '') != 'published'"
        )
        for path, other in drafts:
            if bytes(path) not in found and any(near(other, pairs) for _, pairs in long):
                found.add(bytes(path))
        return found

    def _article_by_rowid(self, rowid: int) -> ArticleEntry:
        ((_, entry, _),) = self._article_rows("WHERE a.id = ?", (rowid,))
        return entry


def open_catalog(archive: Archive | str | os.PathLike[str]) -> Catalog:
    """The archive's catalog (an Archive, or its folder), up to date, in a read transaction
    (close it when done)."""
    return Catalog(archive)


# --------------------------------------------------------------------------- deriving it


class _CatalogStore(Store):
    name = NAME
    schema_version = SCHEMA_VERSION
    schema = _SCHEMA
    build_pragmas = ("PRAGMA cache_size = -16000",)
    # Parsing TOML is all of a cold build's work; every core takes a share.
    workers = max(1, min(4, os.cpu_count() or 1))
    parallel_from = 48

    def versions(self) -> dict[str, str]:
        import unicodedata

        return {"unidata": unicodedata.unidata_version, "derive": DERIVE_VERSION}

    def settings(self, archive: Archive) -> dict[str, str]:
        return {"sections": "\n".join(archive.settings.sections)}

    def parse(self, archive: Archive, path: Path, data: bytes | None) -> tuple[Any, str | None]:
        from .archive import strict_error
        from .codec import KeyLines
        from .errors import EcdigestError

        ids: set[str] = set()
        if data is not None:
            ids.update(_scan_ids(data))
        try:
            result = archive.read_lenient(path, data)
        except EcdigestError as exc:
            row: tuple[Any, ...] = (
                None,
                None,
                None,
                None,
                "0",
                0,
                _storable(exc.message),
                exc.line,
                _storable(exc.hint),
            )
            return (row, (), (), sorted(ids), False), _storable(str(exc))
        issue = result.issue
        assert issue is not None
        error = strict_error(result)
        lines = result.lines if result.lines is not None else KeyLines(result.text)
        counts: dict[str, int] = {}
        articles = []
        for pos, article in enumerate(issue.articles):
            counts[article.section] = counts.get(article.section, 0) + 1
            if article.id:
                ids.add(article.id)
            articles.append(
                (
                    pos,
                    article.id,
                    article.section,
                    article.title,
                    article.source,
                    article.compiled_by,
                    article.date.isoformat() if article.date else None,
                    article.url,
                    body_digest(article.body),
                    lines.line("body", pos),  # W603 names it without reading the file
                    title_key(article.title),
                    tuple(article.tags),
                )
            )
        row = (
            issue.id,
            issue.title,
            issue.date.isoformat() if issue.date else None,
            issue.status,
            str(issue.last_article_number),
            len(issue.articles),
            None if error is None else _storable(error.message),
            None if error is None else error.line,
            None if error is None else _storable(error.hint),
        )
        note = None if error is None else _storable(str(error))
        return (row, tuple(counts.items()), tuple(articles), sorted(ids), issue.is_published), note

    def writer(self, conn: sqlite3.Connection) -> StoreWriter:
        return _Writer(conn)

    def before_build(self, conn: sqlite3.Connection) -> None:
        # A cold build counts the pairs once at the end, not title by title.
        conn.execute("DROP TABLE title_pair_docs")

    def after_build(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "CREATE TABLE title_pair_docs(term TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID"
        )
        conn.execute("INSERT INTO title_pair_docs SELECT term, doc FROM title_pair_counts")
        conn.execute("COMMIT")


def _scan_ids(data: bytes) -> list[str]:
    """Values of `id = "…"` lines, found without parsing (a broken file reserves its ids too)."""
    import re

    text = data.decode("utf-8", "replace")
    return re.findall(r'(?m)^\s*id\s*=\s*"([^"]*)"', text)


class _Writer(StoreWriter):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        row = conn.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()
        self.next_id = int(row[0]) + 1
        # The temporary tables below: this connection's, in its transaction, in memory (in a
        # file, a temporary database was created and committed with every write: ~1-8 ms).
        conn.execute("PRAGMA temp_store = MEMORY")
        # Absent during a cold build (counted at its end, after_build).
        self.counting = (
            conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'title_pair_docs'").fetchone() is not None
        )
        if self.counting:
            # A file taken in again is deleted, then inserted (derived.Updater.apply): its
            # old pairs wait here and its insert writes only the difference, most often
            # none (a body edit keeps the titles; ~1,000 upserts each way were ~10-15 ms of
            # `show` after an edit at 1,000 issues). A file removed (its files row deleted)
            # gives them back by the trigger.
            conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS pending_pairs(file INTEGER NOT NULL, term TEXT NOT NULL, "
                "n INTEGER NOT NULL)"
            )
            conn.execute(
                "CREATE TEMP TRIGGER IF NOT EXISTS pending_pairs_removed AFTER DELETE ON main.files BEGIN "
                "INSERT INTO title_pair_docs SELECT term, -sum(n) FROM pending_pairs WHERE file = OLD.id "
                "GROUP BY term ON CONFLICT(term) DO UPDATE SET docs = docs + excluded.docs; "
                "DELETE FROM title_pair_docs WHERE docs <= 0 "
                "AND term IN (SELECT term FROM pending_pairs WHERE file = OLD.id); "
                "DELETE FROM pending_pairs WHERE file = OLD.id; END"
            )
        # A file taken in again keeps its rows until its insert compares them (`delete`);
        # a file removed instead (its files row deleted) loses them here, and its titles'
        # pairs, which wait in `pending_titles` (the pair index keeps no text to delete by).
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS pending_titles(file INTEGER NOT NULL, rowid INTEGER NOT NULL, "
            "pairs TEXT NOT NULL)"
        )
        conn.execute(
            "CREATE TEMP TRIGGER IF NOT EXISTS catalog_file_removed AFTER DELETE ON main.files BEGIN "
            + "".join(f"{statement.format(file='OLD.id')}; " for statement in _FORGET)
            + "END"
        )
        # The file whose rows `delete` left for its insert to compare, and those rows.
        self.kept: tuple[int, _Rows] | None = None

    def _count(self, file_id: int, pair_lists: list[str], removed: list[str] | None = None) -> None:
        """Keep title_pair_docs: each pair of these titles (the file's, inserted) is in one
        more title, each pair of its titles deleted before (pending_pairs) in one fewer.
        `removed`: the titles deleted, when the caller knows them (`_rewrite`'s file, whose
        pending pairs are theirs; the unchanged titles left out of both lists)."""
        if not self.counting:
            return
        from collections import Counter

        conn = self.conn
        change = Counter(pair for text in pair_lists for pair in text.split(" ") if pair)
        if removed is not None:
            conn.execute("DELETE FROM pending_pairs WHERE file = ?", (file_id,))
            change.subtract(pair for text in removed for pair in text.split(" ") if pair)
        else:
            pending = conn.execute("SELECT term, n FROM pending_pairs WHERE file = ?", (file_id,)).fetchall()
            if pending:
                conn.execute("DELETE FROM pending_pairs WHERE file = ?", (file_id,))
                for term, n in pending:
                    change[term] -= n
        conn.executemany(
            "INSERT INTO title_pair_docs VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET docs = docs + excluded.docs",
            [(pair, n) for pair, n in sorted(change.items()) if n],
        )
        conn.executemany(
            "DELETE FROM title_pair_docs WHERE term = ? AND docs <= 0",
            [(pair,) for pair, n in sorted(change.items()) if n < 0],
        )

    def insert(self, file_id: int, payload: Any) -> None:
        row, counts, articles, ids, published = payload
        conn = self.conn
        kept, self.kept = self.kept, None
        if kept is not None and (
            kept[0] != file_id
            # Its rows went with its files row (a file removed, its id given to a new one).
            or conn.execute("SELECT 1 FROM issues WHERE file = ?", (file_id,)).fetchone() is None
        ):
            self._forget(kept[0])
            kept = None
        if kept is None:
            conn.execute("INSERT INTO issues VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (file_id, *row))
            conn.executemany(
                "INSERT INTO sections VALUES (?, ?, ?, ?)",
                [(file_id, pos, name, count) for pos, (name, count) in enumerate(counts)],
            )
            rowids = list(range(self.next_id, self.next_id + len(articles)))
            self.next_id += len(articles)
            self._insert_articles(file_id, list(zip(rowids, articles, strict=True)))
            conn.executemany("INSERT INTO ids VALUES (?, ?)", [(value, file_id) for value in ids])
            old_titles: dict[int, str] = {}
        else:
            rowids = self._rewrite(file_id, kept[1], row, counts, articles, ids)
            old_titles = kept[1][5]
            conn.execute("DELETE FROM pending_titles WHERE file = ?", (file_id,))
        titles = {
            rowid: " ".join(sorted(title_pairs(a[-2])))
            for rowid, a in zip(rowids, articles, strict=True)
            if published and len(a[-2]) >= MIN_NEAR
        }
        # The pair index and its counts change only where a title did (or the status).
        removed = [(rowid, pairs) for rowid, pairs in old_titles.items() if titles.get(rowid) != pairs]
        added = [(rowid, pairs) for rowid, pairs in titles.items() if old_titles.get(rowid) != pairs]
        conn.executemany(
            "INSERT INTO title_pairs(title_pairs, rowid, pairs) VALUES ('delete', ?, ?)", removed
        )
        conn.executemany("INSERT INTO title_pairs(rowid, pairs) VALUES (?, ?)", added)
        if kept is None:
            self._count(file_id, list(titles.values()))
        else:
            self._count(file_id, [pairs for _, pairs in added], [pairs for _, pairs in removed])

    def _insert_articles(self, file_id: int, numbered: list[tuple[int, tuple[Any, ...]]]) -> None:
        conn = self.conn
        conn.executemany(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(rowid, file_id, *a[:-1]) for rowid, a in numbered],
        )
        conn.executemany(
            "INSERT INTO tags VALUES (?, ?, ?)",
            [(rowid, pos, tag) for rowid, a in numbered for pos, tag in enumerate(a[-1])],
        )

    def _rewrite(
        self,
        file_id: int,
        old: _Rows,
        row: tuple[Any, ...],
        counts: tuple[tuple[str, int], ...],
        articles: tuple[tuple[Any, ...], ...],
        ids: list[str],
    ) -> list[int]:
        """Turn the rows a file had (`old`) into the ones its new payload gives, writing only
        what differs; the row ids of its articles, in order.

        A file taken in again most often differs in a few values (a body edited, a line
        added): deleting and inserting all its rows rewrote ~150 pages of the indexes on
        random keys (body_digest, title_key) and a segment of the pair index, each page
        journaled, written and synced by the COMMIT of `show` right after an edit. Article
        k keeps the row id of the old article k (row ids stay ascending with the position,
        as an insert gives them); a value that differs is updated, articles past the old end
        are inserted, past the new end deleted. The rows hold the values a delete and an
        insert would leave; only row ids differ, and no answer depends on them (every query
        orders by file and position; the pair index's rows are articles' row ids)."""
        conn = self.conn
        old_row, old_counts, old_articles, old_tags, old_ids, _ = old
        if old_row != tuple(row):
            conn.execute(
                "UPDATE issues SET id = ?, title = ?, date = ?, status = ?, last_article_number = ?, "
                "articles = ?, error = ?, error_line = ?, error_hint = ? WHERE file = ?",
                (*row, file_id),
            )
        if old_counts != [tuple(count) for count in counts]:
            conn.execute("DELETE FROM sections WHERE file = ?", (file_id,))
            conn.executemany(
                "INSERT INTO sections VALUES (?, ?, ?, ?)",
                [(file_id, pos, name, count) for pos, (name, count) in enumerate(counts)],
            )
        rowids: list[int] = []
        for (rowid, values), new in zip(old_articles, articles, strict=False):
            rowids.append(rowid)
            changed = [
                (column, value)
                for column, was, value in zip(_COLUMNS, values, new[:-1], strict=True)  # tags below
                if was != value
            ]
            if changed:
                conn.execute(
                    f"UPDATE articles SET {', '.join(f'{column} = ?' for column, _ in changed)} WHERE id = ?",
                    (*(value for _, value in changed), rowid),
                )
            if old_tags.get(rowid, ()) != tuple(new[-1]):
                conn.execute("DELETE FROM tags WHERE article = ?", (rowid,))
                conn.executemany(
                    "INSERT INTO tags VALUES (?, ?, ?)",
                    [(rowid, pos, tag) for pos, tag in enumerate(new[-1])],
                )
        gone = [(rowid,) for rowid, _ in old_articles[len(articles) :]]
        conn.executemany("DELETE FROM tags WHERE article = ?", gone)
        conn.executemany("DELETE FROM articles WHERE id = ?", gone)
        extra = articles[len(old_articles) :]
        numbered = list(zip(range(self.next_id, self.next_id + len(extra)), extra, strict=True))
        self.next_id += len(extra)
        self._insert_articles(file_id, numbered)
        rowids += [rowid for rowid, _ in numbered]
        if old_ids != sorted(ids):
            conn.execute("DELETE FROM ids WHERE file = ?", (file_id,))
            conn.executemany("INSERT INTO ids VALUES (?, ?)", [(value, file_id) for value in ids])
        return rowids

    def _forget(self, file_id: int) -> None:
        """Every row derived from the file: what the trigger `catalog_file_removed` does
        (nothing left to do when it did)."""
        for statement in _FORGET:
            self.conn.execute(statement.format(file="?"), (file_id,))

    def delete(self, file_id: int) -> None:
        """Remove what was derived from the file, in one of two ways: derived.Updater.apply
        takes the file in again right after (`insert`, which then writes only what differs:
        `_rewrite`), or derived.Updater.remove deletes its files row, and the trigger
        `catalog_file_removed` (or `_forget`, before the writer's next file) deletes its
        rows. So nothing is written here but what the triggers need: its titles' pairs
        (`pending_titles`) and their counts (`pending_pairs`), in temporary tables."""
        conn = self.conn
        if self.kept is not None:
            self._forget(self.kept[0])
            self.kept = None
        issue = conn.execute(
            "SELECT id, title, date, status, last_article_number, articles, error, error_line, error_hint "
            "FROM issues WHERE file = ?",
            (file_id,),
        ).fetchone()
        old_articles = [
            (found[0], found[1:])
            for found in conn.execute(
                f"SELECT id, {', '.join(_COLUMNS)} FROM articles WHERE file = ? ORDER BY pos", (file_id,)
            ).fetchall()
        ]
        titles: dict[int, str] = {}
        if issue is not None and issue[3] == "published":
            key_at = _COLUMNS.index("title_key")
            titles = {
                rowid: " ".join(sorted(title_pairs(values[key_at])))
                for rowid, values in old_articles
                if len(values[key_at]) >= MIN_NEAR
            }
            conn.executemany(
                "INSERT INTO pending_titles VALUES (?, ?, ?)",
                [(file_id, rowid, pairs) for rowid, pairs in titles.items()],
            )
            if self.counting:
                conn.executemany(
                    "INSERT INTO pending_pairs VALUES (?, ?, 1)",
                    [(file_id, pair) for text in titles.values() for pair in text.split(" ") if pair],
                )
        counts = conn.execute(
            "SELECT name, count FROM sections WHERE file = ? ORDER BY pos", (file_id,)
        ).fetchall()
        tags: dict[int, tuple[str, ...]] = {}
        for rowid, tag in conn.execute(
            "SELECT article, tag FROM tags WHERE article IN (SELECT id FROM articles WHERE file = ?) "
            "ORDER BY article, pos",
            (file_id,),
        ):
            tags[rowid] = (*tags.get(rowid, ()), tag)
        ids = [
            found[0] for found in conn.execute("SELECT id FROM ids WHERE file = ? ORDER BY id", (file_id,))
        ]
        self.kept = (file_id, (issue, counts, old_articles, tags, ids, titles))


# Removing every row derived from a file ({file}: its id): the body of the trigger
# `catalog_file_removed` and `_Writer._forget`, one list for both.
_FORGET = (
    "INSERT INTO title_pairs(title_pairs, rowid, pairs) "
    "SELECT 'delete', rowid, pairs FROM pending_titles WHERE file = {file}",
    "DELETE FROM pending_titles WHERE file = {file}",
    "DELETE FROM tags WHERE article IN (SELECT id FROM articles WHERE file = {file})",
    "DELETE FROM articles WHERE file = {file}",
    "DELETE FROM sections WHERE file = {file}",
    "DELETE FROM ids WHERE file = {file}",
    "DELETE FROM issues WHERE file = {file}",
)

# The articles' columns after `id` and `file`, as Store.parse gives them (tags apart).
_COLUMNS = (
    "pos",
    "article",
    "section",
    "title",
    "source",
    "compiled_by",
    "date",
    "url",
    "body_digest",
    "body_line",
    "title_key",
)

if TYPE_CHECKING:
    # A file's rows: its issue row, section counts, (row id, values) of its articles in
    # order, tags by article row id, ids, and its published titles' pairs by row id.
    _Rows = tuple[
        tuple[Any, ...] | None,
        list[tuple[str, int]],
        list[tuple[int, tuple[Any, ...]]],
        dict[int, tuple[str, ...]],
        list[str],
        dict[int, str],
    ]


STORE = _CatalogStore()
