"""The search index: SQLite under `ARCHIVE/.ecdigest/`, brought up to date before every query.

Layout (schema version in `PRAGMA user_version`; any other version, a missing table, a
corrupt file or a different Unicode version is rebuilt silently):

- `files`: every issue file seen, with size, mtime, a BLAKE2 digest of its bytes and the
  warning to repeat while it stays broken: the invalidation rule every store of the archive
  shares (`derived.py`: only changed files are read again, and parsed again only when their
  digest changed; files that disappeared drop out).
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
from .search import fold

# `typing` costs milliseconds to import and this module is on every search's start-up path.
TYPE_CHECKING = False

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable
    from pathlib import Path
    from typing import Any

    from .archive import Archive
    from .search import Query

SCHEMA_VERSION = 4
# Bump when `search.fold` or `bigrams` change what they return: the FTS tables must be rebuilt.
FOLD_VERSION = "1"
NAME = "search"
TITLE_WEIGHT = 3.0
BODY_WEIGHT = 1.0
# Larger in-memory FTS5 segments: a cold build does far fewer merges (measured 13 s -> 5 s
# for the trigram table of 55,000 articles) for some 20 MB more memory per table.
FTS_HASH_SIZE = 16 * 1024 * 1024
MAX_MIXED_GROUPS = 25

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
            if is_corrupt(exc):
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


# --------------------------------------------------------------------------- the store


class _SearchStore(Store):
    name = NAME
    schema_version = SCHEMA_VERSION
    schema = _SCHEMA
    build_pragmas = ("PRAGMA cache_size = -16000",)
    # SQLite's FTS inserts are this process's work; one worker keeps it fed.
    workers = 1

    def versions(self) -> dict[str, str]:
        return {"unidata": unicodedata.unidata_version, "fold": FOLD_VERSION}

    def settings(self, archive: Archive) -> dict[str, str]:
        return {"sections": "\n".join(archive.settings.sections), "timezone": archive.settings.timezone}

    def parse(self, archive: Archive, path: Path, data: bytes | None) -> tuple[Any, str | None]:
        issue, warning = _read_issue(archive, path, data)
        rows: list[tuple[Any, ...]] = []
        tri: list[tuple[str, str]] = []
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
                        article.body,
                    )
                )
                tri.append((ft, fb))
                bi.append((bigrams(ft), bigrams(fb)))
        return (rows, tri, bi), warning

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
        articles, tri_rows, bi_rows = payload
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
            "INSERT INTO tri(rowid, title, body) VALUES (?, ?, ?)",
            [(i, *row) for i, row in zip(ids, tri_rows, strict=True)],
        )
        self.conn.executemany(
            "INSERT INTO bi(rowid, title, body) VALUES (?, ?, ?)",
            [(i, *row) for i, row in zip(ids, bi_rows, strict=True)],
        )

    def delete(self, file_id: int) -> None:
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
