"""Validation results kept per issue file, so that validating the whole archive re-checks
only the files that changed.

Checking one file (its fields, dates, sources, copy-editing, layout residue) is most of a
whole-archive `validate` (16 of 24 s at 1,000 issues) and depends only on the file's bytes,
the settings, the rules and, for the "in the future" rules, today's date. This store
(`ARCHIVE/.ecdigest/validation.sqlite3`) keeps, per file, what `validate._check_file` found,
under the mechanism every cache of the archive shares (`derived.py`: size, mtime and
BLAKE2 digest of every file; only changed files are checked again, in parallel workers for
a cold build; locking; silent rebuilds). A result is used again when:

- the file's digest is the one it was computed for (derived.py);
- the rules are the same: RULES_VERSION (bump it with any change to a per-file rule) and
  the Unicode version are in the store's meta, any other value rebuilds it;
- the settings are the same: a digest of every ecdigest.toml setting is kept with each
  result; after a settings change the store is rebuilt (`needs_rebuild`);
- today's date gives the same answer: the result was computed today, or it was computed
  on an earlier day and no date in the file was after that day (no date in the past moves
  into the future; the messages of E106/E302 name today's date).

A file that fails the last test is checked again in the process (drafts dated ahead).

Cross-issue rules need every file: ids used twice (E103/E203) from the `ids` table (the
files that share an id are read again, in full, for the messages' lines: usually none),
and W601 (a story already published), its answer kept per file in
`validation-w601.sqlite3` beside the store (`Answers`): after an edit, only the edited
files and the files holding a title the same as or near one of the titles the edit added
or removed are checked again, through the catalog's title index; a cold run (or one after
many changes) computes it over every title kept here.
"""

from __future__ import annotations

import json
import os
from contextlib import suppress

from .derived import Store, StoreWriter, open_store

# `typing` costs milliseconds to import.
TYPE_CHECKING = False

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterator
    from pathlib import Path
    from typing import Any

    from .archive import Archive
    from .model import Newsletter

NAME = "validation"
SCHEMA_VERSION = 1
# Bump with every change to a per-file rule (validate._check_file and what it calls), its
# messages or its lines: results computed by other rules must not be used again.
RULES_VERSION = "1"

_SCHEMA = """
CREATE TABLE results(
    file INTEGER PRIMARY KEY,
    today TEXT NOT NULL,
    latest TEXT NOT NULL,
    settings TEXT NOT NULL,
    problems TEXT NOT NULL,
    slim TEXT NOT NULL
);
CREATE TABLE ids(kind TEXT NOT NULL, id TEXT NOT NULL, file INTEGER NOT NULL);
CREATE INDEX ids_id ON ids(kind, id);
CREATE INDEX ids_file ON ids(file);
"""


def settings_digest(settings: Newsletter) -> str:
    """Every setting (a frozen dataclass: its repr shows every field)."""
    import hashlib

    return hashlib.blake2b(repr(settings).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class Result:
    """One file's stored result."""

    __slots__ = ("latest", "problems", "slim", "today")

    def __init__(self, today: str, latest: str, problems: str, slim: str) -> None:
        self.today = today
        self.latest = latest
        self.problems = problems
        self.slim = slim

    def usable(self, today: str) -> bool:
        """Whether the result is today's answer too (see the module's docstring)."""
        return self.today == today or (self.today < today and self.latest <= self.today)


class _ValidationStore(Store):
    name = NAME
    schema_version = SCHEMA_VERSION
    schema = _SCHEMA
    # Checking is the work (no SQL to speak of): as many workers as cores, as the catalog.
    workers = max(1, min(4, os.cpu_count() or 1))
    parallel_from = 48

    def versions(self) -> dict[str, str]:
        import unicodedata

        return {"unidata": unicodedata.unidata_version, "rules": RULES_VERSION}

    def settings(self, archive: Archive) -> dict[str, str]:
        return {"validation": settings_digest(archive.settings)}

    def needs_rebuild(self, conn: sqlite3.Connection) -> bool:
        """Results computed under other settings: check everything again."""
        row = conn.execute(
            "SELECT 1 FROM results WHERE settings != (SELECT value FROM meta WHERE key = 'validation') LIMIT 1"
        ).fetchone()
        return row is not None

    def parse(self, archive: Archive, path: Path, data: bytes | None) -> tuple[Any, str | None]:
        from .dates import today
        from .validate import check_file_for_cache

        now = today(archive.settings.timezone)
        problems, slim, ids, latest = check_file_for_cache(archive, path, data, now)
        payload = (
            now.isoformat(),
            latest,
            settings_digest(archive.settings),
            json.dumps(problems),
            json.dumps(slim),
            ids,
        )
        return payload, None

    def writer(self, conn: sqlite3.Connection) -> StoreWriter:
        return _Writer(conn)


class _Writer(StoreWriter):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def insert(self, file_id: int, payload: Any) -> None:
        *row, ids = payload
        self.conn.execute("INSERT INTO results VALUES (?, ?, ?, ?, ?, ?)", (file_id, *row))
        self.conn.executemany("INSERT INTO ids VALUES (?, ?, ?)", [(kind, i, file_id) for kind, i in ids])

    def delete(self, file_id: int) -> None:
        self.conn.execute("DELETE FROM results WHERE file = ?", (file_id,))
        self.conn.execute("DELETE FROM ids WHERE file = ?", (file_id,))


STORE = _ValidationStore()


class Results:
    """The stored results of every issue file, in one read transaction (close it)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.conn, self.place = open_store(STORE, root)

    def close(self) -> None:
        self.conn.close()

    def by_path(self) -> dict[bytes, Result]:
        """Every file's result by its path relative to the archive (bytes, as derived.py)."""
        return {
            bytes(row[0]): Result(*row[1:])
            for row in self.conn.execute(
                "SELECT f.path, r.today, r.latest, r.problems, r.slim FROM files f JOIN results r ON r.file = f.id"
            )
        }

    def sharing_ids(self) -> list[bytes]:
        """Files that use an issue id or an article id that is used again (in another file
        or in the same one)."""
        rows = self.conn.execute(
            "SELECT DISTINCT f.path FROM ids i JOIN files f ON f.id = i.file WHERE (i.kind, i.id) IN "
            "(SELECT kind, id FROM ids GROUP BY kind, id HAVING count(*) > 1) ORDER BY f.path"
        )
        return [bytes(row[0]) for row in rows]

    def digests(self) -> dict[bytes, str]:
        """Every file's digest ('' when unreadable) by its relative path (bytes), as the
        results saw the archive."""
        return {
            bytes(path): digest or "" for path, digest in self.conn.execute("SELECT path, digest FROM files")
        }


# W601 (a story already published) needs every title of the archive. Its answer is kept
# per file in `validation-w601.sqlite3` beside the store: for each file, the digest it was
# computed for, a digest of the entries the file gives the other files' checks (its
# published titles with their ids, issue, date and order) and their title keys, and the
# file's W601 problems. The table is, at every commit, the answer for the state its
# (path, digest) rows describe; the next run diffs that state against the archive's.
# Bump with any change to W601, title_key, the threshold or the messages.
W601_VERSION = "1"

_W601_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answers(
    path BLOB PRIMARY KEY,
    digest TEXT NOT NULL,
    entries TEXT NOT NULL,
    keys TEXT NOT NULL,
    problems TEXT NOT NULL
);
"""


class Kept:
    """A basis row: the file's digest, its entries' digest and their title keys."""

    __slots__ = ("digest", "entries", "keys")

    def __init__(self, digest: str, entries: str, keys: str) -> None:
        self.digest = digest
        self.entries = entries
        self.keys = keys


class Answers:
    """The kept W601 answers, in one write transaction (commit or close: close rolls back)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def basis(self) -> dict[bytes, Kept]:
        return {
            bytes(path): Kept(digest, entries, keys)
            for path, digest, entries, keys in self.conn.execute(
                "SELECT path, digest, entries, keys FROM answers"
            )
        }

    def put(self, path: bytes, digest: str, entries: str, keys: str, problems: str) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?)", (path, digest, entries, keys, problems)
        )

    def remove(self, path: bytes) -> None:
        self.conn.execute("DELETE FROM answers WHERE path = ?", (path,))

    def clear(self) -> None:
        self.conn.execute("DELETE FROM answers")

    def problems(self) -> Iterator[tuple[bytes, str]]:
        for path, problems in self.conn.execute("SELECT path, problems FROM answers WHERE problems != '[]'"):
            yield bytes(path), problems

    def commit(self) -> None:
        """Keep what was written (best effort: a failed commit only means it is computed again)."""
        import sqlite3

        with suppress(sqlite3.Error):
            self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


def open_answers(place: str) -> Answers | None:
    """The kept W601 answers beside the store at `place`, locked for writing; None when
    they cannot be kept (a store in memory, a folder that cannot be written). A damaged
    file is discarded and started afresh (it is derived data)."""
    import sqlite3

    from .derived import MEMORY, connect, discard, is_corrupt

    if place == MEMORY:
        return None
    kept = place[: -len(".sqlite3")] + "-w601.sqlite3"
    for attempt in (1, 2):
        conn = None
        try:
            conn = connect(kept)
            conn.execute("BEGIN IMMEDIATE")
            for statement in _W601_SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            row = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            version = f"{W601_VERSION} {RULES_VERSION}"
            if row is None or row[0] != version:
                conn.execute("DELETE FROM answers")
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (version,))
            conn.execute("SELECT count(*) FROM answers").fetchone()
            return Answers(conn)
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            if attempt == 1 and isinstance(exc, sqlite3.DatabaseError) and is_corrupt(exc):
                discard(kept)
                continue
            return None
    return None  # pragma: no cover
