"""Derived data under `ARCHIVE/.ecdigest/`: the one mechanism every cache of the archive uses.

The issue files are the truth. A *store* is one SQLite file derived from them (the search
index, the catalog): disposable, rebuilt silently when missing, damaged, of another schema
or built by another Unicode version, and never trusted over the files. This module owns
what the stores share, so that there is one invalidation rule, written once:

- `scan`: the issue files below the root with their size and mtime (bytes paths, scandir:
  a warm command pays a few milliseconds per thousand files, nothing more).
- The `files` table of every store: path, size, mtime, when it was checked, a BLAKE2
  digest of the bytes, and a note (what to repeat about the file while it stays as it is).
  A file is read again only when its size or mtime changed, or its mtime is too close to
  when it was checked to trust (git's "racily clean" check: an edit within the same mtime
  tick keeps both); it is parsed again only when its digest changed. Files that
  disappeared (deleted, renamed) drop out with everything the store derived from them.
  What no stat-based rule sees (git's neither): a rewrite that keeps the size and puts
  back an mtime older than that window on purpose (`touch -r`).
- Where a store lives (`places`): `ARCHIVE/.ecdigest/NAME.sqlite3`; when the archive's
  folder cannot be written, the user's cache folder; else memory.
- Opening (`open_store`): a fresh store is used inside one read transaction (its freshness
  check and the caller's queries see one state). A stale one is updated under a lock file
  next to it, in one transaction, after checking again (another process may have done it
  while we waited). A missing or unusable one is built in a temporary file renamed into
  place, so readers of the old file are never disturbed and a kill leaves nothing half-made.
- Cold builds of large archives: forked worker processes read and parse the next files
  while this one writes (parsing is Python; a thread would not overlap it).

A store says what it derives (`Store.parse`, run once per changed file and possibly in a
worker process) and how its rows are written and removed (`Store.writer`).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod

# `typing` costs milliseconds to import and this module is on every search's start-up path.
TYPE_CHECKING = False

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path
    from typing import Any, TypeAlias

    from .archive import Archive

    # The archive's issue files (scan), or a scan still under way in a thread.
    Files: TypeAlias = "dict[bytes, tuple[int, int]] | ScanInThread"

STATE_DIR = ".ecdigest"
SETTINGS_FILE = "ecdigest.toml"
MEMORY = ":memory:"
# A file modified this close to when it was checked might change again within the same
# mtime tick without its size changing: check its digest once more next time.
RACY_NS = 2_000_000_000
BUSY_TIMEOUT_MS = 30_000
# The same bound as fileio.read_bytes: a larger file is reported by the reader, not hashed.
MAX_READ_BYTES = 64 * 1024 * 1024

FILES_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files(
    id INTEGER PRIMARY KEY,
    path BLOB NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    checked_ns INTEGER NOT NULL,
    digest TEXT,
    note TEXT
);
"""

# SQLite result codes (sqlite3.Error.sqlite_errorcode & 0xFF) that mean "cannot write here".
CANNOT_WRITE = {3, 8, 10, 13, 14, 23}  # PERM, READONLY, IOERR, FULL, CANTOPEN, AUTH
CORRUPT = {11, 26}  # CORRUPT, NOTADB


class Unusable(Exception):
    """This place cannot hold the store (read-only, full, not a folder): try the next one."""


class Corrupt(Exception):
    """The store's file turned out to be damaged while querying it."""

    def __init__(self, place: str) -> None:
        super().__init__(place)
        self.place = place


def error_code(exc: BaseException) -> int:
    return int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def is_corrupt(exc: BaseException) -> bool:
    return error_code(exc) in CORRUPT


def _suppress(*errors: type[BaseException]) -> Any:
    import contextlib

    return contextlib.suppress(*errors)


# --------------------------------------------------------------------------- finding issue files


def scan(root: str) -> dict[bytes, tuple[int, int]]:
    """Issue files below `root` (relative paths, as bytes) -> (size, mtime_ns).

    The same files as `Archive.issue_paths()`: `*.toml` except the root's `ecdigest.toml`,
    hidden files and folders skipped, symlinked folders not followed. Written with scandir
    and bytes so a warm command does not pay for pathlib or for decoding 1,000 names.
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


class ScanInThread:
    """`scan(root)` in a thread of its own, started now: the 1,000 `stat` calls of a large
    archive release the GIL, so they overlap what the caller does meanwhile (loading
    SQLite's module, opening the store, reading its `files` table). `_thread`, not
    `threading`: the module costs a millisecond to import, more than it would save here."""

    __slots__ = ("_done", "_error", "_found")

    def __init__(self, root: str) -> None:
        import _thread

        self._found: dict[bytes, tuple[int, int]] | None = None
        self._error: BaseException | None = None
        self._done = _thread.allocate_lock()
        self._done.acquire()
        _thread.start_new_thread(self._run, (root,))

    def _run(self, root: str) -> None:
        try:
            self._found = scan(root)
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc
        finally:
            self._done.release()

    def result(self) -> dict[bytes, tuple[int, int]]:
        """The scan's answer, once it is complete (its error, raised here)."""
        with self._done:
            pass
        if self._error is not None:
            raise self._error
        assert self._found is not None
        return self._found


def archive_root(option: str | None) -> str:
    """`--archive`, else `$ECDIGEST_ARCHIVE`, else the nearest folder upward holding
    `ecdigest.toml`, else `./issues`: discover.py, the one resolver of every entry path."""
    from .discover import archive_root as resolve

    return resolve(option)


def is_archive(root: str) -> bool:
    """Whether `root` holds ecdigest.toml as a file (one stat)."""
    import stat

    try:
        return stat.S_ISREG(os.stat(os.path.join(root, SETTINGS_FILE)).st_mode)
    except OSError:
        return False


def settings_stamp(root: str) -> str:
    """`size:mtime` of the archive's ecdigest.toml; the one error every command gives when
    `root` is not an archive."""
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
    return f"{info.st_size}:{info.st_mtime_ns}"


# --------------------------------------------------------------------------- where a store lives


def local_place(root: str, name: str) -> str:
    """A store's usual home: `ARCHIVE/.ecdigest/NAME.sqlite3` (git-ignored)."""
    return os.path.join(root, STATE_DIR, f"{name}.sqlite3")


def cache_place(root: str, name: str) -> str:
    """Where the store of an archive in a read-only folder goes: the user's cache folder."""
    import hashlib

    cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    key = hashlib.sha256(os.fsencode(os.path.realpath(root))).hexdigest()[:20]
    return os.path.join(cache_home, "ecdigest", f"{name}-{key}.sqlite3")


def places(root: str, name: str) -> Iterator[str]:
    """Candidate locations, best first: the archive's `.ecdigest/`, the user cache, memory."""
    yield local_place(root, name)
    yield cache_place(root, name)
    yield MEMORY


def sqlite_driver() -> Any:
    """The SQLite module for a warm command: `_sqlite3`, the C extension the `sqlite3`
    package re-exports (the same `connect` and the same `Connection` and exception classes,
    so `except sqlite3.Error` catches its errors), without the package's default date and
    time adapters, whose `datetime` import was ~1 ms of every search's start. No store binds
    a date or a time: every value is text, a number or bytes.

    Loaded without `functools` when nothing loaded it yet (`_load_without_functools`)."""
    import sys

    driver = sys.modules.get("_sqlite3")
    if driver is not None:
        return driver
    try:
        if "functools" in sys.modules:
            import _sqlite3 as driver
        else:
            driver = _load_without_functools()
    except ImportError:  # pragma: no cover - an interpreter that ships only the package
        return __import__("sqlite3")
    return driver


class _CacheInfo(tuple):  # type: ignore[type-arg]
    """`functools.lru_cache`'s `cache_info()` result, (hits, misses, maxsize, currsize)."""

    __slots__ = ()

    def __new__(cls, hits: int, misses: int, maxsize: int | None, currsize: int) -> _CacheInfo:
        return tuple.__new__(cls, (hits, misses, maxsize, currsize))


def lru_cache(maxsize: Any = 128, typed: bool = False) -> Any:
    """`functools.lru_cache(maxsize, typed)` for an int or None `maxsize`, made the way
    functools makes it (the C `_functools._lru_cache_wrapper`), without importing functools;
    anything else is functools' own answer."""
    if maxsize is not None and not isinstance(maxsize, int):
        import functools

        return functools.lru_cache(maxsize, typed)
    from _functools import _lru_cache_wrapper  # type: ignore[import-not-found]  # functools' own C cache

    size = None if maxsize is None else max(maxsize, 0)
    return lambda function: _lru_cache_wrapper(function, size, typed, _CacheInfo)


def _load_without_functools(name: str = "_sqlite3") -> Any:
    """`import _sqlite3` when `functools` is not loaded: CPython's `_sqlite3` takes
    `functools.lru_cache` when it loads (each connection's statement cache is one) and
    nothing else from it, and functools brings `collections`, `types` and a `namedtuple`
    compiled by `exec`: ~1-2 ms of every search's start (the command itself needs none of
    them). For that one moment `functools` is a module holding only `lru_cache` above (the
    same C cache); it is taken out again at once, so any later `import functools` loads the
    real one. A module that asks for more than that fails this way and is loaded again the
    usual way (`name`: the module, for tests). Only a process that has not loaded functools
    takes this way: one without `threading` (which loads it), whose only other thread is
    the archive's scan (`ScanInThread`: `_thread`, no import), so no one else can see the
    stand-in."""
    import sys

    stand_in = type(sys)("functools")
    stand_in.lru_cache = lru_cache  # type: ignore[attr-defined]
    sys.modules["functools"] = stand_in
    driver: Any = None
    try:
        driver = __import__(name)
    except Exception:  # it asked for more than lru_cache (or is missing): the usual way below
        sys.modules.pop(name, None)
    finally:
        if sys.modules.get("functools") is stand_in:
            del sys.modules["functools"]
    return driver if driver is not None else __import__(name)


def connect(place: str, busy_ms: int = BUSY_TIMEOUT_MS, *, read_only: bool = False) -> sqlite3.Connection:
    """`read_only`: never creates the file (a reader that comes late must not leave an
    empty database where a store was deleted), never writes to it."""
    driver = sqlite_driver()
    if read_only:
        uri = "file:" + place.replace("%", "%25").replace("?", "%3f").replace("#", "%23") + "?mode=ro"
        conn: sqlite3.Connection = driver.connect(
            uri, isolation_level=None, check_same_thread=False, uri=True
        )
    else:
        conn = driver.connect(place, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
    return conn


def discard(place: str) -> None:
    """Remove a damaged store (and its journals) so that the next open rebuilds it."""
    if place == MEMORY:
        return
    for suffix in ("", "-journal", "-wal", "-shm"):
        with _suppress(OSError):
            os.unlink(place + suffix)


# --------------------------------------------------------------------------- what a store derives


class Store(ABC):
    """One kind of derived data: its tables, versions, and what it derives from a file."""

    name = ""  # the file is NAME.sqlite3
    schema_version = 0  # PRAGMA user_version; any other value is rebuilt
    schema = ""  # the store's own tables (meta and files come from FILES_SCHEMA)
    build_pragmas: tuple[str, ...] = ()  # for the cold build's private temporary file
    workers = 1  # processes preparing files for a cold build of a large archive
    # Scan the archive in a thread while the store is opened (ScanInThread): for a store
    # whose commands start fast and open it at once (the search index).
    scan_in_thread = False
    parallel_from = 64  # below this many files a cold build prepares them itself

    def versions(self) -> dict[str, str]:
        """Meta values the store was built with; a store with other values is rebuilt."""
        return {}

    def names(self) -> frozenset[str]:
        """The tables and indexes the schema creates (a store missing one is rebuilt)."""
        found = set()
        for line in (FILES_SCHEMA + self.schema).splitlines():
            words = line.split()
            if len(words) > 3 and words[0] == "CREATE":
                name = words[3] if words[1] == "VIRTUAL" else words[2]
                found.add(name.split("(")[0])
        return frozenset(found)

    def settings(self, archive: Archive) -> dict[str, str]:
        """Meta values taken from ecdigest.toml, stored again whenever it changes."""
        return {}

    def build_order(self, root: str, paths: list[bytes]) -> list[bytes]:
        """The order a cold build adds the files in (default: their paths, sorted)."""
        return sorted(paths)

    def needs_rebuild(self, conn: sqlite3.Connection) -> bool:
        """After an update: whether the store is better built afresh (e.g. its rows have
        drifted out of an order its queries rely on for speed)."""
        return False

    def before_build(self, conn: sqlite3.Connection) -> None:
        """Called on a new, empty store before every file is added (outside a transaction)."""
        return None  # a hook: nothing to do unless a store needs it

    def after_build(self, conn: sqlite3.Connection) -> None:
        """Called once every file was added (outside a transaction): merging, compacting."""
        return None  # a hook: nothing to do unless a store needs it

    @abstractmethod
    def parse(self, archive: Archive, path: Path, data: bytes | None) -> tuple[Any, str | None]:
        """(payload, note) for one file; `data` is None when it could not be read here.

        No SQL: this may run in a worker process (the payload is pickled back).
        """

    @abstractmethod
    def writer(self, conn: sqlite3.Connection) -> StoreWriter:
        """The writer of this store's rows, in the caller's transaction."""


class StoreWriter(ABC):
    """Writes and removes what a store derived from one file, in the caller's transaction."""

    @abstractmethod
    def insert(self, file_id: int, payload: Any) -> None:
        """Add what `Store.parse` derived from the file numbered `file_id`."""

    @abstractmethod
    def delete(self, file_id: int) -> None:
        """Remove every row derived from the file numbered `file_id`."""


class Prepared:
    """One issue file read, hashed and (when changed) parsed, ready to be written."""

    __slots__ = ("digest", "file_id", "mtime", "note", "path", "payload", "size", "unchanged")

    def __init__(self, path: bytes, file_id: int | None) -> None:
        self.path = path
        self.file_id = file_id
        self.size = self.mtime = -1
        self.digest: str | None = None
        self.note: str | None = None
        self.unchanged = False
        self.payload: Any = None


def digest_bytes(data: bytes) -> str:
    return blake2b_hex(data, 16)


def blake2b_hex(data: bytes, size: int) -> str:
    """`hashlib.blake2b(data, digest_size=size).hexdigest()`: the same function (hashlib's
    blake2b is `_blake2`'s), without importing hashlib, which loads OpenSSL (~2 ms of every
    command that reads a changed file, `add` after its write)."""
    try:
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - an interpreter built without it
        from hashlib import blake2b
    return blake2b(data, digest_size=size).hexdigest()


def read_file(full: str) -> tuple[int, int, bytes | None] | None:
    """(size, mtime_ns, bytes) of a regular file; bytes None when it cannot be read here
    (the store's parser then reports why); None when the file is gone.

    Stat before reading: a change made while we read shows as a newer mtime next time.
    Opened without blocking, so a FIFO named like an issue file cannot hang a command.
    """
    import stat

    try:
        fd = os.open(full, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError:
        try:
            info = os.stat(full)
        except FileNotFoundError:
            return None
        except OSError:
            return -1, -1, None
        return info.st_size, info.st_mtime_ns, None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_READ_BYTES:
            return info.st_size, info.st_mtime_ns, None
        chunks = []
        while True:
            chunk = os.read(fd, max(info.st_size + 1, 65536))
            if not chunk:
                break
            chunks.append(chunk)
        return info.st_size, info.st_mtime_ns, b"".join(chunks)
    except OSError:
        return -1, -1, None
    finally:
        os.close(fd)


def prepare(
    store: Store,
    archive: Callable[[], Archive],
    root: str,
    path: bytes,
    stored: tuple[int, str | None] | None,
) -> Prepared | None:
    """Read and hash one file, and parse it when its digest differs from the `stored` one;
    None when the file is gone. No SQL."""
    from pathlib import Path

    prepared = Prepared(path, stored[0] if stored else None)
    full = os.path.join(root, os.fsdecode(path))
    found = read_file(full)
    if found is None:
        return None
    prepared.size, prepared.mtime, data = found
    if data is not None:
        prepared.digest = digest_bytes(data)
        if stored is not None and stored[1] == prepared.digest:
            prepared.unchanged = True
            return prepared
    prepared.payload, prepared.note = store.parse(archive(), Path(full), data)
    return prepared


# --------------------------------------------------------------------------- changes


class Changes:
    __slots__ = ("changed", "racy", "removed", "settings")

    def __init__(
        self,
        changed: list[bytes],
        removed: list[bytes],
        settings: bool,
        racy: dict[bytes, str | None] | None = None,
    ) -> None:
        self.changed = changed
        self.removed = removed
        self.settings = settings
        # The changed files whose size and mtime are as stored, there only because they were
        # checked within RACY_NS of their mtime: path -> the stored digest.
        self.racy = racy or {}

    def __bool__(self) -> bool:
        return bool(self.changed or self.removed or self.settings)


def changes(conn: sqlite3.Connection, files: Files, stamp: str) -> Changes:
    """The one invalidation rule: which files to read again, which are gone, whether
    ecdigest.toml changed. `files` may be a scan still under way (its `result` is asked
    for once the stored rows are read)."""
    stored = {
        row[0]: row[1:] for row in conn.execute("SELECT path, size, mtime_ns, checked_ns, digest FROM files")
    }
    files = _scanned(files)
    changed: list[bytes] = []
    racy: dict[bytes, str | None] = {}
    for path, (size, mtime) in files.items():
        old = stored.pop(path, None)
        if old is None or old[0] != size or old[1] != mtime:
            changed.append(path)
        elif abs(old[2] - mtime) < RACY_NS:
            changed.append(path)
            racy[path] = old[3]
    settings = conn.execute("SELECT value FROM meta WHERE key = 'settings'").fetchone()
    return Changes(sorted(changed), sorted(stored), settings is None or settings[0] != stamp, racy)


def same_bytes(root: str, found: Changes, files: dict[bytes, tuple[int, int]]) -> bool:
    """Whether every change in `found` is a racy file that still holds the bytes the store
    read (its digest), with the stat it was stored with: the store is right about it, and
    an update would only note when it was checked. Only within RACY_NS of such a file's
    mtime (a few files at most: the ones just written); later, the update is made once, so
    the file stops being racy and is not read again by every command."""
    import time

    if found.removed or found.settings or len(found.racy) != len(found.changed) or len(found.racy) > 8:
        return False
    now = time.time_ns()
    for path, digest in found.racy.items():
        size, mtime = files[path]
        if digest is None or now - mtime >= RACY_NS:
            return False
        got = read_file(os.path.join(root, os.fsdecode(path)))
        if (
            got is None
            or got[2] is None
            or (got[0], got[1]) != (size, mtime)
            or digest_bytes(got[2]) != digest
        ):
            return False
    return True


# --------------------------------------------------------------------------- updating


def _fork_context() -> Any:
    import multiprocessing

    try:
        return multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - platforms without fork prepare in one process
        return None


def _prepare_worker(
    store: Store,
    archive: Callable[[], Archive],
    root: str,
    paths: Sequence[bytes],
    results: Any,
    parent: int,
) -> None:
    """A cold build's worker process: prepare its share of the files, in order, into `results`.

    Stops by itself when the parent (`parent`, its pid as the parent gave it) is gone
    (killed): nobody would take its results. The pid comes from the parent, not from
    getppid() here: a parent killed between the fork and this line would make the worker
    take init for its parent and wait forever.
    """
    import queue
    import signal
    import threading
    import time

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us

    def watchdog() -> None:
        # Whatever this process is blocked on (a full queue, the queue's flush at exit),
        # it ends when the parent is gone: an orphan would hold the queue's pipe forever.
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watchdog, daemon=True).start()

    def put(item: object) -> None:
        while True:
            try:
                results.put(item, timeout=0.5)
                return
            except queue.Full:
                if os.getppid() != parent:
                    os._exit(0)

    path = b""
    try:
        for path in paths:
            put(prepare(store, archive, root, path, None))
            if os.getppid() != parent:
                os._exit(0)
    except BaseException as exc:
        put(RuntimeError(f"reading {os.fsdecode(path)} failed: {type(exc).__name__}: {exc}"))


class Updater:
    """Adds, replaces and removes files of a store, in the caller's transaction."""

    # How many files each worker prepares ahead of the one being written.
    LOOKAHEAD = 4

    def __init__(self, store: Store, conn: sqlite3.Connection, root: str) -> None:
        self.store = store
        self.conn = conn
        self.root = root
        self._archive: Archive | None = None
        self.writer = store.writer(conn)

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

    def refresh(self, path: bytes) -> None:
        self.apply(prepare(self.store, self.archive, self.root, path, self.stored(path)))

    def add_all(self, paths: list[bytes]) -> None:
        """Add every file to an empty store; large archives prepare in worker processes."""
        store = self.store
        context = _fork_context() if len(paths) >= store.parallel_from else None
        workers = max(1, min(store.workers, len(paths)))
        if context is None:
            for path in paths:
                self.apply(prepare(store, self.archive, self.root, path, None))
            return
        import queue as queues

        self.archive()  # opened here, inherited by the workers
        results = [context.Queue(maxsize=self.LOOKAHEAD) for _ in range(workers)]
        procs = [
            context.Process(
                target=_prepare_worker,
                args=(store, self.archive, self.root, paths[k::workers], results[k], os.getpid()),
                daemon=True,
            )
            for k in range(workers)
        ]
        for proc in procs:
            proc.start()
        try:
            for number in range(len(paths)):
                source, proc = results[number % workers], procs[number % workers]
                while True:
                    try:
                        item = source.get(timeout=1.0)
                        break
                    except queues.Empty:
                        if not proc.is_alive():
                            raise RuntimeError(f"a worker stopped (exit code {proc.exitcode})") from None
                if isinstance(item, BaseException):
                    raise item
                self.apply(item)
            for proc in procs:
                proc.join()
        finally:
            for proc in procs:
                if proc.is_alive():
                    proc.terminate()
                    proc.join()
            for queue in results:
                queue.close()

    def remove(self, path: bytes) -> None:
        stored = self.stored(path)
        if stored is not None:
            self.writer.delete(stored[0])
            self.conn.execute("DELETE FROM files WHERE id = ?", (stored[0],))

    def apply(self, prepared: Prepared | None) -> None:
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
        values = (prepared.path, prepared.size, prepared.mtime, checked, prepared.digest, prepared.note)
        if file_id is None:
            cursor = self.conn.execute(
                "INSERT INTO files(path, size, mtime_ns, checked_ns, digest, note) VALUES (?, ?, ?, ?, ?, ?)",
                values,
            )
            file_id = int(cursor.lastrowid or 0)
        else:
            self.writer.delete(file_id)
            self.conn.execute(
                "UPDATE files SET path = ?, size = ?, mtime_ns = ?, checked_ns = ?, digest = ?, note = ? "
                "WHERE id = ?",
                (*values, file_id),
            )
        self.writer.insert(file_id, prepared.payload)


def _is_current(store: Store, conn: sqlite3.Connection, root: str, place: str) -> bool:
    """Same schema and versions; for a store kept outside the archive, the same archive."""
    sqlite3 = sqlite_driver()

    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] != store.schema_version:
            return False
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError:
        return False
    if not store.names() <= names:
        return False
    if any(meta.get(key) != value for key, value in store.versions().items()):
        return False
    return place == local_place(root, store.name) or meta.get("root") == os.path.realpath(root)


def _create(store: Store, conn: sqlite3.Connection) -> None:
    conn.executescript(FILES_SCHEMA + store.schema + f"\nPRAGMA user_version = {store.schema_version};\n")


def _update(
    store: Store,
    conn: sqlite3.Connection,
    root: str,
    files: dict[bytes, tuple[int, int]],
    stamp: str,
    *,
    full: bool = False,
    found: Changes | None = None,
) -> None:
    """Bring `conn` up to date with the archive in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        updater = Updater(store, conn, root)
        if full or found is None:
            updater.add_all(store.build_order(root, list(files)))
        else:
            for path in found.removed:
                updater.remove(path)
            for path in found.changed:
                updater.refresh(path)
        meta = {**store.versions(), "root": os.path.realpath(root)}
        if full or found is None or found.settings:
            meta.update(store.settings(updater.archive()), settings=stamp)
        conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", meta.items())
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _build(
    store: Store, conn: sqlite3.Connection, root: str, files: dict[bytes, tuple[int, int]], stamp: str
) -> None:
    """Create the store's tables in an empty database and add every file."""
    _create(store, conn)
    store.before_build(conn)
    _update(store, conn, root, files, stamp, full=True)
    store.after_build(conn)


def _rebuild(store: Store, place: str, root: str, files: dict[bytes, tuple[int, int]], stamp: str) -> None:
    """A fresh store in a temporary file, renamed over the old one (which readers may still use)."""
    temp = f"{place}.{os.getpid()}.tmp"
    # Builds killed half-way left their temporary files; we hold the lock, so none is alive.
    folder, name = os.path.split(place)
    for entry in os.listdir(folder or "."):
        if entry.startswith(name + ".") and entry.endswith(".tmp"):
            discard(os.path.join(folder, entry))
    conn = connect(temp)
    try:
        # Nothing to protect in a file nobody else sees yet: no journal, no fsync until the end.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        for pragma in store.build_pragmas:
            conn.execute(pragma)
        _build(store, conn, root, files, stamp)
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


def _begin_reading(conn: sqlite3.Connection) -> None:
    """Start the read transaction a command runs in (freshness check and queries see one state)."""
    conn.execute("BEGIN")


def _open_if_fresh(
    store: Store, place: str, root: str, files: Files, stamp: str
) -> sqlite3.Connection | None:
    """The store at `place` in a read transaction if it needs no change (the common case)."""
    sqlite3 = sqlite_driver()

    try:
        conn = connect(place)
    except sqlite3.Error:
        return None
    try:
        _begin_reading(conn)
        if _is_current(store, conn, root, place):
            found = changes(conn, files, stamp)
            if not found or same_bytes(root, found, _scanned(files)):
                return conn
    except sqlite3.DatabaseError:
        pass
    conn.close()
    return None


def _ready_locked(
    store: Store, place: str, root: str, files: dict[bytes, tuple[int, int]], stamp: str
) -> sqlite3.Connection:
    """Build or update under the lock; another process may have done it while we waited."""
    from pathlib import Path

    from .errors import WriteError
    from .fileio import FileLock

    sqlite3 = sqlite_driver()  # its exception classes; not the package (~0.5 ms to import)
    folder = os.path.dirname(place)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise Unusable(f"{folder}: {exc.strerror}") from None
    lock = FileLock(Path(place + ".lock"))
    try:
        lock.acquire()
    except WriteError as exc:  # the folder cannot be written (a timeout is not this)
        raise Unusable(str(exc)) from None
    try:
        conn = None
        if os.path.isfile(place):
            try:
                conn = connect(place)
                if not _is_current(store, conn, root, place):
                    conn.close()
                    conn = None
            except sqlite3.DatabaseError:
                if conn is not None:
                    conn.close()
                conn = None
        try:
            if conn is None:
                _rebuild(store, place, root, files, stamp)
                conn = connect(place)
            else:
                found = changes(conn, files, stamp)
                if found:
                    _update(store, conn, root, files, stamp, found=found)
                    if store.needs_rebuild(conn):
                        conn.close()
                        conn = None
                        _rebuild(store, place, root, files, stamp)
                        conn = connect(place)
        except (OSError, sqlite3.OperationalError) as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, OSError) or error_code(exc) in CANNOT_WRITE:
                raise Unusable(f"{place}: {exc}") from None
            raise
        _begin_reading(conn)
        return conn
    finally:
        lock.release()


def _scanned(files: Files) -> dict[bytes, tuple[int, int]]:
    return files if isinstance(files, dict) else files.result()


def _ready(store: Store, place: str, root: str, files: Files, stamp: str) -> sqlite3.Connection:
    if place == MEMORY:
        conn = connect(MEMORY)
        _build(store, conn, root, _scanned(files), stamp)
        _begin_reading(conn)
        return conn
    if os.path.isfile(place):
        fresh = _open_if_fresh(store, place, root, files, stamp)
        if fresh is not None:
            return fresh
    return _ready_locked(store, place, root, _scanned(files), stamp)


class Unchecked:
    """A store opened while the archive is still being scanned (`open_unchecked`): its
    answers hold only if `fresh()` says, once the scan is done, that no file changed."""

    __slots__ = ("conn", "files", "place", "root", "stamp")

    def __init__(
        self, conn: sqlite3.Connection | None, place: str, root: str, files: ScanInThread, stamp: str
    ) -> None:
        self.conn = conn
        self.place = place
        self.root = root
        self.files = files
        self.stamp = stamp

    def fresh(self) -> bool:
        """Whether the store as this read transaction sees it is the archive as scanned: the
        one invalidation rule (`changes`), asked in the transaction the answers came from,
        with the same allowance `open_store` makes for files checked within RACY_NS of their
        mtime whose bytes still have the stored digest (`same_bytes`): a search right after
        a write is not asked twice."""
        if self.conn is None:
            return False
        try:
            found = changes(self.conn, self.files, self.stamp)
            return not found or same_bytes(self.root, found, _scanned(self.files))
        except sqlite_driver().DatabaseError:
            return False

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def open_unchecked(store: Store, root: str, files: ScanInThread | None = None) -> Unchecked:
    """The store at its usual place in a read transaction, without waiting for the scan
    of the archive (it runs in a thread): the caller answers from it meanwhile and keeps
    the answer only if `fresh()`; else it opens the store the usual way (`open_store` with
    this scan: the same moment of the archive). `conn` is None when the store is missing
    or of another version. `files`: a scan of `root` the caller started earlier."""
    stamp = settings_stamp(root)
    files = ScanInThread(root) if files is None else files
    place = local_place(root, store.name)
    if os.path.isfile(place):
        sqlite3 = sqlite_driver()
        try:
            conn = connect(place)
        except sqlite3.Error:
            return Unchecked(None, place, root, files, stamp)
        try:
            _begin_reading(conn)
            if _is_current(store, conn, root, place):
                return Unchecked(conn, place, root, files, stamp)
        except sqlite3.DatabaseError:
            pass
        conn.close()
    return Unchecked(None, place, root, files, stamp)


def open_store(
    store: Store, root: str, *, files: Files | None = None, stamp: str | None = None
) -> tuple[sqlite3.Connection, str]:
    """The store of the archive at `root`, up to date, in a read transaction; and its place.
    `files` and `stamp`: the archive as already scanned (see `open_unchecked`)."""
    stamp = settings_stamp(root) if stamp is None else stamp
    if files is None:
        files = ScanInThread(root) if store.scan_in_thread else scan(root)
    last: Unusable | None = None
    for place in places(root, store.name):
        try:
            return _ready(store, place, root, files, stamp), place
        except Unusable as exc:
            last = exc
    from .errors import WriteError

    raise WriteError(f"cannot keep the {store.name} cache anywhere: {last}")
