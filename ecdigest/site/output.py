"""The output folder: what `build` writes, so it can rewrite only what changed, remove what
it no longer produces, and never touch a file it did not write.

The manifest (site/manifest.py) records, for every file the build wrote: the key of its
inputs (a digest of everything its bytes depend on: the data shown, the settings, the
templates, ecdigest's version), the digest of the bytes written, and the size and mtime
they had. A build:

- skips a file whose key is unchanged and whose size and mtime are as recorded;
- re-renders a file whose key changed, and writes it if its bytes differ;
- removes a recorded file it no longer produces (an unpublished issue's page, a renamed
  tag's page) when it still holds the bytes written;
- leaves alone, and reports, a file changed by hand since it was written (its digest
  differs from the record) and a file in the way that it did not write: never silently
  overwritten or deleted. `--force` replaces or removes them. A hand change is reported
  on every build until it is resolved (the file deleted or restored, or --force): its
  family is planned again by each build (the manifest's `pending`), and a build with
  nothing changed stats every file.
- A file that already holds exactly the bytes to write is taken as written (a build
  killed after writing it and before recording it left it so).
- Folders written by ecdigest before the manifest existed (a `.ecdigest-build.lock` and no
  manifest) are adopted: the files the old build wrote (feed.xml, atom.xml, ISSUE.md,
  email/*) are taken as its own; so is every file a build produces where a manifest of
  another version lies. A damaged manifest vouches for nothing: files in the way are
  reported.

Writes are atomic (temporary file, rename). A build that writes a few files fsyncs each;
one that writes thousands (a cold build) syncs the file system once instead; either way
before the manifest is written, so the manifest never describes bytes a power cut could
lose.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from ..errors import WriteError
from .manifest import Manifest, Record, Spool

RACY_NS = 2_000_000_000
# A build writing up to this many files fsyncs each (an edit's build: milliseconds); a larger
# one (a cold build) syncs the file system once instead.
FSYNC_FILES = 256
# What the build wrote before it kept a manifest.
_LEGACY = re.compile(
    r"^(feed\.xml|atom\.xml|[A-Za-z0-9][A-Za-z0-9._-]*\.md|email/[A-Za-z0-9][A-Za-z0-9._-]*\.(txt|eml))$"
)


def digest_bytes(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass
class Conflict:
    path: str
    reason: str  # "changed" (by hand since written) | "foreign" (not written by ecdigest)
    action: str  # what the build wanted: "write" | "remove"

    def message(self) -> str:
        if self.reason == "changed":
            what = "was changed since ecdigest wrote it"
        else:
            what = "was not written by ecdigest"
        wanted = "replace it" if self.action == "write" else "remove it"
        return f"{what}; left as it is (ecdigest wanted to {wanted}: delete the file, or build with --force)"


class Writer:
    """Writes planned files into `out_dir` under the manifest's rules."""

    def __init__(self, out_dir: Path, manifest: Manifest, *, force: bool = False) -> None:
        self.out = out_dir
        self.manifest = manifest
        self.force = force
        self.written: list[str] = []
        self.unchanged: list[str] = []
        self.removed: list[str] = []
        self.conflicts: list[Conflict] = []
        self._swept: set[str] = set()  # folders written into (as strings: see _write)
        self.records: dict[str, Record] = {}  # what this process recorded (a worker reports it)
        # A forked worker's records go to its spool, not to memory (the parent's save reads
        # them back), but for `repeated` names (planned more than once: the next write of
        # one must know this one's record).
        self.spool: Spool | None = None
        self.repeated: set[str] = set()
        self.spooled = 0  # files written whose names are in the spool, not in `written`
        self.pending: set[str] = set()  # families with a conflict: planned again next time
        # A bulk write (the parent of a cold build's workers): no fsync per file, one sync of
        # the file system at the save instead (`unsynced` says one is owed).
        self.bulk = False
        self.unsynced = False
        self._root = out_dir.resolve()
        self._prefix = os.path.join(str(out_dir), "")

    # ------------------------------------------------------------------ paths

    def target(self, name: str) -> Path:
        from ..build import target

        return target(self.out, name)

    def _stat(self, path: Path | str) -> os.stat_result | None:
        try:
            return os.stat(path, follow_symlinks=False)
        except OSError:
            return None

    def _hand_changed(self, name: str, record: Record, info: os.stat_result) -> bool:
        """The file no longer holds what was written. Size and mtime as recorded mean it does,
        unless the mtime is too close to when the manifest was saved to tell an edit in the
        same clock tick apart (git's racily-clean rule): then the bytes are compared."""
        if not stat.S_ISREG(info.st_mode):
            return True  # a FIFO, a folder, a link where a file was: never read it
        same_stat = (info.st_size, info.st_mtime_ns) == (record.size, record.mtime_ns)
        if same_stat and record.mtime_ns < self.manifest.saved_ns - RACY_NS:
            return False
        try:
            data = (self.out / name).read_bytes()
        except OSError:
            return True
        if digest_bytes(data) == record.digest:
            record.size, record.mtime_ns = info.st_size, info.st_mtime_ns
            return False
        return True

    # ------------------------------------------------------------------ deciding

    def fresh(self, name: str, key: str) -> bool:
        """Nothing to do for `name`: written with this key and still as written."""
        record = self.manifest.files.get(name)
        if record is None or record.key != key:
            return False
        info = self._stat(self._prefix + name)
        if info is None:
            return False
        return not self._hand_changed(name, record, info)

    # ------------------------------------------------------------------ writing

    def put(self, name: str, key: str, data: bytes, *, family: str, sitemap: str | None = None) -> None:
        """Write `name` (if its bytes changed) and record it; conflicts are reported."""
        path: Path | str = self._prefix + name  # a string: a cold build writes 61,000 files
        info = self._stat(path)
        if info is not None and stat.S_ISLNK(info.st_mode):
            # A link out of the folder is refused; one inside it is written through (the
            # link stays, its target gets the bytes: fileio.write_target, as every write).
            from ..fileio import write_target

            self.target(name)
            path = write_target(self.out / name)
            info = self._stat(path)
        record = self.manifest.files.get(name)
        same = info is not None and stat.S_ISREG(info.st_mode) and _same(path, data)
        if info is not None and not same and not self.force:
            if record is not None and self._hand_changed(name, record, info):
                self._smudge(name, record)
                self.conflict(Conflict(name, "changed", "write"), family)
                return
            adopted = self.manifest.adopt or (self.manifest.legacy and _LEGACY.match(name))
            if record is None and not adopted:
                self.conflict(Conflict(name, "foreign", "write"), family)
                return
        if same:
            assert info is not None
            self.unchanged.append(name)
            current = info
        else:
            current = self._write(name, os.fspath(path), data, existed=info is not None)
        record = Record(key, digest_bytes(data), current.st_size, current.st_mtime_ns, family, sitemap)
        if self.spool is not None:
            # Its name too, when written: a name kept per file would pin the small-object
            # arenas it lands in, as a forked worker renders and frees page after page.
            self.spool.add(name, record, written=not same)
            self.spooled += not same
            if name in self.repeated:
                self.manifest.files[name] = self.records[name] = record
            return
        if not same:
            self.written.append(name)
        self.manifest.files[name] = self.records[name] = record

    def _smudge(self, name: str, record: Record) -> None:
        """Keep `name`, changed by hand, a suspect: its record no longer vouches for it by
        size and mtime (git's smudged index entry). Else a hand edit that kept them (found
        by its bytes only because its mtime was close to the last save: a file system with
        coarse timestamps) would be settled by its stat once a later save moved the racy
        window past it: its conflict no longer reported, the edit overwritten by the next
        build that plans it. Put back as written, it is recognised by its bytes again."""
        smudged = Record(record.key, record.digest, -1, -1, record.family, record.sitemap)
        if self.spool is not None:
            self.spool.add(name, smudged)
        else:
            self.manifest.files[name] = smudged

    def conflict(self, conflict: Conflict, family: str) -> None:
        self.conflicts.append(conflict)
        self.pending.add(family)

    def check(self, names: set[str]) -> None:
        """Before the first write: each of `names` that exists is a regular file, or a link
        inside the output folder to one (a FIFO at an output path would hang the build,
        a device would be replaced): WriteError otherwise."""
        from ..fileio import write_target

        for name in sorted(names):
            info = self._stat(self._prefix + name)
            if info is None or stat.S_ISREG(info.st_mode):
                continue
            if stat.S_ISLNK(info.st_mode):
                self.target(name)
            write_target(self.out / name)

    def keep(self, name: str) -> None:
        """`name` is fresh: counted as unchanged."""
        self.unchanged.append(name)

    def _write(self, name: str, path: str, data: bytes, *, existed: bool) -> os.stat_result:
        """Write atomically; the folder is checked (inside the output folder) and swept of
        dead writers' temporary files the first time this build writes into it. `existed`:
        the caller's stat found a file there (said in an error; not a second stat per file).

        Through the file descriptor itself (os.open, os.write): `open()` adds a stat, an
        ioctl and a seek to every file (three system calls of nine), and its buffered file
        object; a cold build writes 61,000 files at 1,000 issues."""
        from ..fileio import _describe, sweep_temp_files, temp_name

        folder, base = os.path.split(path)
        if folder not in self._swept:
            if "/" in name:
                self.target(name.rsplit("/", 1)[0])
            try:
                Path(folder).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WriteError(f"cannot create the folder: {_describe(exc)}", path=Path(folder)) from None
            sweep_temp_files(Path(folder))
            self._swept.add(folder)
        tmp = os.path.join(folder, temp_name(base))
        fd = -1
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if len(self.written) + self.spooled < FSYNC_FILES and not self.bulk:
                os.fsync(fd)
            else:
                self.unsynced = True
            written = os.fstat(fd)
            closing, fd = fd, -1
            os.close(closing)
            os.replace(tmp, path)
        except OSError as exc:
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            outcome = "the previous file is unchanged" if existed else "nothing was written"
            raise WriteError(f"cannot write: {_describe(exc)}; {outcome}", path=Path(path)) from None
        return written

    def remove_stale(self, produced: set[str], families: set[str] | None) -> None:
        """Remove recorded files the build no longer produces (unless changed by hand): of
        the planned `families`, or of all (None: everything was planned)."""
        names = self.manifest.files.names() if families is None else self.manifest.files.in_families(families)
        for name in names:
            if name in produced:
                continue
            record = self.manifest.files.get(name)
            assert record is not None
            path = self.out / name
            info = self._stat(path)
            if info is None:
                del self.manifest.files[name]
                continue
            if not self.force and self._hand_changed(name, record, info):
                self.conflict(Conflict(name, "changed", "remove"), record.family)
                continue
            try:
                self.target(name).unlink()
            except OSError as exc:
                raise WriteError(f"cannot remove: {exc.strerror}", path=path) from None
            del self.manifest.files[name]
            self.removed.append(name)
            self._prune(path.parent)

    def _prune(self, folder: Path) -> None:
        """Remove folders the build emptied (never the output folder itself)."""
        while folder != self.out and folder.resolve() != self._root:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def save(self, *, full: bool) -> None:
        """Sync what was written, then record it (site/manifest.py)."""
        if len(self.written) >= FSYNC_FILES or self.unsynced:
            with contextlib.suppress(AttributeError):
                os.sync()  # the files past the first FSYNC_FILES were not synced one by one
        from ..fileio import fsync_dir

        for folder in self._swept:
            fsync_dir(Path(folder))
        self.manifest.save(self.out, pending=self.pending, full=full)


def _same(path: Path | str, data: bytes) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(data) + 1) == data
    except OSError:
        return False
