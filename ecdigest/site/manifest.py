"""The build's manifest: what `build` wrote into the output folder, read and rewritten in part.

`OUT/.ecdigest-manifest.sqlite3` (SQLite) holds:

- `files`: every file the build wrote: its family (the group of outputs planned together:
  an issue's share pages, one tag's pages, the feeds of an edition…), the key of its
  inputs, the digest of the bytes written, their size and mtime, and its `<lastmod>` when
  it belongs in the sitemap;
- `issues`: every issue as last built (file, id, digest, status) with its *facets*: a
  digest of what each shared page takes from it (its rows on a tag's page, its counts on
  the stats page, its articles in a section's feed…), so a build after an edit plans only
  the pages whose facet changed, without reading any other issue;
- `families`: keys of groups of outputs (an issue's share pages: one key for all of them);
- `pending`: families to plan again on the next build (left with a conflict);
- `meta`: the state digest (nothing changed when equal), the settings digest, the search
  index's segments per edition, when it was saved (git's racily-clean check).

A build with nothing changed reads `meta` and the files' sizes and mtimes (60,000 rows in
~40 ms) and stats the files; the few written too close to the last save to be told apart
from an edit in the same clock tick are read by their bytes, and it then records when it
checked (`mark_checked`, git's index refresh), so the next one stats them only. A file
found changed by hand keeps its record smudged (size and mtime -1) until it is written or
put back, so it is never taken for what was written by its stat alone. A build after an
edit reads the rows of the families it plans, and writes back only what changed, in one
transaction; a kill leaves the old manifest or the new one (SQLite's journal). Files are
written and synced before the transaction that records them commits, so the manifest never
describes bytes a power cut could lose; a file a killed build wrote but did not record is
recognised by its bytes (output.Writer.put). Nothing is created by reading: a refused or
no-change build leaves no manifest behind where there was none.

An older build's folder: a `.ecdigest-manifest.json` (manifest version 2) or a lock file
without a manifest makes the next build adopt the files it produces; a damaged manifest
vouches for nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite3

MANIFEST = ".ecdigest-manifest.sqlite3"
OLD_MANIFEST = ".ecdigest-manifest.json"  # versions 1 and 2: a JSON line, then a line per file
LOCK_NAME = ".ecdigest-build.lock"
VERSION = "4"  # 4: the issues' summary facet in a column of its own
BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE files(
    name TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    key TEXT NOT NULL,
    digest TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sitemap TEXT
) WITHOUT ROWID;
CREATE INDEX files_family ON files(family);
CREATE TABLE issues(
    path TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    digest TEXT NOT NULL,
    status TEXT NOT NULL,
    facets TEXT NOT NULL,
    summary TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE families(family TEXT PRIMARY KEY, key TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE pending(family TEXT PRIMARY KEY) WITHOUT ROWID;
"""


@dataclass(slots=True)
class Record:
    key: str
    digest: str
    size: int
    mtime_ns: int
    family: str = ""
    sitemap: str | None = None  # <lastmod> ("" for none) when the page is in the sitemap

    def row(self, name: str) -> tuple[str, str, str, str, int, int, str | None]:
        """The manifest's `files` row of `name` (its columns in order)."""
        return (name, self.family, self.key, self.digest, self.size, self.mtime_ns, self.sitemap)


@dataclass(slots=True)
class IssueRecord:
    id: str
    digest: str
    status: str
    facets_json: str = "{}"
    summary: str = ""  # the summary facet (what a feed's archive page shows of the issue)

    @property
    def facets(self) -> dict[str, str]:
        value: dict[str, str] = json.loads(self.facets_json)
        return value


SPOOL_BATCH = 1024  # records pickled together into a spool


class Spool:
    """Records written by another process (a cold build's forked worker), kept on disk
    (an unlinked temporary file) until the manifest's save reads them back in batches: the
    parent of a cold build never holds a record per file (184,000 at 3,000 issues, ~80 MB
    in the parent and ~30 MB in each worker when they were sent back as objects)."""

    def __init__(self) -> None:
        import tempfile

        self.file = tempfile.TemporaryFile(prefix="ecdigest-manifest-")  # noqa: SIM115
        self._batch: list[tuple[Any, ...]] = []

    def add(self, name: str, record: Record, *, written: bool = False) -> None:
        """Spool `name`'s record (`written`: this build wrote its bytes, else they were
        already there)."""
        self._batch.append((*record.row(name), written))
        if len(self._batch) >= SPOOL_BATCH:
            self.flush()

    def flush(self) -> None:
        """Write what is batched (the writing process calls this before it ends: a forked
        process exits without flushing its buffers)."""
        import pickle

        if self._batch:
            pickle.dump(self._batch, self.file, protocol=pickle.HIGHEST_PROTOCOL)
            self._batch = []
        self.file.flush()

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """Every spooled row (name, family, key, digest, size, mtime_ns, sitemap, written),
        in the order they were added."""
        import pickle

        self.file.seek(0)
        while True:
            try:
                batch = pickle.load(self.file)
            except EOFError:
                return
            yield from batch

    def records(self) -> dict[str, Record]:
        return {row[0]: Record(row[2], row[3], row[4], row[5], row[1], row[6]) for row in self.rows()}

    def written(self) -> list[str]:
        """The files whose bytes were written, in the order they were."""
        return [row[0] for row in self.rows() if row[7]]

    def close(self) -> None:
        self.file.close()


class Files:
    """The `files` table, read lazily (by name, by family, or all), changes kept here until
    `Manifest.save`; with the records of `spools` (written by the build's workers), which
    take precedence over what is kept here: the workers' files are theirs alone."""

    def __init__(self, conn: sqlite3.Connection | None) -> None:
        self._conn = conn
        self._cache: dict[str, Record | None] = {}
        self._changed: set[str] = set()
        self._families: set[str] = set()  # families whose rows are all in the cache
        self._all = conn is None
        self.spools: list[Spool] = []

    def _load(self, sql: str, params: Iterable[Any] = ()) -> list[str]:
        if self._conn is None:
            return []
        names = []
        for name, family, key, digest, size, mtime, sitemap in self._conn.execute(sql, tuple(params)):
            names.append(name)
            if name not in self._changed:
                self._cache[name] = Record(key, digest, size, mtime, family, sitemap)
        return names

    def get(self, name: str) -> Record | None:
        if name in self._cache:
            return self._cache[name]
        if self._all:
            return None
        self._load(
            "SELECT name, family, key, digest, size, mtime_ns, sitemap FROM files WHERE name = ?", (name,)
        )
        return self._cache.setdefault(name, None)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __setitem__(self, name: str, record: Record) -> None:
        self._cache[name] = record
        self._changed.add(name)

    def __delitem__(self, name: str) -> None:
        self._cache[name] = None
        self._changed.add(name)

    def update(self, records: dict[str, Record]) -> None:
        for name, record in records.items():
            self[name] = record

    def load_all(self) -> None:
        if not self._all:
            self._load("SELECT name, family, key, digest, size, mtime_ns, sitemap FROM files")
            self._all = True

    def names(self) -> list[str]:
        """Every recorded file."""
        self.load_all()
        return sorted(name for name, record in self._cache.items() if record is not None)

    def in_families(self, families: Iterable[str]) -> list[str]:
        """The recorded files of these families."""
        wanted = set(families)
        missing = sorted(wanted - self._families) if not self._all else []
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            self._load(
                "SELECT name, family, key, digest, size, mtime_ns, sitemap FROM files "
                f"WHERE family IN ({','.join('?' * len(chunk))})",
                chunk,
            )
        self._families |= wanted
        return sorted(n for n, r in self._cache.items() if r is not None and r.family in wanted)

    def sitemap(self) -> list[tuple[str, str]]:
        """(name, lastmod) of every recorded page that belongs in the sitemap."""
        found: dict[str, str] = {}
        if self._conn is not None and not self._all:
            # Their whole rows, kept as `get` would load them: the sitemap's plan asks each
            # one's family (~3,400 queries of one row at 1,000 issues, ~35 ms, before).
            cache, changed = self._cache, self._changed
            for name, family, key, digest, size, mtime, sitemap in self._conn.execute(
                "SELECT name, family, key, digest, size, mtime_ns, sitemap FROM files WHERE sitemap IS NOT NULL"
            ):
                found[name] = sitemap
                if name not in changed and name not in cache:
                    cache[name] = Record(key, digest, size, mtime, family, sitemap)
        for name in self._changed:
            found.pop(name, None)
        for name, record in self._cache.items():
            if record is not None and record.sitemap is not None and (self._all or name in self._changed):
                found[name] = record.sitemap
        for spool in self.spools:
            for name, *_, sitemap, _ in spool.rows():
                if sitemap is None:
                    found.pop(name, None)
                else:
                    found[name] = sitemap
        return sorted(found.items())

    def changes(self) -> Iterator[tuple[str, Record | None]]:
        for name in sorted(self._changed):
            yield name, self._cache[name]


@dataclass
class Manifest:
    path: Path
    conn: sqlite3.Connection | None = None
    meta: dict[str, str] = field(default_factory=dict)
    existed: bool = False  # a manifest (or an old one) was there
    legacy: bool = False  # an old build's folder without a manifest: adopt its files
    adopt: bool = False  # a manifest of another version: adopt every file the build produces
    damaged: bool = False

    def __post_init__(self) -> None:
        self.files = Files(self.conn)
        self._issues: dict[str, IssueRecord] | None = None
        self._summaries: dict[str, str] | None = None
        self._issue_changes: dict[str, IssueRecord | None] = {}
        self._families: dict[str, str | None] = {}
        self._family_changes: dict[str, str | None] = {}
        self._meta_changes: dict[str, str] = {}
        self.stamp = _stamp(self.path)
        self.racily_clean = 0  # files `stale_files` found as written by their bytes alone

    # ------------------------------------------------------------------ opening

    @classmethod
    def load(cls, out_dir: Path) -> Manifest:
        """The manifest of `out_dir`, opened for reading (nothing is created)."""
        import sqlite3

        path = out_dir / MANIFEST
        if not path.exists():
            if (out_dir / OLD_MANIFEST).exists():
                return cls(path, existed=True, adopt=True)
            return cls(path, legacy=(out_dir / LOCK_NAME).exists())
        # Read without a long transaction: a build waiting for the output lock must not keep
        # the one holding it from saving. A manifest saved meanwhile is seen under the lock
        # (`unchanged_since`), and the plan is made again.
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            meta = dict(conn.execute("SELECT key, value FROM meta"))
        except sqlite3.Error:
            return cls(path, existed=True, damaged=True)
        if meta.get("version") != VERSION:
            conn.close()
            return cls(path, existed=True, adopt=True)
        return cls(path, conn, meta, existed=True)

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
            self.conn = None

    @property
    def usable(self) -> bool:
        """A manifest of this version that can be planned from."""
        return self.conn is not None

    @property
    def state(self) -> str:
        return self._meta_changes.get("state", self.meta.get("state", ""))

    @state.setter
    def state(self, value: str) -> None:
        self._meta_changes["state"] = value

    @property
    def settings(self) -> str:
        return self._meta_changes.get("settings", self.meta.get("settings", ""))

    @settings.setter
    def settings(self, value: str) -> None:
        self._meta_changes["settings"] = value

    @property
    def saved_ns(self) -> int:
        return int(self.meta.get("saved_ns", "0"))

    def search(self, edition: str) -> dict[str, Any]:
        raw = self._meta_changes.get(f"search:{edition}", self.meta.get(f"search:{edition}", "{}"))
        value: dict[str, Any] = json.loads(raw)
        return value

    def set_search(self, edition: str, value: dict[str, Any]) -> None:
        self._meta_changes[f"search:{edition}"] = json.dumps(value, ensure_ascii=False, sort_keys=True)

    # ------------------------------------------------------------------ issues, families

    def issues(self) -> dict[str, IssueRecord]:
        """Every issue as last built, by file (facets read when asked for)."""
        if self._issues is None:
            self._issues = {}
            if self.conn is not None:
                for path, issue_id, digest, status in self.conn.execute(
                    "SELECT path, id, digest, status FROM issues"
                ):
                    self._issues[path] = IssueRecord(issue_id, digest, status, "")
        return self._issues

    def facets(self, path: str) -> dict[str, str]:
        """The facets recorded for the issue file `path` ({} if none)."""
        if path in self._issue_changes:
            found = self._issue_changes[path]
            return found.facets if found is not None else {}
        if self.conn is None:
            return {}
        row = self.conn.execute("SELECT facets FROM issues WHERE path = ?", (path,)).fetchone()
        value: dict[str, str] = json.loads(row[0]) if row else {}
        return value

    def summary(self, path: str) -> str:
        """The summary facet recorded for the issue file `path` ("" if none): the feeds'
        archive pages are keyed by every issue's, read in one query (not 1,000 facets)."""
        if path in self._issue_changes:
            found = self._issue_changes[path]
            return found.summary if found is not None else ""
        if self._summaries is None:
            self._summaries = (
                dict(self.conn.execute("SELECT path, summary FROM issues")) if self.conn is not None else {}
            )
        return self._summaries.get(path, "")

    def set_issue(self, path: str, record: IssueRecord | None) -> None:
        self._issue_changes[path] = record

    def family_key(self, family: str) -> str | None:
        if family not in self._families:
            row = (
                self.conn.execute("SELECT key FROM families WHERE family = ?", (family,)).fetchone()
                if self.conn is not None
                else None
            )
            self._families[family] = row[0] if row else None
        return self._families[family]

    def set_family_key(self, family: str, key: str | None) -> None:
        self._families[family] = key
        self._family_changes[family] = key

    def pending(self) -> set[str]:
        if self.conn is None:
            return set()
        return {row[0] for row in self.conn.execute("SELECT family FROM pending")}

    # ------------------------------------------------------------------ checking

    def stale_files(self, out_dir: Path, racy_ns: int) -> tuple[list[str], list[str]]:
        """(recorded files that are not as written: changed, deleted, not a file; every
        recorded file), by size and mtime; a file whose mtime is too close to when the
        manifest was saved is compared by its bytes (git's racily-clean rule).

        A no-change build is this check of every file the site holds (61,000 at 1,000
        issues): each is looked up from the output folder's descriptor (a shorter path for
        the kernel to walk: ~9 % of the stats), and a digest is read only for a file whose
        size and mtime cannot settle it."""
        import stat

        from .output import digest_bytes

        if self.conn is None:
            return [], []
        prefix = os.path.join(str(out_dir), "")
        saved = self.saved_ns - racy_ns
        stale = []
        names = []
        suspects = []
        racy = set()  # suspects only for their mtime's closeness to the save
        self.racily_clean = 0
        regular = stat.S_ISREG
        lookup = os.stat
        try:
            folder: int | None = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            folder = None  # no folder: every file is missing, as lstat says
        try:
            for name, size, mtime in self.conn.execute(
                "SELECT name, size, mtime_ns FROM files ORDER BY name"
            ):
                names.append(name)
                try:
                    if folder is None or name.startswith("/"):  # (a damaged manifest's name)
                        info = os.lstat(prefix + name)
                    else:
                        info = lookup(name, dir_fd=folder, follow_symlinks=False)
                except (OSError, ValueError):  # ValueError: a NUL in a damaged manifest's name
                    stale.append(name)
                    continue
                if not regular(info.st_mode):
                    stale.append(name)
                elif info.st_size != size or info.st_mtime_ns != mtime:
                    suspects.append(name)
                elif mtime >= saved:
                    suspects.append(name)
                    racy.add(name)
        finally:
            if folder is not None:
                os.close(folder)
        for name in suspects:
            row = self.conn.execute("SELECT digest FROM files WHERE name = ?", (name,)).fetchone()
            try:
                data = Path(prefix + name).read_bytes()
            except OSError:
                stale.append(name)
                continue
            if row is None or digest_bytes(data) != row[0]:
                stale.append(name)
            elif name in racy:
                self.racily_clean += 1
        stale.sort()
        return stale, names

    def mark_checked(self, out_dir: Path, checked_ns: int) -> bool:
        """Record that every file was found as written by a check that began at
        `checked_ns` (after `stale_files` found nothing stale): git's index refresh. The
        files `stale_files` compared by their bytes only because they were written close to
        the last save (a cold build's last ~700 files, 31 MB at 1,000 issues) are then
        settled by their size and mtime, instead of being read by every build until one
        saves the manifest again: a file whose mtime is over `RACY_NS` before the check
        cannot be changed later without its mtime changing; later ones stay suspects.

        Best effort, under the output folder's lock without waiting for it: False (nothing
        written) when another build holds the lock or saved the manifest since it was read."""
        import sqlite3

        from ..errors import EcdigestError
        from ..fileio import FileLock

        if self.conn is None or checked_ns <= self.saved_ns or not (out_dir / LOCK_NAME).is_file():
            return False  # (no lock file: a no-change build creates nothing)
        lock = FileLock(out_dir / LOCK_NAME, timeout=0)
        try:
            lock.acquire()
        except EcdigestError:
            return False
        try:
            if self.stamp != _stamp(self.path):
                return False
            conn = sqlite3.connect(self.path, isolation_level=None)
            try:
                conn.execute("PRAGMA busy_timeout = 0")
                conn.execute("PRAGMA synchronous = FULL")
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "UPDATE meta SET value = ? WHERE key = 'saved_ns' AND value = ?",
                    (str(checked_ns), self.meta.get("saved_ns", "0")),
                )
                conn.execute("COMMIT")
            except sqlite3.Error:
                return False
            finally:
                conn.close()
        finally:
            lock.release()
        self.meta["saved_ns"] = str(checked_ns)
        self.stamp = _stamp(self.path)
        return True

    def names(self) -> list[str]:
        """Every recorded file, sorted."""
        return list(self.iter_names())

    def iter_names(self) -> Iterator[str]:
        """Every recorded file, sorted, one at a time (a cold build's 184,000 names at 3,000
        issues need not all be held to find the few it did not write)."""
        if self.conn is not None:
            for (name,) in self.conn.execute("SELECT name FROM files ORDER BY name"):
                yield name

    def families_of(self, names: Iterable[str]) -> set[str]:
        return {record.family for name in names if (record := self.files.get(name)) is not None}

    # ------------------------------------------------------------------ saving

    def save(self, out_dir: Path, *, pending: set[str], full: bool) -> None:
        """Write every change in one transaction (the file made anew when there was no usable
        one). `full`: the build planned everything, and what it recorded is all there is."""
        import sqlite3
        import time

        reuse = self.usable
        self.close()
        path = out_dir / MANIFEST
        if not reuse:
            for suffix in ("", "-journal", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(str(path) + suffix)
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("BEGIN IMMEDIATE")
            if not reuse:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            if full:
                for table in ("files", "issues", "families", "meta"):
                    conn.execute(f"DELETE FROM {table}")
                self.files.load_all()
                records = [(n, r) for n, r in sorted(self.files._cache.items()) if r is not None]
                conn.executemany(
                    "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(n, r.family, r.key, r.digest, r.size, r.mtime_ns, r.sitemap) for n, r in records],
                )
            else:
                for name, record in self.files.changes():
                    if record is None:
                        conn.execute("DELETE FROM files WHERE name = ?", (name,))
                    else:
                        conn.execute(
                            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)", record.row(name)
                        )
            for issue_path, issue in sorted(self._issue_changes.items()):
                if issue is None:
                    conn.execute("DELETE FROM issues WHERE path = ?", (issue_path,))
                else:
                    conn.execute(
                        "INSERT OR REPLACE INTO issues VALUES (?, ?, ?, ?, ?, ?)",
                        (issue_path, issue.id, issue.digest, issue.status, issue.facets_json, issue.summary),
                    )
            for family, key in sorted(self._family_changes.items()):
                if key is None:
                    conn.execute("DELETE FROM families WHERE family = ?", (family,))
                else:
                    conn.execute("INSERT OR REPLACE INTO families VALUES (?, ?)", (family, key))
            for spool in self.files.spools:  # after the records kept here: the workers' files are theirs
                conn.executemany(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (row[:7] for row in spool.rows()),
                )
            conn.execute("DELETE FROM pending")
            conn.executemany("INSERT INTO pending VALUES (?)", [(f,) for f in sorted(pending)])
            meta = dict(self._meta_changes)
            meta["version"] = VERSION
            meta["saved_ns"] = str(time.time_ns())
            meta["generation"] = str(int(self.meta.get("generation", "0")) + 1)
            conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", sorted(meta.items()))
            conn.execute("COMMIT")
            for spool in self.files.spools:
                spool.close()
            self.files.spools = []
        except BaseException:
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(out_dir / OLD_MANIFEST)  # ours, replaced by this one


def issue_key(root: Path, path: Path) -> str:
    """An issue file's name in the manifest: its path below the archive's root. The same
    archive named another way (`--archive issues`, `--archive /srv/ecd/issues`, found from
    another folder) is the same archive: a key with the root as it was spelled made every
    issue look changed, a full re-render (65 s and 1 GB at 3,000 issues) for no change.

    The archive's paths are its root joined with a path below it: that path, cut off as
    text, is what `os.path.relpath` answers (which makes both absolute and splits them:
    ~6,000 calls were ~70 ms of a one-issue build at 1,000 issues); relpath for the rest."""
    prefix = os.path.join(str(root), "")
    text = str(path)
    if text.startswith(prefix) and len(text) > len(prefix):
        rest = text[len(prefix) :]
        if ".." not in rest.split(os.sep):
            return rest
    return os.path.relpath(path, root)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def unchanged_since(manifest: Manifest, out_dir: Path) -> bool:
    """The manifest file is still the one `manifest` was read from (no other build saved
    one meanwhile)."""
    return manifest.stamp == _stamp(out_dir / MANIFEST)
