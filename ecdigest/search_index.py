"""The search index: SQLite under `ARCHIVE/.ecdigest/`, brought up to date before every query.

Layout (schema version in `PRAGMA user_version`; any other version, a missing table, a
corrupt file or a different Unicode or folding version is rebuilt silently):

- `files`: every issue file seen, with size, mtime, a BLAKE2 digest of its bytes and the
  warning to repeat while it stays broken: the invalidation rule every store of the archive
  shares (`derived.py`: only changed files are read again, and parsed again only when their
  digest changed; files that disappeared drop out).
- `articles`: what filters and ordering need (issue, date, section, source); small rows, so
  joining thousands of hits to them stays cheap.
- `texts`: titles as written and bodies zlib-compressed (half the bytes), read for the page
  of hits shown (snippets) and to re-fold an issue being re-indexed.
- `bi`: FTS5 over the folded body and title cut into overlapping two-character tokens
  (`ascii` tokenizer, so every non-ASCII character is a token character). A term of two
  characters is one token; a longer one is a phrase of its consecutive pairs, which is
  exactly a substring; a one-character term is a prefix query (an end mark after each
  text makes its last character start a token too). bm25 ranks all of them.

Why this shape (measured side by side on the generated 1,000-issue archive, 54,300
articles, 112 MB of TOML; bench/RESULTS.md has the table): a trigram table for terms of
three or more characters (the previous layout, beside this bigram table) answered those a
little faster but was 292 MB on its own, and took 36 s of a 46 s cold build; a table of
single characters is smaller (98 MB) and builds in 3 s, but ranks 2- and 4-character terms,
the common queries, 1.5-3x slower. `detail=column` or `none` would halve the bigram table,
but FTS5 then refuses phrases (every term longer than two characters) and bm25 sees no
term frequencies. Body first: a column marker is stored for every token of the second
column only, and titles are short (body second cost 43 MB more). After a cold build one
'optimize' merges the segments and the free pages are returned (148 -> 128 MB).

The FTS table is contentless: the folded text is recomputed from `texts` when an issue is
re-indexed (hence the Unicode and folding versions in `meta`).

Queries: one MATCH expression for the whole query (groups ANDed, OR inside a group, NOT for
the excluded terms), joined to `articles` in that order (`CROSS JOIN`: SQLite's planner
otherwise scans a section and re-runs the MATCH for every row). Ranking only where the
order needs it: `--sort date` computes bm25 for the page shown (JSON prints it) or not at
all (text), and filters are applied before bm25 is.

Opening, updating, locking, the cold build and where the index lives are `derived.py`'s,
shared with the catalog: writers hold a lock file next to the database and work in one
transaction; readers check freshness and query inside one read transaction, so two
searches at once on a stale index do the update once and never see half of it. On a large
archive a forked worker reads and folds the next files while this process indexes (a
thread would not help: the GIL changes hands at every row SQLite inserts).
"""

from __future__ import annotations

import array
import sys
import unicodedata

from .derived import Corrupt, Store, StoreWriter, is_corrupt, open_store
from .query import key as fold

# `typing` costs milliseconds to import and this module is on every search's start-up path.
TYPE_CHECKING = False

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable
    from pathlib import Path
    from typing import Any

    from .archive import Archive
    from .query import Query

SCHEMA_VERSION = 5
# Bump when `query.key` or `bigrams` change what they return: the FTS table must be rebuilt.
# 3: the script-neutral key (Traditional characters folded to Simplified, zhkey.py).
FOLD_VERSION = "3"
NAME = "search"
TITLE_WEIGHT = 3.0
BODY_WEIGHT = 1.0
# Larger in-memory FTS5 segments: a cold build does far fewer merges for some 20 MB more
# memory; no merging at all until the build's one 'optimize' (automerge and crisis merges
# are set back to SQLite's defaults after it, for the small updates that follow).
FTS_HASH_SIZE = 16 * 1024 * 1024
ZLIB_LEVEL = 6

_SPACE_MARK = "\x01"  # a space in the text, inside a token (tokens are separated by real spaces)
_END_MARK = "\x02"  # follows a text's last character, so that character starts a token too
_ASCII_PUNCT = "".join(chr(c) for c in range(0x21, 0x7F) if not chr(c).isalnum())
_BI_TOKENIZER = "ascii tokenchars '" + (_SPACE_MARK + _END_MARK + _ASCII_PUNCT).replace("'", "''") + "'"

_SCHEMA = f"""
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
CREATE TABLE texts(id INTEGER PRIMARY KEY, title TEXT NOT NULL, body BLOB NOT NULL);
CREATE INDEX articles_file ON articles(file);
CREATE INDEX articles_issue ON articles(issue);
CREATE INDEX articles_section ON articles(section);
CREATE VIRTUAL TABLE bi USING fts5(
    body, title, tokenize="{_BI_TOKENIZER.replace('"', '""')}", content='', detail=full);
INSERT INTO bi(bi, rank) VALUES('hashsize', {FTS_HASH_SIZE});
"""


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
            row[0] for row in self.conn.execute("SELECT note FROM files WHERE note IS NOT NULL ORDER BY path")
        ]

    def query(
        self,
        query: Query,
        *,
        within: str = "all",
        sort: str = "relevance",
        limit: int = 0,
        scores: bool = True,
        sections: Iterable[str] = (),
        sources: Iterable[str] = (),
        issues: Iterable[str] = (),
        since: str | None = None,
        until: str | None = None,
    ) -> tuple[list[tuple[Any, ...]], int]:
        """The page of hits as (issue, article, title, date, section, source, score, body),
        and the total. `scores=False`: the caller shows no scores (with `--sort date`, no
        bm25 is computed at all; the score is then 0.0)."""
        import sqlite3
        import zlib

        compiled = compile_query(
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
            ranked = self.conn.execute(compiled.page, compiled.params).fetchall()
            if not ranked:
                return [], 0
            total = len(ranked)
            if limit and total == limit:
                total = self.conn.execute(compiled.count, compiled.params).fetchone()[0]
            ids = [row[0] for row in ranked]
            marks = ",".join("?" * len(ids))
            if sort == "relevance":
                score = {row[0]: -row[1] for row in ranked}
            elif scores:
                score = {
                    row[0]: -row[1]
                    for row in self.conn.execute(
                        compiled.scores.replace("{ids}", marks), [compiled.params["q"], *ids]
                    )
                }
            else:
                score = {}
            details = {
                row[0]: row[1:]
                for row in self.conn.execute(
                    "SELECT a.id, a.issue, a.article, t.title, a.date, a.section, a.source, t.body "
                    f"FROM articles a JOIN texts t ON t.id = a.id WHERE a.id IN ({marks})",
                    ids,
                )
            }
        except sqlite3.DatabaseError as exc:
            if is_corrupt(exc):
                raise Corrupt(self.place) from exc
            raise
        rows = []
        for article_id in ids:
            issue, article, title, date, section, source, body = details[article_id]
            text = zlib.decompress(body).decode("utf-8")
            rows.append((issue, article, title, date, section, source, score.get(article_id, 0.0), text))
        return rows, total


class Compiled:
    """A query's SQL: the page (ids, with bm25 when ranking by it), the count, the scores of
    given ids, and the parameters (the MATCH expression is `:q`)."""

    __slots__ = ("count", "page", "params", "scores")

    def __init__(self, page: str, count: str, scores: str, params: dict[str, Any]) -> None:
        self.page = page
        self.count = count
        self.scores = scores
        self.params = params


def pair_phrase(term: str) -> str:
    """The FTS5 phrase matching `term` (folded) as a substring of a `bigrams` document."""
    if len(term) == 1:
        return '"' + term.replace('"', '""') + '"*'
    marked = term.replace(" ", _SPACE_MARK)
    pairs = [marked[i : i + 2] for i in range(len(marked) - 1)]
    return '"' + " ".join(pairs).replace('"', '""') + '"'


def match_expression(query: Query, within: str = "all") -> str:
    """The whole query as one FTS5 expression: groups ANDed, OR inside, NOT the excluded."""
    column = "" if within == "all" else f"{within} : "

    def phrase(term: str) -> str:
        return column + pair_phrase(term)

    positive = " AND ".join("(" + " OR ".join(phrase(t) for t in group) + ")" for group in query.groups)
    if not query.excluded:
        return positive
    return f"({positive}) NOT ({' OR '.join(phrase(t) for t in query.excluded)})"


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
) -> Compiled:
    """The SQL of one search: hits in the order asked, their count, and bm25 of given ids."""
    params: dict[str, Any] = {"q": match_expression(query, within)}

    def param(value: Any) -> str:
        name = f"p{len(params)}"
        params[name] = value
        return f":{name}"

    where: list[str] = []
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
    filters = "".join(f" AND {w}" for w in where)
    # The MATCH first, then each hit's article by its key: never the other way round.
    source = "FROM bi CROSS JOIN articles a ON a.id = bi.rowid WHERE bi MATCH :q"
    bm25 = f"bm25(bi, {BODY_WEIGHT}, {TITLE_WEIGHT})"
    newest = "a.date DESC, a.issue DESC, a.pos"
    size = param(limit if limit > 0 else -1)
    if sort == "date":
        page = f"SELECT a.id {source}{filters} ORDER BY {newest} LIMIT {size}"
    else:
        page = f"SELECT a.id, {bm25} AS s {source}{filters} ORDER BY s, {newest} LIMIT {size}"
    # Counting needs no bm25 and, without filters, no articles either.
    count = f"SELECT count(*) {source}{filters}" if where else "SELECT count(*) FROM bi WHERE bi MATCH :q"
    scores = f"SELECT rowid, {bm25} FROM bi WHERE bi MATCH ? AND rowid IN ({{ids}})"
    return Compiled(page, count, scores, params)


# --------------------------------------------------------------------------- the store


class _SearchStore(Store):
    name = NAME
    schema_version = SCHEMA_VERSION
    schema = _SCHEMA
    # Incremental auto-vacuum: the pages that the build's merges free are given back after it.
    build_pragmas = ("PRAGMA cache_size = -16000", "PRAGMA auto_vacuum = INCREMENTAL")
    # SQLite's FTS inserts are this process's work; one worker keeps it fed.
    workers = 1

    def versions(self) -> dict[str, str]:
        return {"unidata": unicodedata.unidata_version, "fold": FOLD_VERSION}

    def before_build(self, conn: sqlite3.Connection) -> None:
        # No merging while the build adds rows: the one 'optimize' after it does all of it.
        conn.execute("INSERT INTO bi(bi, rank) VALUES('automerge', 0)")
        conn.execute("INSERT INTO bi(bi, rank) VALUES('crisismerge', 2000)")

    def after_build(self, conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO bi(bi) VALUES('optimize')")
        conn.execute("INSERT INTO bi(bi, rank) VALUES('automerge', 4)")
        conn.execute("INSERT INTO bi(bi, rank) VALUES('crisismerge', 16)")
        # executescript steps the pragma to the end (one execute frees a single page).
        conn.executescript("PRAGMA incremental_vacuum;")

    def settings(self, archive: Archive) -> dict[str, str]:
        return {"sections": "\n".join(archive.settings.sections), "timezone": archive.settings.timezone}

    def parse(self, archive: Archive, path: Path, data: bytes | None) -> tuple[Any, str | None]:
        import zlib

        issue, warning = _read_issue(archive, path, data)
        rows: list[tuple[Any, ...]] = []
        bi: list[tuple[str, str]] = []
        if issue is not None:
            issue_date = issue.date.isoformat() if issue.date else None
            for pos, article in enumerate(issue.articles):
                date = issue_date or (article.date.isoformat() if article.date else None)
                ft, fb = fold(article.title), fold(article.body)
                rows.append(
                    (
                        pos,
                        issue.id,
                        article.id,
                        date,
                        article.section,
                        article.source,
                        fold(article.source),
                        article.title,
                        zlib.compress(article.body.encode("utf-8", "surrogatepass"), ZLIB_LEVEL),
                    )
                )
                bi.append((bigrams(fb), bigrams(ft)))
        return (rows, bi), warning

    def writer(self, conn: sqlite3.Connection) -> StoreWriter:
        return _Writer(conn)


STORE = _SearchStore()


def open_index(root: str) -> Index:
    """The index of the archive at `root`, up to date, in a read transaction."""
    conn, place = open_store(STORE, root)
    return Index(conn, place)


def _read_issue(archive: Archive, path: Path, data: bytes | None) -> tuple[Any, str | None]:
    """The issue in the file (None if unreadable) and the warning to give about it."""
    from .errors import EcdigestError

    try:
        result = archive.read_lenient(path, data)
    except EcdigestError as exc:
        return None, f"{exc}; skipped"
    if not result.problems:
        return result.issue, None
    first = result.problems[0]
    where = f"{path}:{first.line}" if first.line else str(path)
    more = len(result.problems) - 1
    extra = f" (and {more} more problem(s); run `ecdigest validate`)" if more else ""
    return result.issue, f"{where}: {first.message}{extra}; indexed what could be read"


class _Writer(StoreWriter):
    """Adds and removes the articles of issue files, in the caller's transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        row = conn.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()
        self.next_id = int(row[0]) + 1

    def insert(self, file_id: int, payload: Any) -> None:
        articles, bi_rows = payload
        first = self.next_id
        self.next_id += len(articles)
        ids = range(first, self.next_id)
        self.conn.executemany(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(i, file_id, *row[:-2]) for i, row in zip(ids, articles, strict=True)],
        )
        self.conn.executemany(
            "INSERT INTO texts VALUES (?, ?, ?)",
            [(i, *row[-2:]) for i, row in zip(ids, articles, strict=True)],
        )
        self.conn.executemany(
            "INSERT INTO bi(rowid, body, title) VALUES (?, ?, ?)",
            [(i, *row) for i, row in zip(ids, bi_rows, strict=True)],
        )

    def delete(self, file_id: int) -> None:
        """Remove a file's articles; contentless FTS needs the folded text it was given."""
        rows = self.conn.execute(
            "SELECT t.id, t.title, t.body FROM articles a JOIN texts t ON t.id = a.id WHERE a.file = ?",
            (file_id,),
        ).fetchall()
        import zlib

        bi = [
            (
                article_id,
                bigrams(fold(zlib.decompress(body).decode("utf-8", "surrogatepass"))),
                bigrams(fold(title)),
            )
            for article_id, title, body in rows
        ]
        self.conn.executemany("INSERT INTO bi(bi, rowid, body, title) VALUES('delete', ?, ?, ?)", bi)
        self.conn.execute(
            "DELETE FROM texts WHERE id IN (SELECT id FROM articles WHERE file = ?)", (file_id,)
        )
        self.conn.execute("DELETE FROM articles WHERE file = ?", (file_id,))
