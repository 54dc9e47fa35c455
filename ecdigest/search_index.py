"""The search index: SQLite under `ARCHIVE/.ecdigest/`, brought up to date before every query.

Layout (schema version in `PRAGMA user_version`; any other version, a missing table, a
corrupt file or a different Unicode or folding version is rebuilt silently):

- `files`: every issue file seen, with size, mtime, a BLAKE2 digest of its bytes and the
  warning to repeat while it stays broken: the invalidation rule every store of the archive
  shares (`derived.py`: only changed files are read again, and parsed again only when their
  digest changed; files that disappeared drop out).
- `articles`: what filters and ordering need (issue, date, section, source); small rows, so
  joining thousands of hits to them stays cheap. Their ids are in date order (below).
- `texts`: titles as written and bodies zlib-compressed (half the bytes), read for the page
  of hits shown (snippets) and to re-fold an issue being re-indexed.
- `bi`: FTS5 over the folded body and title cut into overlapping two-character tokens
  (`ascii` tokenizer, so every non-ASCII character is a token character). A term of two
  characters is one token; a longer one is a phrase of its consecutive pairs, which is
  exactly a substring; a one-character term is a prefix query (an end mark after each
  text makes its last character start a token too). bm25 ranks all of them.
- `uni`, `uni_t`: which characters an article has (title and body; title), no positions
  (`detail=none`, 7 % of the index): a one-character term is one short list there, where
  `bi` merges the lists of every pair it starts (一 starts thousands).

Why this shape (measured side by side on the generated 1,000-issue archive, 54,300
articles, 112 MB of TOML; bench/RESULTS.md has the table): a trigram table for terms of
three or more characters (the previous layout, beside this bigram table) answered those a
little faster but was 292 MB on its own, and took 36 s of a 46 s cold build; a table of
single characters with positions is 98 MB and ranks 2- and 4-character terms, the common
queries, 1.5-3x slower. `detail=column` or `none` would halve the bigram table, but FTS5
then refuses phrases (every term longer than two characters) and bm25 sees no term
frequencies. Body first: a column marker is stored for every token of the second column
only, and titles are short (body second cost 43 MB more).

The FTS tables are contentless: the folded text is recomputed from `texts` when an issue is
re-indexed (hence the Unicode and folding versions in `meta`).

Ids in date order: articles are numbered in the order of their date (the issue's, else the
article's; undated first), up to the id kept in `meta` as `ordered`; rows above it were
added out of order (an older issue that grew, a renamed file) and are few. A file rewritten
with no more articles and the same date takes the ids it had. So "the newest N matches" is
the top of a matching list read backwards (a few rows joined for the rest), and `--since`,
`--until` are id ranges. When more than a tenth of the rows are out of order the index is
rebuilt in order.

Queries: one MATCH expression for the whole query (groups ANDed, OR inside a group, NOT for
the excluded terms), joined to `articles` in that order (`CROSS JOIN`: SQLite's planner
otherwise scans a section and re-runs the MATCH for every row). Ranking: bm25 (titles 3x)
of every match when there are at most RANK_LIMIT; of the RANK_LIMIT newest (and every match
of the date where they end) when there are more, the older ones following newest first.
bm25 of a common term is nearly flat over thousands of articles, and computing it is most
of such a search: on the realistic archive the top 20 of the newest 2,000 score 90-98 % of
the top 20 of all (bench/RESULTS.md, "Ranking"; a term in most articles has bm25 ~1e-6). A one-character term in
more than RANK_LIMIT articles is ranked from `uni` alone: titles that have it first.
`--sort date` computes bm25 for the page shown (JSON prints it) or not at all (text).

Opening, updating, locking, the cold build and where the index lives are `derived.py`'s,
shared with the catalog: writers hold a lock file next to the database and work in one
transaction; readers check freshness and query inside one read transaction, so two
searches at once on a stale index do the update once and never see half of it. On a large
archive a forked worker reads and folds the next files while this process indexes (a
thread would not help: the GIL changes hands at every row SQLite inserts).
"""

from __future__ import annotations

import sys
import unicodedata

from .derived import MEMORY, Corrupt, Store, StoreWriter, connect, is_corrupt, open_store
from .derived import open_unchecked as derived_open_unchecked
from .query import key as fold

# `typing` costs milliseconds to import and this module is on every search's start-up path.
TYPE_CHECKING = False

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable, Sequence
    from pathlib import Path
    from typing import Any

    from .archive import Archive
    from .derived import ScanInThread, Unchecked
    from .query import Query

SCHEMA_VERSION = 6
# Bump when `query.key`, `bigrams` or `characters` change what they return: the FTS tables
# must be rebuilt. 3: the script-neutral key (Traditional characters folded to Simplified).
FOLD_VERSION = "3"
NAME = "search"
TITLE_WEIGHT = 3.0
BODY_WEIGHT = 1.0
# At most this many matches are ranked by bm25: the newest ones (see the module's docstring).
RANK_LIMIT = 2000
# Rebuild (in date order) when more than this share of the rows are out of order.
UNORDERED_SHARE = 0.1
# Larger in-memory FTS5 segments: a cold build does far fewer merges for some 20 MB more
# memory; no merging at all until the build's one 'optimize' (automerge and crisis merges
# are set back to SQLite's defaults after it, for the small updates that follow).
FTS_HASH_SIZE = 16 * 1024 * 1024
ZLIB_LEVEL = 6

_SPACE_MARK = "\x01"  # a space in the text, inside a token (tokens are separated by real spaces)
_END_MARK = "\x02"  # follows a text's last character, so that character starts a token too
_ASCII_PUNCT = "".join(chr(c) for c in range(0x21, 0x7F) if not chr(c).isalnum())
_TOKENIZER = "ascii tokenchars '" + (_SPACE_MARK + _END_MARK + _ASCII_PUNCT).replace("'", "''") + "'"

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
    body, title, tokenize="{_TOKENIZER.replace('"', '""')}", content='', detail=full);
INSERT INTO bi(bi, rank) VALUES('hashsize', {FTS_HASH_SIZE});
CREATE VIRTUAL TABLE uni USING fts5(
    chars, tokenize="{_TOKENIZER.replace('"', '""')}", content='', detail=none, columnsize=0);
CREATE VIRTUAL TABLE uni_t USING fts5(
    chars, tokenize="{_TOKENIZER.replace('"', '""')}", content='', detail=none, columnsize=0);
"""
_FTS = ("bi", "uni", "uni_t")


def bigrams(folded: str) -> str:
    """The `bi` table's document for a folded text: its overlapping character pairs."""
    if not folded:
        return ""
    marked = folded.replace(" ", _SPACE_MARK) + _END_MARK
    import array  # here: a search never builds documents (~0.15 ms of its start)

    # The pairs, written with array slices (C speed) rather than a Python loop over
    # 22 million characters: a cold build of a large archive notices the difference.
    uint32 = _uint32()
    chars = array.array(uint32)
    chars.frombytes(marked.encode(_UTF32))
    pairs = len(chars) - 1
    out = array.array(uint32, " ".encode(_UTF32)) * (3 * pairs - 1)
    out[0::3] = chars[:-1]
    out[1::3] = chars[1:]
    return out.tobytes().decode(_UTF32)


def characters(*folded: str) -> str:
    """The `uni` tables' document for folded texts: each character they hold, once."""
    found = set().union(*folded)
    found.discard(" ")
    return " ".join(sorted(found))


def _uint32() -> str:
    import array

    for code in "IL":
        if array.array(code).itemsize == 4:
            return code
    raise RuntimeError("no 32-bit array type")  # pragma: no cover - every platform Python runs on has one


_UTF32 = "utf-32-le" if sys.byteorder == "little" else "utf-32-be"


# --------------------------------------------------------------------------- match expressions


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


def single_character(query: Query, within: str) -> str | None:
    """The character of a query that is one one-character term (in titles or anywhere):
    such a query is answered from `uni`/`uni_t`."""
    if within == "body" or query.excluded or len(query.groups) != 1 or len(query.groups[0]) != 1:
        return None
    term = query.groups[0][0]
    return term if len(term) == 1 else None


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
        """Every section an article has, sorted: one step of the section index per section
        (a skip scan) rather than all 54,000 entries of a large archive (~3 ms)."""
        return [
            row[0]
            for row in self.conn.execute(
                "WITH RECURSIVE s(name) AS (SELECT min(section) FROM articles UNION ALL "
                "SELECT (SELECT min(section) FROM articles WHERE section > s.name) FROM s "
                "WHERE s.name IS NOT NULL) SELECT name FROM s WHERE name IS NOT NULL"
            )
        ]

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
        and the total. The score is bm25 (higher is better) where it was computed, else 0.0:
        `--sort date` without `scores`, matches past the RANK_LIMIT newest, one-character
        terms ranked from `uni`."""
        import zlib

        from .derived import sqlite_driver

        sqlite3 = sqlite_driver()

        try:
            plan = _Plan(
                self.conn,
                self.place,
                query,
                within=within,
                sections=list(sections),
                sources=list(sources),
                issues=list(issues),
                since=since,
                until=until,
            )
            ranked, count = plan.run(sort=sort, limit=limit, scores=scores)
            if not ranked:
                return [], count.result()
            ids = [row[0] for row in ranked]
            score = {row[0]: row[1] for row in ranked}
            marks = ",".join("?" * len(ids))
            details = {
                row[0]: row[1:]
                for row in self.conn.execute(
                    "SELECT a.id, a.issue, a.article, t.title, a.date, a.section, a.source, t.body "
                    f"FROM articles a JOIN texts t ON t.id = a.id WHERE a.id IN ({marks})",
                    ids,
                )
            }
            total = count.result()
        except sqlite3.DatabaseError as exc:
            if is_corrupt(exc):
                raise Corrupt(self.place) from exc
            raise
        rows = []
        for article_id in ids:
            issue, article, title, date, section, source, body = details[article_id]
            text = zlib.decompress(body).decode("utf-8")
            rows.append((issue, article, title, date, section, source, score[article_id], text))
        return rows, total


class _Arm:
    """The matches in one stretch of ids: `ordered` (ids in date order, within the date
    filters' id range) or `loose` (the ids added out of order, date filters as SQL)."""

    __slots__ = ("bounds", "cond", "params")

    def __init__(self, cond: str, params: dict[str, Any], bounds: tuple[int, int] | None) -> None:
        self.cond = cond
        self.params = params
        self.bounds = bounds


class _Plan:
    """One search's SQL over the matching table (`bi`, or `uni`/`uni_t` for one character),
    in two arms (ordered ids, loose ids), with the article filters."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        place: str,
        query: Query,
        *,
        within: str,
        sections: list[str],
        sources: list[str],
        issues: list[str],
        since: str | None,
        until: str | None,
    ) -> None:
        self.conn = conn
        self.place = place
        self.query = query
        self.within = within
        self.bi_q = match_expression(query, within)
        self.params: dict[str, Any] = {}
        where: list[str] = []
        if sections:
            where.append(f"a.section IN ({', '.join(self._param(s) for s in sections)})")
        if issues:
            where.append(f"a.issue IN ({', '.join(self._param(i) for i in issues)})")
        if sources:
            where.append("(" + " OR ".join(f"instr(a.nsource, {self._param(s)}) > 0" for s in sources) + ")")
        self.filters = "".join(f" AND {w}" for w in where)
        dates = []
        if since is not None:
            dates.append(f"a.date >= {self._param(since)}")
        if until is not None:
            dates.append(f"a.date <= {self._param(until)}")
        self.date_filters = "".join(f" AND {d}" for d in dates)
        self.ordered = int(self._value("SELECT value FROM meta WHERE key = 'ordered'") or 0)
        self.top = int(self._value("SELECT coalesce(max(id), 0) FROM articles") or 0)
        low, high = 1, self.ordered
        if since is not None or until is not None:
            low = self._first_from(low, high, "\x00")  # dated rows only, as the SQL filters
        if since is not None:
            low = self._first_from(low, high, since)
        if until is not None:
            high = self._first_from(low, high, until + "\x00") - 1
        self.low, self.high = low, high
        char = single_character(query, within)
        self.char = char
        self.newest_from = 1  # the first id of the newest matches (split)
        self.table = "bi"
        self.q = self.bi_q
        if char is not None:
            self.table = "uni" if within == "all" else "uni_t"
            self.q = '"' + char.replace('"', '""') + '"'

    def count_beside(self) -> bool:
        """Whether counting the matches is worth a thread and a second connection: only when
        it reads positions (a phrase: a term of three or more characters) or merges many
        lists (a one-character term's prefix query in `bi`). A list of one character in
        `uni` or one pair in `bi` is counted from its doclist alone, in about what opening
        the second connection costs (~1 ms for 40,000 matches): on this connection, after
        the ranking, whose pages it shares."""
        if self.table != "bi":
            return False
        terms = [t for group in self.query.groups for t in group] + list(self.query.excluded)
        return any(len(term) != 2 for term in terms)

    def _param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def _value(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def _first_from(self, low: int, high: int, key: str) -> int:
        """The first id in [low, high] of the ordered rows whose date key (date, '' when
        undated) is at least `key` (high + 1 when none): a binary search, as the keys
        ascend with the ids there (which may have gaps)."""
        probe = "SELECT id, coalesce(date, '') FROM articles WHERE id >= ? AND id <= ? ORDER BY id LIMIT 1"
        start, end = low, high + 1
        while start < end:
            middle = (start + end) // 2
            row = self.conn.execute(probe, (middle, high)).fetchone()
            if row is None or row[1] >= key:
                end = middle
            else:
                start = row[0] + 1
        row = self.conn.execute(probe, (start, high)).fetchone()
        return int(row[0]) if row is not None else high + 1

    # ---------------------------------------------------------------- arms

    def arms(self, low: int | None = None, high: int | None = None, loose: str = "") -> list[_Arm]:
        """The ordered arm (ids in [low, high], default the date filters' range) and, when
        rows were added out of order, the loose arm (with `loose` as an extra condition)."""
        low = self.low if low is None else max(low, self.low)
        high = self.high if high is None else min(high, self.high)
        found = []
        if low <= high:
            found.append(
                _Arm(
                    f"{{t}}.rowid BETWEEN {low} AND {high}{self.filters}",
                    self.params,
                    (low, high),
                )
            )
        if self.top > self.ordered:
            found.append(
                _Arm(
                    f"{{t}}.rowid > {self.ordered}{self.filters}{self.date_filters}{loose}", self.params, None
                )
            )
        return found

    def source(self, arm: _Arm, table: str | None = None) -> str:
        t = table or self.table
        return (
            f"FROM {t} CROSS JOIN articles a ON a.id = {t}.rowid WHERE {t} MATCH :q AND "
            + arm.cond.format(t=t)
        )

    def params_for(self, table: str | None = None) -> dict[str, Any]:
        return {**self.params, "q": self.bi_q if (table or self.table) == "bi" else self.q}

    def count_statements(self) -> list[tuple[str, dict[str, Any]]]:
        """The statements (SQL, parameters) whose counts add up to the number of matches."""
        t = self.table
        statements = []
        for arm in self.arms():
            if arm.bounds is not None and not self.filters:
                # No article filter: the FTS table alone, its rowids bounded.
                sql = f"SELECT count(*) FROM {t} WHERE {t} MATCH :q AND rowid BETWEEN {arm.bounds[0]} AND {arm.bounds[1]}"
            else:
                sql = f"SELECT count(*) {self.source(arm, t)}"
            statements.append((sql, self.params_for(t)))
        return statements

    # ---------------------------------------------------------------- the newest matches

    def cut(self, n: int) -> tuple[str | None, bool]:
        """The date key of the n-th newest match (None when there are fewer), and whether
        there are more than n matches: the newest n are every match dated at or after the
        key (all of that date, so the set is the archive's answer, not the index's history)."""
        arms = self.arms()
        if len(arms) == 1 and arms[0].bounds is not None:
            # Only ids in date order: the n-th newest is the n-th from the top, found by SQLite
            # without sending the n rows here (the FTS table alone when nothing filters them).
            t, (low, high) = self.table, arms[0].bounds
            if self.filters:
                sql = f"SELECT coalesce(a.date, '') {self.source(arms[0])} ORDER BY {t}.rowid DESC"
            else:
                sql = (
                    f"SELECT coalesce((SELECT date FROM articles WHERE id = {t}.rowid), '') FROM {t} "
                    f"WHERE {t} MATCH :q AND rowid BETWEEN {low} AND {high} ORDER BY rowid DESC"
                )
            rows = self.conn.execute(f"{sql} LIMIT 2 OFFSET {n - 1}", self.params_for()).fetchall()
            return (str(rows[0][0]) if rows else None), len(rows) > 1
        dated: list[str] = []
        for arm in arms:
            sql = f"SELECT coalesce(a.date, '') {self.source(arm)}"
            if arm.bounds is not None:
                sql += f" ORDER BY {self.table}.rowid DESC LIMIT {n + 1}"
            dated += [row[0] for row in self.conn.execute(sql, self.params_for())]
        if len(dated) < n:
            return None, False
        dated.sort(reverse=True)
        return dated[n - 1], len(dated) > n

    def split(self, key: str) -> tuple[list[_Arm], list[_Arm]]:
        """(arms of the matches dated at or after `key`, arms of the older ones)."""
        first = self._first_from(self.low, self.high, key)
        self.newest_from = first
        newer = self.arms(low=first, loose=f" AND coalesce(a.date, '') >= {self._param(key)}")
        older = self.arms(high=first - 1, loose=f" AND coalesce(a.date, '') < {self._param(key)}")
        return newer, older

    # ---------------------------------------------------------------- the page

    _ORDER = "d DESC, i DESC, p"

    def select(
        self, arms: list[_Arm], score: str, order: str, size: int, table: str | None = None
    ) -> list[Any]:
        """(id, score) of the first `size` matches of `arms` (all when 0) in `order`."""
        if not arms:
            return []
        t = table or self.table
        sql = f"SELECT id, s FROM ({self._union(arms, score, t)}) ORDER BY {order} LIMIT {size if size > 0 else -1}"
        return self.conn.execute(sql, self.params_for(t)).fetchall()

    def select_counted(self, arms: list[_Arm], score: str, order: str, size: int) -> tuple[list[Any], int]:
        """`select`, and the number of matches `arms` hold: a window over the rows the
        ranking reads anyway (the same statement with a column more), so no pass of its own."""
        if not arms:
            return [], 0
        t = self.table
        sql = (
            f"SELECT id, s, count(*) OVER () FROM ({self._union(arms, score, t)}) "
            f"ORDER BY {order} LIMIT {size if size > 0 else -1}"
        )
        rows = self.conn.execute(sql, self.params_for(t)).fetchall()
        return [(row[0], row[1]) for row in rows], (int(rows[0][2]) if rows else 0)

    def _union(self, arms: list[_Arm], score: str, t: str) -> str:
        columns = f"a.id AS id, {score.format(t=t)} AS s, a.date AS d, a.issue AS i, a.pos AS p"
        return " UNION ALL ".join(f"SELECT {columns} {self.source(arm, t)}" for arm in arms)

    def bm25_of(self, ids: list[int]) -> dict[int, float]:
        marks = ",".join("?" * len(ids))
        sql = f"SELECT rowid, {_BM25.format(t='bi')} FROM bi WHERE bi MATCH ? AND rowid IN ({marks})"
        return {row[0]: -row[1] for row in self.conn.execute(sql, [self.bi_q, *ids])}

    def run(self, *, sort: str, limit: int, scores: bool) -> tuple[list[tuple[int, float]], Count | Counted]:
        """The page as (id, score), and the number of matches: counted on a second
        connection in a thread while this one ranks (`Count`), since both read every match,
        when counting reads positions (`count_beside`), else after the ranking; by the
        ranking statement itself when it ranks every match (at most RANK_LIMIT)."""
        if sort == "date":
            total = Count(self.conn, self.place, self.count_statements(), beside=self.count_beside())
            key, more = self.cut(limit) if limit > 0 else (None, False)
            arms = self.split(key)[0] if key is not None and more else self.arms()
            page = [(row[0], 0.0) for row in self.select(arms, "0", self._ORDER, limit)]
            if scores and page:
                found = self.bm25_of([row[0] for row in page])
                page = [(i, found.get(i, 0.0)) for i, _ in page]
            return page, total
        key, more = self.cut(RANK_LIMIT)
        if not more:
            if self.char is not None:
                # Few: the exact answer from `bi` (a one-character term is a prefix query there).
                self.table, self.q = "bi", self.bi_q
            # Every match is ranked: the ranking statement counts them as it reads them (a
            # rare term no longer starts a thread and a second connection to count a few).
            ranked, count = self.select_counted(self.arms(), _BM25, f"s, {self._ORDER}", limit)
            return [(i, -s) for i, s in ranked], Counted(count)
        total = Count(self.conn, self.place, self.count_statements(), beside=self.count_beside())
        ranked_arms, rest_arms = self.split(key) if key is not None else (self.arms(), [])
        if self.table == "bi":
            page = [(i, -s) for i, s in self.select(ranked_arms, _BM25, f"s, {self._ORDER}", limit)]
        else:
            # One character in more than RANK_LIMIT articles: titles that have it first. The
            # ranked ids are all at or above the first of the newest (ordered ones from it,
            # loose ones above every ordered one): the titles' list is read from there.
            titled = (
                f"(id IN (SELECT rowid FROM uni_t WHERE uni_t MATCH :q AND rowid >= {self.newest_from})) "
                f"DESC, {self._ORDER}"
            )
            page = [(i, 0.0) for i, _ in self.select(ranked_arms, "0", titled, limit)]
        if rest_arms and (limit == 0 or len(page) < limit):
            rest = self.select(rest_arms, "0", self._ORDER, limit - len(page) if limit else 0)
            page += [(row[0], 0.0) for row in rest]
        return page, total


_BM25 = f"bm25({{t}}, {BODY_WEIGHT}, {TITLE_WEIGHT})"

# What identifies a state of the index: a rebuild checks every file anew, an update the
# files it read (and no update can commit while a reader holds the file).
_STATE = "SELECT count(*), min(checked_ns), max(checked_ns), max(id) FROM files"


class Count:
    """The number of matches. Counting reads every match, as ranking them does (bm25's IDF
    runs the phrase over the whole table), so the count runs in a thread on a second
    connection while this one ranks: SQLite releases the GIL while it steps a statement.

    The second connection must see this one's state: this one's read transaction holds
    the file, so no writer can commit to it, and a rebuild renamed over it is another
    state (`_STATE` differs). The count is taken here instead, after the ranking, when
    the states differ, when the thread fails (a writer waiting to commit refuses new
    readers: the thread does not wait for it, as the writer waits for us), when the index
    lives in memory, when the ranking is done before the thread began to count, or when
    counting is cheaper than the second connection (`beside` false: `_Plan.count_beside`).
    A search whose matches are all ranked (at most RANK_LIMIT) starts none: its ranking
    statement counts them (`_Plan.select_counted`, `Counted`)."""

    __slots__ = ("_claim", "_done", "conn", "statements", "value")

    def __init__(
        self,
        conn: sqlite3.Connection,
        place: str,
        statements: list[tuple[str, dict[str, Any]]],
        *,
        beside: bool = True,
    ) -> None:
        self.conn = conn
        self.statements = statements
        self.value: int | None = None
        self._done: Any = None
        self._claim: Any = None
        if place == MEMORY or not beside:
            return
        import _thread

        state = conn.execute(_STATE).fetchone()
        self._claim = _thread.allocate_lock()  # whoever takes it counts
        self._done = _thread.allocate_lock()
        self._done.acquire()
        _thread.start_new_thread(self._count_beside, (place, state, self._done))

    def _count_beside(self, place: str, state: tuple[Any, ...], done: Any) -> None:
        try:
            other = connect(place, busy_ms=0, read_only=True)
            try:
                other.execute("BEGIN")
                if other.execute(_STATE).fetchone() == state and self._claim.acquire(False):
                    self.value = _count(other, self.statements)
            finally:
                other.close()
        except Exception:  # counted again on the first connection, which reports the error
            pass
        finally:
            done.release()

    def result(self) -> int:
        if self._done is not None:
            if not self._claim.acquire(False):  # the thread is counting: its answer
                with self._done:
                    pass
            self._done = None
        if self.value is None:
            self.value = _count(self.conn, self.statements)
        return self.value


class Counted:
    """A number of matches already known (the ranking statement counted them)."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value

    def result(self) -> int:
        return self.value


def _count(conn: sqlite3.Connection, statements: list[tuple[str, dict[str, Any]]]) -> int:
    return sum(int(conn.execute(sql, params).fetchone()[0]) for sql, params in statements)


# --------------------------------------------------------------------------- the store


class _SearchStore(Store):
    name = NAME
    schema_version = SCHEMA_VERSION
    schema = _SCHEMA
    # Incremental auto-vacuum: the pages that the build's merges free are given back after it.
    # 8 KB pages: the compressed bodies (~1 KB each) leave less unused space (2 % smaller).
    build_pragmas = (
        "PRAGMA page_size = 8192",
        "PRAGMA cache_size = -16000",
        "PRAGMA auto_vacuum = INCREMENTAL",
    )
    # SQLite's FTS inserts are this process's work; one worker keeps it fed.
    workers = 1
    # A search opens the index first thing: its scan overlaps loading SQLite and opening it.
    scan_in_thread = True

    def versions(self) -> dict[str, str]:
        return {"unidata": unicodedata.unidata_version, "fold": FOLD_VERSION}

    def build_order(self, root: str, paths: list[bytes]) -> list[bytes]:
        """Files oldest first (their `date = ` line, read from the head of each), so that
        a cold build numbers the articles in date order; a file whose date this misses is
        only added out of order, never wrongly."""
        import os
        import re

        dated = re.compile(rb"^date\s*=\s*(\d{4}-\d\d-\d\d)\s*(?:#.*)?$", re.MULTILINE)

        def key(path: bytes) -> tuple[bytes, bytes]:
            try:
                with open(os.path.join(os.fsencode(root), path), "rb") as handle:
                    head = handle.read(2048)
            except OSError:
                return b"", path
            head = head.split(b"[[", 1)[0]
            found = dated.search(head)
            return (found.group(1) if found else b""), path

        return sorted(paths, key=key)

    def before_build(self, conn: sqlite3.Connection) -> None:
        # No merging while the build adds rows: the one 'optimize' after it does all of it.
        for table in _FTS:
            conn.execute(f"INSERT INTO {table}({table}, rank) VALUES('automerge', 0)")
            conn.execute(f"INSERT INTO {table}({table}, rank) VALUES('crisismerge', 2000)")

    def after_build(self, conn: sqlite3.Connection) -> None:
        for table in _FTS:
            conn.execute(f"INSERT INTO {table}({table}) VALUES('optimize')")
            conn.execute(f"INSERT INTO {table}({table}, rank) VALUES('automerge', 4)")
            conn.execute(f"INSERT INTO {table}({table}, rank) VALUES('crisismerge', 16)")
        # executescript steps the pragma to the end (one execute frees a single page).
        conn.executescript("PRAGMA incremental_vacuum;")

    def needs_rebuild(self, conn: sqlite3.Connection) -> bool:
        """Too many rows out of date order (queries join them one by one): number afresh."""
        ordered = int((conn.execute("SELECT value FROM meta WHERE key = 'ordered'").fetchone() or (0,))[0])
        loose, rows = conn.execute(
            "SELECT count(*) FILTER (WHERE id > ?), count(*) FROM articles", (ordered,)
        ).fetchone()
        return bool(loose > RANK_LIMIT and loose > UNORDERED_SHARE * rows)

    def settings(self, archive: Archive) -> dict[str, str]:
        return {"sections": "\n".join(archive.settings.sections), "timezone": archive.settings.timezone}

    def parse(self, archive: Archive, path: Path, data: bytes | None) -> tuple[Any, str | None]:
        import zlib

        issue, warning = _read_issue(archive, path, data)
        rows: list[tuple[Any, ...]] = []
        docs: list[tuple[str, str, str, str]] = []
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
                docs.append(_documents(ft, fb))
        return (rows, docs), warning

    def writer(self, conn: sqlite3.Connection) -> StoreWriter:
        return _Writer(conn)


STORE = _SearchStore()


def _documents(title: str, body: str) -> tuple[str, str, str, str]:
    """What the FTS tables hold of an article (folded title and body): `bi`'s body and
    title, `uni`'s and `uni_t`'s characters."""
    return bigrams(body), bigrams(title), characters(title, body), characters(title)


def open_index(root: str, early: Unchecked | None = None) -> Index:
    """The index of the archive at `root`, up to date, in a read transaction (`early`: the
    archive as an earlier `open_unchecked` scanned it)."""
    if early is None:
        conn, place = open_store(STORE, root)
    else:
        conn, place = open_store(STORE, root, files=early.files, stamp=early.stamp)
    return Index(conn, place)


def open_unchecked(root: str, files: ScanInThread | None = None) -> tuple[Index | None, Unchecked]:
    """The index as it is, before the archive's scan is done (`derived.open_unchecked`)."""
    early = derived_open_unchecked(STORE, root, files)
    return (None if early.conn is None else Index(early.conn, early.place)), early


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
    """Adds and removes the articles of issue files, in the caller's transaction.

    Numbers them in date order (see the module's docstring): a file's articles take
    consecutive ids, sorted by date; after the last ordered row when they are not older
    than it (the ordered stretch grows), in the gap a removed file left when they fit
    there by number and date, else after every row (out of order).
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.ordered = int(
            (conn.execute("SELECT value FROM meta WHERE key = 'ordered'").fetchone() or (0,))[0]
        )
        row = conn.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()
        self.top = max(int(row[0]), self.ordered)
        self.gaps: list[int] = []  # the first ids of ordered stretches that removed files left

    def _key_near(self, article_id: int, before: bool) -> tuple[int, str] | None:
        """(id, date key) of the row nearest below (or above) `article_id`."""
        sql = (
            "SELECT id, coalesce(date, '') FROM articles WHERE id < ? ORDER BY id DESC LIMIT 1"
            if before
            else "SELECT id, coalesce(date, '') FROM articles WHERE id > ? ORDER BY id LIMIT 1"
        )
        row = self.conn.execute(sql, (article_id,)).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def _allocate(self, keys: list[str]) -> int:
        """The first of len(keys) consecutive ids for rows with these (ascending) date keys."""
        count = len(keys)
        for gap in self.gaps:
            below = self._key_near(gap, before=True)
            above = self._key_near(gap - 1, before=False)
            if above is None or above[0] > self.ordered:
                continue
            start = below[0] + 1 if below is not None else 1
            if above[0] - start >= count and (below is None or below[1] <= keys[0]) and keys[-1] <= above[1]:
                self.gaps.remove(gap)
                return start
        start = self.top + 1
        if self.top == self.ordered:
            last = self._key_near(self.ordered + 1, before=True)
            if last is None or last[1] <= keys[0]:
                self.ordered = start + count - 1
                self.conn.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('ordered', ?)", (str(self.ordered),)
                )
        self.top = start + count - 1
        return start

    def insert(self, file_id: int, payload: Any) -> None:
        articles, docs = payload
        if not articles:
            return
        order = sorted(range(len(articles)), key=lambda n: (articles[n][3] or "", n))
        first = self._allocate([articles[n][3] or "" for n in order])
        ids = range(first, first + len(order))
        self.conn.executemany(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(i, file_id, *articles[n][:-2]) for i, n in zip(ids, order, strict=True)],
        )
        self.conn.executemany(
            "INSERT INTO texts VALUES (?, ?, ?)",
            [(i, *articles[n][-2:]) for i, n in zip(ids, order, strict=True)],
        )
        self._index([(i, *docs[n]) for i, n in zip(ids, order, strict=True)], delete=False)

    def _index(self, rows: Sequence[tuple[int, str, str, str, str]], *, delete: bool) -> None:
        command, value = ("bi, ", "'delete', ") if delete else ("", "")
        self.conn.executemany(
            f"INSERT INTO bi({command}rowid, body, title) VALUES({value}?, ?, ?)", [r[:3] for r in rows]
        )
        for table, column in (("uni", 3), ("uni_t", 4)):
            command = f"{table}, " if delete else ""
            self.conn.executemany(
                f"INSERT INTO {table}({command}rowid, chars) VALUES({value}?, ?)",
                [(r[0], r[column]) for r in rows],
            )

    def delete(self, file_id: int) -> None:
        """Remove a file's articles; contentless FTS needs the folded text it was given."""
        rows = self.conn.execute(
            "SELECT t.id, t.title, t.body FROM articles a JOIN texts t ON t.id = a.id WHERE a.file = ?",
            (file_id,),
        ).fetchall()
        if not rows:
            return
        import zlib

        self._index(
            [
                (
                    article_id,
                    *_documents(fold(title), fold(zlib.decompress(body).decode("utf-8", "surrogatepass"))),
                )
                for article_id, title, body in rows
            ],
            delete=True,
        )
        self.conn.execute(
            "DELETE FROM texts WHERE id IN (SELECT id FROM articles WHERE file = ?)", (file_id,)
        )
        self.conn.execute("DELETE FROM articles WHERE file = ?", (file_id,))
        first = min(row[0] for row in rows)
        if first <= self.ordered:
            self.gaps.append(first)
