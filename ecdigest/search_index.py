"""The search index: SQLite under `ARCHIVE/.ecdigest/`, brought up to date before every query.

Layout (schema version in `PRAGMA user_version`; any other version, a missing table, a
corrupt file or a different Unicode version is rebuilt silently):

- `files`: every issue file seen, with size, mtime, a BLAKE2 digest of its bytes and the
  warning to repeat while it stays broken. A search stats every file below the root; only
  files whose size or mtime changed (or whose mtime is too close to when they were indexed
  to trust, as git's "racily clean" check) are read again, and re-parsed only when their
  digest changed. Files that disappeared (deleted, renamed) drop out.
- `articles`: what filters and ordering need (issue, date, section, source); small rows, so
  joining thousands of hits to them stays cheap. `texts`: titles and bodies as written, read
  for the page of hits shown (snippets) and to re-fold an issue being re-indexed.
- `tri`: FTS5 with the `trigram` tokenizer over the folded title and body: serves terms of
  three or more characters (a phrase of trigrams is exactly a substring) with bm25 ranking.
- `bi`: FTS5 over the same text cut into overlapping two-character tokens (`ascii`
  tokenizer, so every non-ASCII character is a token character): serves one- and
  two-character terms, which trigram MATCH cannot find (and `LIKE` on a trigram table
  wrongly finds nothing for short non-ASCII patterns on SQLite 3.40). A two-character term
  is one token; a one-character term is a prefix query (an end mark after each text makes
  its last character start a token too). bm25 ranks these as well. Measured on 55,000
  articles against a table of single characters (a two-character term then a phrase):
  that one builds in half the time, but 2-character queries, the most common ones, rank
  in 11 ms instead of 16, two of them in 17 instead of 31, and count in 0.7 ms instead of
  2.8; the bigram table costs some 3 s more CPU once, at the cold build.

Both FTS tables are contentless: the folded text is recomputed from `texts` when an
issue is re-indexed (hence the Unicode and folding versions in `meta`).

Writers (building, updating) hold a lock file next to the database and work in one
transaction; readers check freshness and query inside one read transaction, so two
searches at once on a stale index do the update once and never see half of it. A cold
build goes to a temporary file renamed into place; on a large archive a forked worker
process reads and folds the next files while this one indexes (a thread would not help:
the GIL changes hands at every row SQLite inserts). When the archive's folder cannot be
written, the index lives in the user's cache folder, else in memory.
"""

from __future__ import annotations

import array
import os
import sys
import unicodedata

from .search import fold

# `typing` costs milliseconds to import and this module is on every search's start-up path.
TYPE_CHECKING = False

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any

    from .archive import Archive
    from .search import Query

SCHEMA_VERSION = 3
# Bump when `search.fold` or `bigrams` change what they return: the FTS tables must be rebuilt.
FOLD_VERSION = "1"
STATE_DIR = ".ecdigest"
INDEX_FILE = "search.sqlite3"
SETTINGS_FILE = "ecdigest.toml"
MEMORY = ":memory:"
TITLE_WEIGHT = 3.0
BODY_WEIGHT = 1.0
# A file modified this close to when it was indexed might change again within the same
# mtime tick without its size changing: check its digest once more on the next search.
RACY_NS = 2_000_000_000
# Larger in-memory FTS5 segments: a cold build does far fewer merges (measured 13 s -> 5 s
# for the trigram table of 55,000 articles) for some 20 MB more memory per table.
FTS_HASH_SIZE = 16 * 1024 * 1024
BUSY_TIMEOUT_MS = 30_000
MAX_MIXED_GROUPS = 25

_SPACE_MARK = "\x01"  # a space in the text, inside a token (tokens are separated by real spaces)
_END_MARK = "\x02"  # follows a text's last character, so that character starts a token too
_ASCII_PUNCT = "".join(chr(c) for c in range(0x21, 0x7F) if not chr(c).isalnum())
_BI_TOKENIZER = "ascii tokenchars '" + (_SPACE_MARK + _END_MARK + _ASCII_PUNCT).replace("'", "''") + "'"

_SCHEMA = f"""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files(
    id INTEGER PRIMARY KEY,
    path BLOB NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    checked_ns INTEGER NOT NULL,
    digest TEXT,
    warning TEXT
);
CREATE TABLE articles(
    id INTEGER PRIMARY KEY,
    file INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    issue TEXT NOT NULL,
    article TEXT NOT NULL,
    date TEXT,
    section TEXT NOT NULL,
    source TEXT NOT NULL,
    nsource TEXT NOT NULL
);
CREATE TABLE texts(id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX articles_file ON articles(file);
CREATE INDEX articles_issue ON articles(issue);
CREATE INDEX articles_section ON articles(section);
CREATE VIRTUAL TABLE tri USING fts5(
    title, body, tokenize='trigram case_sensitive 1', content='', detail=full);
CREATE VIRTUAL TABLE bi USING fts5(
    title, body, tokenize="{_BI_TOKENIZER.replace('"', '""')}", content='', detail=full);
INSERT INTO tri(tri, rank) VALUES('hashsize', {FTS_HASH_SIZE});
INSERT INTO bi(bi, rank) VALUES('hashsize', {FTS_HASH_SIZE});
PRAGMA user_version = {SCHEMA_VERSION};
"""

# SQLite result codes (sqlite3.Error.sqlite_errorcode & 0xFF) that mean "cannot write here".
_CANNOT_WRITE = {3, 8, 10, 13, 14, 23}  # PERM, READONLY, IOERR, FULL, CANTOPEN, AUTH
_CORRUPT = {11, 26}  # CORRUPT, NOTADB


class Unusable(Exception):
    """This place cannot hold the index (read-only, full, not a folder): try the next one."""


class Corrupt(Exception):
    """The index file turned out to be damaged while querying it."""

    def __init__(self, place: str) -> None:
        super().__init__(place)
        self.place = place


def bigrams(folded: str) -> str:
    """The `bi` table's document for a folded text: its overlapping character pairs."""
    if not folded:
        return ""
    marked = folded.replace(" ", _SPACE_MARK) + _END_MARK
    # The pairs, written with array slices (C speed) rather than a Python loop over
    # 22 million characters: a cold build of a large archive notices the difference.
    chars = array.array(_UINT32)
    chars.frombytes(marked.encode(_UTF32))
    pairs = len(chars) - 1
    out = array.array(_UINT32, " ".encode(_UTF32)) * (3 * pairs - 1)
    out[0::3] = chars[:-1]
    out[1::3] = chars[1:]
    return out.tobytes().decode(_UTF32)


def _uint32() -> str:
    for code in "IL":
        if array.array(code).itemsize == 4:
            return code
    raise RuntimeError("no 32-bit array type")  # pragma: no cover - every platform Python runs on has one


_UINT32 = _uint32()
_UTF32 = "utf-32-le" if sys.byteorder == "little" else "utf-32-be"


def _suppress(*errors: type[BaseException]) -> Any:
    import contextlib

    return contextlib.suppress(*errors)


def _code(exc: BaseException) -> int:
    return int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


# --------------------------------------------------------------------------- finding issue files


def scan(root: str) -> dict[bytes, tuple[int, int]]:
    """Issue files below `root` (relative paths, as bytes) -> (size, mtime_ns).

    The same files as `Archive.issue_paths()`: `*.toml` except the root's `ecdigest.toml`,
    hidden files and folders skipped, symlinked folders not followed. Written with scandir
    and bytes so a warm search does not pay for pathlib or for decoding 1,000 names.
    """
    found: dict[bytes, tuple[int, int]] = {}
    _walk(os.fsencode(root), b"", found)
    return found


def _walk(folder: bytes, prefix: bytes, found: dict[bytes, tuple[int, int]]) -> None:
    try:
        entries = os.scandir(folder)
    except OSError:
        return
    folders = []
    with entries:
        for entry in entries:
            name = entry.name
            if name.startswith(b"."):
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                folders.append(entry)
            elif name.endswith(b".toml") and (prefix or name != b"ecdigest.toml"):
                try:
                    info = entry.stat()
                    found[prefix + name] = (info.st_size, info.st_mtime_ns)
                except OSError:
                    found[prefix + name] = (-1, -1)
    for entry in folders:
        if not entry.is_symlink():
            _walk(entry.path, prefix + entry.name + b"/", found)


# --------------------------------------------------------------------------- where the index lives


def local_place(root: str) -> str:
    """The index's usual home: `ARCHIVE/.ecdigest/search.sqlite3` (git-ignored)."""
    return os.path.join(root, STATE_DIR, INDEX_FILE)


def cache_place(root: str) -> str:
    """Where the index of an archive in a read-only folder goes: the user's cache folder."""
    import hashlib

    cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    key = hashlib.sha256(os.fsencode(os.path.realpath(root))).hexdigest()[:20]
    return os.path.join(cache_home, "ecdigest", f"search-{key}.sqlite3")


def places(root: str) -> Iterator[str]:
    """Candidate locations, best first: the archive's `.ecdigest/`, the user cache, memory."""
    yield local_place(root)
    yield cache_place(root)
    yield MEMORY


def _connect(place: str) -> sqlite3.Connection:
    import sqlite3

    conn = sqlite3.connect(place, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


# --------------------------------------------------------------------------- the index


class Index:
    """An up-to-date index, inside a read transaction until `close()`."""

    def __init__(self, conn: sqlite3.Connection, place: str) -> None:
        self.conn = conn
        self.place = place
        self._meta: dict[str, str] | None = None

    def close(self) -> None:
        self.conn.close()

    def _meta_values(self) -> dict[str, str]:
        if self._meta is None:
            self._meta = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())
        return self._meta

    def settings_sections(self) -> list[str]:
        value = self._meta_values().get("sections", "")
        return value.split("\n") if value else []

    def settings_timezone(self) -> str | None:
        return self._meta_values().get("timezone") or None

    def sections_in_use(self) -> list[str]:
        return [row[0] for row in self.conn.execute("SELECT DISTINCT section FROM articles ORDER BY section")]

    def has_issue(self, issue_id: str) -> bool:
        return (
            self.conn.execute("SELECT 1 FROM articles WHERE issue = ? LIMIT 1", (issue_id,)).fetchone()
            is not None
        )

    def warnings(self) -> list[str]:
        return [
            row[0]
            for row in self.conn.execute("SELECT warning FROM files WHERE warning IS NOT NULL ORDER BY path")
        ]

    def query(
        self,
        query: Query,
        *,
        within: str = "all",
        sort: str = "relevance",
        limit: int = 0,
        sections: Iterable[str] = (),
        sources: Iterable[str] = (),
        issues: Iterable[str] = (),
        since: str | None = None,
        until: str | None = None,
    ) -> tuple[list[tuple[Any, ...]], int]:
        """The page of hits as (issue, article, title, date, section, source, score, body), and the total."""
        import sqlite3

        ranked_sql, count_sql, params = compile_query(
            query,
            within=within,
            sort=sort,
            limit=limit,
            sections=list(sections),
            sources=list(sources),
            issues=list(issues),
            since=since,
            until=until,
        )
        try:
            ranked = self.conn.execute(ranked_sql, params).fetchall()
            if not ranked:
                return [], 0
            total = len(ranked)
            if limit and total == limit:
                total = self.conn.execute(count_sql, params).fetchone()[0]
            ids = [row[0] for row in ranked]
            marks = ",".join("?" * len(ids))
            details = {
                row[0]: row[1:]
                for row in self.conn.execute(
                    "SELECT a.id, a.issue, a.article, t.title, a.date, a.section, a.source, t.body "
                    f"FROM articles a JOIN texts t ON t.id = a.id WHERE a.id IN ({marks})",
                    ids,
                )
            }
        except sqlite3.DatabaseError as exc:
            if _code(exc) in _CORRUPT:
                raise Corrupt(self.place) from exc
            raise
        rows = []
        for article_id, score in ranked:
            issue, article, title, date, section, source, body = details[article_id]
            rows.append((issue, article, title, date, section, source, score, body))
        return rows, total


def compile_query(
    query: Query,
    *,
    within: str,
    sort: str,
    limit: int,
    sections: list[str],
    sources: list[str],
    issues: list[str],
    since: str | None,
    until: str | None,
) -> tuple[str, str, dict[str, Any]]:
    """SQL returning (article id, score) for the page asked, SQL counting all hits, their parameters."""
    params: dict[str, Any] = {}

    def param(value: Any) -> str:
        name = f"p{len(params)}"
        params[name] = value
        return f":{name}"

    column = "" if within == "all" else f"{within} : "

    def phrase(term: str) -> tuple[str, str]:
        if len(term) >= 3:
            return "tri", column + '"' + term.replace('"', '""') + '"'
        # No space inside: terms are trimmed, so one of two characters has none.
        quoted = '"' + term.replace('"', '""') + '"'
        return "bi", column + quoted + ("*" if len(term) == 1 else "")

    ctes: list[tuple[str, str, str]] = []  # name, FTS table, MATCH parameter
    inner: list[str] = []
    outer: list[str] = []
    where: list[str] = []
    scores: list[str] = []

    def cte(table: str, expression: str) -> str:
        name = f"m{len(ctes)}"
        ctes.append((name, table, param(expression)))
        return name

    pure: dict[str, list[str]] = {"tri": [], "bi": []}
    for group in query.groups:
        by_table: dict[str, list[str]] = {}
        for term in group:
            table, expression = phrase(term)
            by_table.setdefault(table, []).append(expression)
        if len(by_table) == 1:
            ((table, expressions),) = by_table.items()
            pure[table].append("(" + " OR ".join(expressions) + ")")
            continue
        # An OR group with both short and long terms: one LEFT JOIN per table, either may match.
        names = [cte(table, " OR ".join(expressions)) for table, expressions in by_table.items()]
        outer.extend(names)
        where.append("(" + " OR ".join(f"{name}.id IS NOT NULL" for name in names) + ")")
        scores.extend(f"coalesce({name}.s, 0)" for name in names)
    if len(outer) > MAX_MIXED_GROUPS * 2:
        from .errors import UsageError

        # SQLite joins at most 64 tables; each such group takes two.
        raise UsageError(
            f"the query has more than {MAX_MIXED_GROUPS} OR groups that mix terms of 1-2 and 3+ characters",
            hint="split it into several searches",
        )
    for table, groups in pure.items():
        if groups:
            name = cte(table, " AND ".join(groups))
            inner.append(name)
            scores.append(f"{name}.s")
    excluded: dict[str, list[str]] = {}
    for term in query.excluded:
        table, expression = phrase(term)
        excluded.setdefault(table, []).append(expression)
    exclusions = [
        f"{{key}} NOT IN (SELECT rowid FROM {table} WHERE {table} MATCH {param(' OR '.join(expressions))})"
        for table, expressions in excluded.items()
    ]

    if sections:
        where.append(f"a.section IN ({', '.join(param(s) for s in sections)})")
    if issues:
        where.append(f"a.issue IN ({', '.join(param(i) for i in issues)})")
    if sources:
        where.append("(" + " OR ".join(f"instr(a.nsource, {param(s)}) > 0" for s in sources) + ")")
    if since is not None:
        where.append(f"a.date >= {param(since)}")
    if until is not None:
        where.append(f"a.date <= {param(until)}")

    def joined(key: str) -> str:
        """FROM: the inner CTEs (and `articles a`, unless `key` is the first CTE's id)."""
        if inner:
            first, *rest = inner
            text = first if key != "a.id" else f"{first} JOIN articles a ON a.id = {first}.id"
            text += "".join(f" JOIN {name} ON {name}.id = {key}" for name in rest)
        else:
            text = "articles a"
        return text + "".join(f" LEFT JOIN {name} ON {name}.id = {key}" for name in outer)

    def condition(key: str) -> str:
        parts = [*where, *(e.format(key=key) for e in exclusions)]
        return f" WHERE {' AND '.join(parts)}" if parts else ""

    # Filters on the article need the articles table; counting plain term matches does not.
    key = "a.id" if (not inner or sections or issues or sources or since or until) else f"{inner[0]}.id"
    score = "-(" + " + ".join(scores) + ")"
    if sort == "date":
        order = "a.date DESC, a.issue DESC, a.pos, score DESC"
    else:
        order = "score DESC, a.date DESC, a.issue DESC, a.pos"
    scored = ", ".join(
        f"{name} AS (SELECT rowid AS id, bm25({table}, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS s "
        f"FROM {table} WHERE {table} MATCH {match})"
        for name, table, match in ctes
    )
    ranked = (
        f"WITH {scored} SELECT a.id, {score} AS score FROM {joined('a.id')}{condition('a.id')} "
        f"ORDER BY {order} LIMIT {param(limit if limit > 0 else -1)}"
    )
    # Counting needs no bm25, which is most of a ranked query's time.
    plain = ", ".join(
        f"{name} AS (SELECT rowid AS id FROM {table} WHERE {table} MATCH {match})"
        for name, table, match in ctes
    )
    count = f"WITH {plain} SELECT count(*) FROM {joined(key)}{condition(key)}"
    return ranked, count, params


# --------------------------------------------------------------------------- opening, updating


class _Changes:
    __slots__ = ("changed", "removed", "settings")

    def __init__(self, changed: list[bytes], removed: list[bytes], settings: bool) -> None:
        self.changed = changed
        self.removed = removed
        self.settings = settings

    def __bool__(self) -> bool:
        return bool(self.changed or self.removed or self.settings)


def open_index(root: str) -> Index:
    """The index of the archive at `root`, up to date, in a read transaction."""
    import stat

    try:
        info = os.stat(os.path.join(root, SETTINGS_FILE))
        is_archive = stat.S_ISREG(info.st_mode)
    except OSError:
        is_archive = False
    if not is_archive:
        from pathlib import Path

        from .archive import Archive

        Archive.open(Path(root))  # raises the one error every command gives for this
        info = os.stat(os.path.join(root, SETTINGS_FILE))
    stamp = f"{info.st_size}:{info.st_mtime_ns}"
    files = scan(root)
    last: Unusable | None = None
    for place in places(root):
        try:
            return _ready(place, root, files, stamp)
        except Unusable as exc:
            last = exc
    from .errors import WriteError

    raise WriteError(f"cannot build the search index anywhere: {last}")


def discard(place: str) -> None:
    """Remove a damaged index (and its journals) so the next `open_index` rebuilds it."""
    if place == MEMORY:
        return
    for suffix in ("", "-journal", "-wal", "-shm"):
        with _suppress(OSError):
            os.unlink(place + suffix)


def _ready(place: str, root: str, files: dict[bytes, tuple[int, int]], stamp: str) -> Index:

    if place == MEMORY:
        conn = _connect(MEMORY)
        _create(conn)
        _update(conn, root, files, stamp, full=True)
        _begin_reading(conn)
        return Index(conn, place)
    if os.path.isfile(place):
        fresh = _open_if_fresh(place, root, files, stamp)
        if fresh is not None:
            return fresh
    return _ready_locked(place, root, files, stamp)


def _begin_reading(conn: sqlite3.Connection) -> None:
    """Start the read transaction a search runs in (freshness check and query see one state)."""
    conn.execute("BEGIN")


def _open_if_fresh(place: str, root: str, files: dict[bytes, tuple[int, int]], stamp: str) -> Index | None:
    """The index at `place` in a read transaction if it needs no change (the common case)."""
    import sqlite3

    try:
        conn = _connect(place)
    except sqlite3.Error:
        return None
    try:
        _begin_reading(conn)
        if _is_current(conn, root, place) and not _changes(conn, files, stamp):
            return Index(conn, place)
    except sqlite3.DatabaseError:
        pass
    conn.close()
    return None


def _ready_locked(place: str, root: str, files: dict[bytes, tuple[int, int]], stamp: str) -> Index:
    """Build or update under the lock; another process may have done it while we waited."""
    import sqlite3

    from .errors import WriteError
    from .fileio import FileLock

    folder = os.path.dirname(place)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise Unusable(f"{folder}: {exc.strerror}") from None
    from pathlib import Path

    lock = FileLock(Path(place + ".lock"))
    try:
        lock.acquire()
    except WriteError as exc:  # the folder cannot be written (a timeout is not this)
        raise Unusable(str(exc)) from None
    try:
        conn = None
        if os.path.isfile(place):
            try:
                conn = _connect(place)
                if not _is_current(conn, root, place):
                    conn.close()
                    conn = None
            except sqlite3.DatabaseError:
                if conn is not None:
                    conn.close()
                conn = None
        try:
            if conn is None:
                _rebuild(place, root, files, stamp)
                conn = _connect(place)
            else:
                changes = _changes(conn, files, stamp)
                if changes:
                    _update(conn, root, files, stamp, changes=changes)
        except (OSError, sqlite3.OperationalError) as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, OSError) or _code(exc) in _CANNOT_WRITE:
                raise Unusable(f"{place}: {exc}") from None
            raise
        _begin_reading(conn)
        return Index(conn, place)
    finally:
        lock.release()


def _is_current(conn: sqlite3.Connection, root: str, place: str) -> bool:
    """Same schema, folding and Unicode version; for an index kept outside the archive, same archive."""
    import sqlite3

    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            return False
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError:
        return False
    return (
        meta.get("unidata") == unicodedata.unidata_version
        and meta.get("fold") == FOLD_VERSION
        and (place == local_place(root) or meta.get("root") == os.path.realpath(root))
    )


def _changes(conn: sqlite3.Connection, files: dict[bytes, tuple[int, int]], stamp: str) -> _Changes:
    stored = {row[0]: row[1:] for row in conn.execute("SELECT path, size, mtime_ns, checked_ns FROM files")}
    changed: list[bytes] = []
    for path, (size, mtime) in files.items():
        old = stored.pop(path, None)
        if old is None or old[0] != size or old[1] != mtime or abs(old[2] - mtime) < RACY_NS:
            changed.append(path)
    settings = conn.execute("SELECT value FROM meta WHERE key = 'settings'").fetchone()
    return _Changes(sorted(changed), sorted(stored), settings is None or settings[0] != stamp)


def _create(conn: sqlite3.Connection) -> None:
    conn.executescript(_SCHEMA)


def _rebuild(place: str, root: str, files: dict[bytes, tuple[int, int]], stamp: str) -> None:
    """A fresh index in a temporary file, renamed over the old one (which readers may still use)."""
    temp = f"{place}.{os.getpid()}.tmp"
    # Builds killed half-way left their temporary files; we hold the lock, so none is alive.
    folder, name = os.path.split(place)
    for entry in os.listdir(folder or "."):
        if entry.startswith(name + ".") and entry.endswith(".tmp"):
            discard(os.path.join(folder, entry))
    conn = _connect(temp)
    try:
        # Nothing to protect in a file nobody else sees yet: no journal, no fsync until the end.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -16000")
        _create(conn)
        _update(conn, root, files, stamp, full=True)
        # No FTS 'optimize': with large segments the automatic merges leave few, and queries
        # measured the same with or without it (it cost 2 s of a 55,000-article build).
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.close()
        fd = os.open(temp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        # A journal left by a killed writer belongs to the old file and must not be replayed
        # into the new one; writers hold the lock, so none is being written now.
        for suffix in ("-journal", "-wal", "-shm"):
            with _suppress(FileNotFoundError):
                os.unlink(place + suffix)
        os.replace(temp, place)
    except BaseException:
        conn.close()
        discard(temp)
        raise


def _update(
    conn: sqlite3.Connection,
    root: str,
    files: dict[bytes, tuple[int, int]],
    stamp: str,
    *,
    full: bool = False,
    changes: _Changes | None = None,
) -> None:
    """Bring `conn` up to date with the archive in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        writer = _Writer(conn, root)
        if full or changes is None:
            writer.add_all(sorted(files))
        else:
            for path in changes.removed:
                writer.remove(path)
            for path in changes.changed:
                writer.apply(writer.prepare(path, writer.stored(path)))
        meta = {"unidata": unicodedata.unidata_version, "fold": FOLD_VERSION, "root": os.path.realpath(root)}
        if full or changes is None or changes.settings:
            settings = writer.archive().settings
            meta.update(settings=stamp, sections="\n".join(settings.sections), timezone=settings.timezone)
        conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", meta.items())
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


class _Prepared:
    """One issue file read, parsed and folded, ready to be written (no SQL done yet)."""

    __slots__ = (
        "articles",
        "bi",
        "digest",
        "file_id",
        "mtime",
        "path",
        "size",
        "tri",
        "unchanged",
        "warning",
    )

    def __init__(self, path: bytes, file_id: int | None) -> None:
        self.path = path
        self.file_id = file_id
        self.size = self.mtime = -1
        self.digest: str | None = None
        self.warning: str | None = None
        self.unchanged = False
        self.articles: list[tuple[Any, ...]] = []
        self.tri: list[tuple[str, str]] = []
        self.bi: list[tuple[str, str]] = []


def _prepare(
    archive: Callable[[], Archive], root: str, path: bytes, stored: tuple[int, str | None] | None
) -> _Prepared | None:
    """Read, hash, parse and fold one issue file; None when it is gone. No SQL.

    The file is parsed only when its digest differs from the `stored` one.
    """
    import hashlib

    prepared = _Prepared(path, stored[0] if stored else None)
    full = os.path.join(root, os.fsdecode(path))
    try:
        # Stat before reading: a change made while we read shows as a newer mtime next time.
        info = os.stat(full)
        prepared.size, prepared.mtime = info.st_size, info.st_mtime_ns
    except FileNotFoundError:
        return None
    except OSError:
        pass
    try:
        with open(full, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        prepared.warning = f"{full}: cannot read: {exc.strerror}; skipped"
        return prepared
    prepared.digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    if stored is not None and stored[1] == prepared.digest:
        prepared.unchanged = True
        return prepared
    issue, prepared.warning = _read_issue(archive(), full)
    if issue is None:
        return prepared
    issue_date = issue.date.isoformat() if issue.date else None
    for pos, article in enumerate(issue.articles):
        date = issue_date or (article.date.isoformat() if article.date else None)
        ft, fb = fold(article.title), fold(article.body)
        prepared.articles.append(
            (
                pos,
                issue.id,
                article.id,
                date,
                article.section,
                article.source,
                fold(article.source),
                article.title,
                article.body,
            )
        )
        prepared.tri.append((ft, fb))
        prepared.bi.append((bigrams(ft), bigrams(fb)))
    return prepared


def _read_issue(archive: Archive, full: str) -> tuple[Any, str | None]:
    """The issue in the file (None if unreadable) and the warning to give about it."""
    from pathlib import Path

    from .errors import EcdigestError

    try:
        result = archive.read_lenient(Path(full))
    except EcdigestError as exc:
        return None, f"{exc}; skipped"
    if not result.problems:
        return result.issue, None
    first = result.problems[0]
    where = f"{full}:{first.line}" if first.line else full
    more = len(result.problems) - 1
    extra = f" (and {more} more problem(s); run `ecdigest validate`)" if more else ""
    return result.issue, f"{where}: {first.message}{extra}; indexed what could be read"


def _fork_context() -> Any:
    import multiprocessing

    try:
        return multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - platforms without fork index in one process
        return None


def _prepare_worker(archive: Callable[[], Archive], root: str, paths: list[bytes], results: Any) -> None:
    """The cold build's second process: prepare every file, in order, into `results`."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    path = b""
    try:
        for path in paths:
            results.put(_prepare(archive, root, path, None))
    except BaseException as exc:
        results.put(RuntimeError(f"indexing {os.fsdecode(path)} failed: {type(exc).__name__}: {exc}"))


class _Writer:
    """Adds, replaces and removes the articles of issue files, in the caller's transaction."""

    # How many files a cold build prepares ahead of the one SQLite is indexing.
    LOOKAHEAD = 4
    # Below this many files a second process is not worth starting.
    PARALLEL_FROM = 64

    def __init__(self, conn: sqlite3.Connection, root: str) -> None:
        self.conn = conn
        self.root = root
        self._archive: Archive | None = None
        row = conn.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()
        self.next_id = int(row[0]) + 1

    def archive(self) -> Archive:
        """Opened only when a file must be parsed (a touched file is just hashed again)."""
        if self._archive is None:
            from pathlib import Path

            from .archive import Archive

            self._archive = Archive.open(Path(self.root))
        return self._archive

    def stored(self, path: bytes) -> tuple[int, str | None] | None:
        row = self.conn.execute("SELECT id, digest FROM files WHERE path = ?", (path,)).fetchone()
        return None if row is None else (row[0], row[1])

    def prepare(self, path: bytes, stored: tuple[int, str | None] | None) -> _Prepared | None:
        return _prepare(self.archive, self.root, path, stored)

    def add_all(self, paths: list[bytes]) -> None:
        """Index every file of an empty index.

        Reading and folding is Python, indexing is SQLite's C; a thread would not overlap
        them, because the GIL changes hands at every row SQLite inserts. So for a large
        archive a forked worker process prepares the next files while this one indexes.
        """
        context = _fork_context() if len(paths) >= self.PARALLEL_FROM else None
        if context is None:
            for path in paths:
                self.apply(self.prepare(path, None))
            return
        import queue as queues

        results = context.Queue(maxsize=self.LOOKAHEAD)
        self.archive()  # opened here, inherited by the worker
        worker = context.Process(
            target=_prepare_worker, args=(self.archive, self.root, paths, results), daemon=True
        )
        worker.start()
        try:
            for _ in paths:
                while True:
                    try:
                        item = results.get(timeout=1.0)
                        break
                    except queues.Empty:
                        if not worker.is_alive():
                            raise RuntimeError(
                                f"the indexing worker stopped (exit code {worker.exitcode})"
                            ) from None
                if isinstance(item, BaseException):
                    raise item
                self.apply(item)
            worker.join()
        finally:
            if worker.is_alive():
                worker.terminate()
                worker.join()
            results.close()

    def remove(self, path: bytes) -> None:
        stored = self.stored(path)
        if stored is not None:
            self._drop_articles(stored[0])
            self.conn.execute("DELETE FROM files WHERE id = ?", (stored[0],))

    def apply(self, prepared: _Prepared | None) -> None:
        import time

        if prepared is None:
            return
        checked = time.time_ns()
        file_id = prepared.file_id
        if prepared.unchanged:
            self.conn.execute(
                "UPDATE files SET size = ?, mtime_ns = ?, checked_ns = ? WHERE id = ?",
                (prepared.size, prepared.mtime, checked, file_id),
            )
            return
        values = (prepared.path, prepared.size, prepared.mtime, checked, prepared.digest, prepared.warning)
        if file_id is None:
            cursor = self.conn.execute(
                "INSERT INTO files(path, size, mtime_ns, checked_ns, digest, warning) VALUES (?, ?, ?, ?, ?, ?)",
                values,
            )
            file_id = cursor.lastrowid
        else:
            self._drop_articles(file_id)
            self.conn.execute(
                "UPDATE files SET path = ?, size = ?, mtime_ns = ?, checked_ns = ?, digest = ?, warning = ? "
                "WHERE id = ?",
                (*values, file_id),
            )
        first = self.next_id
        self.next_id += len(prepared.articles)
        ids = range(first, self.next_id)
        self.conn.executemany(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(i, file_id, *row[:-2]) for i, row in zip(ids, prepared.articles, strict=True)],
        )
        self.conn.executemany(
            "INSERT INTO texts VALUES (?, ?, ?)",
            [(i, *row[-2:]) for i, row in zip(ids, prepared.articles, strict=True)],
        )
        self.conn.executemany(
            "INSERT INTO tri(rowid, title, body) VALUES (?, ?, ?)",
            [(i, *row) for i, row in zip(ids, prepared.tri, strict=True)],
        )
        self.conn.executemany(
            "INSERT INTO bi(rowid, title, body) VALUES (?, ?, ?)",
            [(i, *row) for i, row in zip(ids, prepared.bi, strict=True)],
        )

    def _drop_articles(self, file_id: int) -> None:
        """Remove a file's articles; contentless FTS needs the folded text it was given."""
        rows = self.conn.execute(
            "SELECT t.id, t.title, t.body FROM articles a JOIN texts t ON t.id = a.id WHERE a.file = ?",
            (file_id,),
        ).fetchall()
        tri, bi = [], []
        for article_id, title, body in rows:
            ft, fb = fold(title), fold(body)
            tri.append((article_id, ft, fb))
            bi.append((article_id, bigrams(ft), bigrams(fb)))
        self.conn.executemany("INSERT INTO tri(tri, rowid, title, body) VALUES('delete', ?, ?, ?)", tri)
        self.conn.executemany("INSERT INTO bi(bi, rowid, title, body) VALUES('delete', ?, ?, ?)", bi)
        self.conn.execute(
            "DELETE FROM texts WHERE id IN (SELECT id FROM articles WHERE file = ?)", (file_id,)
        )
        self.conn.execute("DELETE FROM articles WHERE file = ?", (file_id,))
