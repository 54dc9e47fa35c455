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
and W601 (a story already published) from the titles kept here, its answer kept in
`validation-w601.json` beside the store, keyed by every file's path and digest: the
answer of the archive as it is, computed again whenever any file changed.
"""

from __future__ import annotations

import json
import os

from .derived import Store, StoreWriter, open_store

# `typing` costs milliseconds to import.
TYPE_CHECKING = False

if TYPE_CHECKING:
    import sqlite3
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

    def state(self) -> str:
        """A digest of every file's path and digest: the archive's state as the results saw it."""
        import hashlib

        digest = hashlib.blake2b(digest_size=16)
        # The root as given: the kept answer names files by paths under it.
        digest.update(RULES_VERSION.encode() + b"\0" + os.fsencode(self.root) + b"\0")
        for path, file_digest in self.conn.execute(
            "SELECT path, coalesce(digest, '') FROM files ORDER BY path"
        ):
            digest.update(bytes(path) + b"\0" + file_digest.encode() + b"\0")
        return digest.hexdigest()

    def _kept_path(self) -> str | None:
        from .derived import MEMORY

        return None if self.place == MEMORY else self.place[: -len(".sqlite3")] + "-w601.json"

    def kept_answer(self, state: str) -> list[list[Any]] | None:
        """The W601 answer kept for this state of the archive, if any."""
        place = self._kept_path()
        if place is None:
            return None
        try:
            with open(place, encoding="utf-8") as handle:
                kept = json.load(handle)
        except (OSError, ValueError):
            return None
        if (
            not isinstance(kept, dict)
            or kept.get("state") != state
            or not isinstance(kept.get("problems"), list)
        ):
            return None
        problems: list[list[Any]] = kept["problems"]
        return problems

    def keep_answer(self, state: str, problems: list[list[Any]]) -> None:
        """Keep the W601 answer for this state (best effort: a folder that cannot be
        written only means it is computed again next time)."""
        from contextlib import suppress
        from pathlib import Path

        from .errors import EcdigestError
        from .fileio import atomic_write

        place = self._kept_path()
        if place is None:
            return
        # ASCII JSON: a file name that is not UTF-8 (lone surrogates) survives the round trip.
        data = json.dumps({"state": state, "problems": problems}).encode("ascii")
        with suppress(OSError, EcdigestError):
            atomic_write(Path(place), data)
