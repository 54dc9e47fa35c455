"""Safe file I/O: atomic writes, write-only-if-changed, locks, and bounded reads.

A write goes to a temporary file in the target's folder, is fsynced, then renamed over
the target (and the folder fsynced), so a reader or a kill at any moment sees either the
old bytes or the new ones. Temporary files carry the writer's pid; ones left behind by a
killed process are swept on the next write to the same folder.

Where a write lands (`write_target`), the one rule for every write: a symlink is written
through (its target is replaced atomically and the link stays, so neither a stale target
nor a silently replaced link is left behind); a FIFO, socket, device or folder is never
opened, never replaced by a regular file, but refused.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import EcdigestError, InputError, UsageError, WriteError

MAX_READ_BYTES = 64 * 1024 * 1024
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp$")


def _describe(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if exc.errno == errno.EDQUOT:
        return "disk quota exceeded"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    return exc.strerror or str(exc)


def temp_path(path: Path) -> Path:
    return path.with_name(temp_name(path.name))


def temp_name(name: str) -> str:
    """The name of a temporary file beside `name` (what `sweep_temp_files` recognises)."""
    # os.urandom, not secrets: `secrets` pulls in hashlib, hmac and random, ~5 ms of every
    # command's start-up, for a name that only has to differ from a concurrent writer's.
    return f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"


def is_temp_file(name: str) -> bool:
    return bool(_TEMP.match(name))


def sweep_temp_files(folder: Path, *, max_age: float = 86400.0) -> None:
    """Remove temporary files of writers that died (pid gone, or older than a day)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        match = _TEMP.match(entry.name)
        if not match:
            continue
        pid = int(match["pid"])
        stale = pid != os.getpid() and not _alive(pid)
        with contextlib.suppress(OSError):
            if stale or time.time() - entry.stat().st_mtime > max_age:
                os.unlink(entry.path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def special_kind(mode: int) -> str | None:
    """What a non-regular file is ("a FIFO", "a device", ...), None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def write_target(path: Path) -> Path:
    """The file a write of `path` replaces: `path` itself, or the end of its symlink chain.

    Refuses (WriteError) a symlink loop, a link whose target folder does not exist, and
    anything that is not a regular file: a FIFO would block the write forever, and
    renaming over a device (as root) would replace it with a regular file.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise WriteError(f"cannot write: {_describe(exc)}", path=path) from None
    target = path
    if stat.S_ISLNK(info.st_mode):
        try:
            target = Path(os.path.realpath(path, strict=True))
        except FileNotFoundError:
            target = Path(os.path.realpath(path))
            if not target.parent.is_dir():
                raise WriteError(
                    f"is a symlink to {target}, whose folder does not exist",
                    path=path,
                    hint="fix or remove the link",
                ) from None
            return target
        except OSError:  # ELOOP
            raise WriteError(
                "is a symlink that cannot be resolved (a loop?)", path=path, hint="fix or remove the link"
            ) from None
        try:
            info = os.stat(target)
        except OSError as exc:
            raise WriteError(f"cannot write: {_describe(exc)}", path=target) from None
    kind = special_kind(info.st_mode)
    if kind is not None:
        shown = path if target == path else f"{path} (a link to {target})"
        hint = (
            "write into a file inside it"
            if kind == "a folder"
            else "remove it or choose another path; for stdout give -o - and redirect it"
        )
        raise WriteError(f"is {kind}; refusing to write there", path=shown, hint=hint)
    return target


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` (or what its symlink points at) with `data` atomically; on failure
    the old file is untouched."""
    path = write_target(path)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"cannot create the folder: {_describe(exc)}", path=folder) from None
    sweep_temp_files(folder)
    tmp = temp_path(path)
    existed = True
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        existed = False
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        outcome = "the previous file is unchanged" if existed else "nothing was written"
        raise WriteError(f"cannot write: {_describe(exc)}; {outcome}", path=path) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in `folder` durable (best effort: some file systems refuse)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write atomically unless the file already holds exactly `data`. True if written."""
    path = write_target(path)
    try:
        # Non-blocking and checked: a FIFO swapped in since write_target must not hang us.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        pass
    else:
        with os.fdopen(fd, "rb") as handle:
            if stat.S_ISREG(os.fstat(fd).st_mode) and handle.read(len(data) + 1) == data:
                return False
    atomic_write(path, data)
    return True


def read_bytes(path: Path | str, *, limit: int = MAX_READ_BYTES) -> bytes:
    """A file's bytes, or one clear InputError; `-` reads stdin."""
    import sys

    if str(path) == "-":
        where: Path | str = "<stdin>"
        try:
            if sys.stdin is None:  # started with stdin closed (`<&-`)
                raise OSError(errno.EBADF, "stdin is closed")
            data = sys.stdin.buffer.read(limit + 1)
        except (OSError, ValueError) as exc:
            reason = (
                "stdin is closed"
                if isinstance(exc, ValueError) or exc.errno == errno.EBADF
                else _describe(exc)
            )
            raise InputError(
                f"cannot read: {reason}", path=where, hint="give the input on stdin or as a file"
            ) from None
    else:
        where = path
        try:
            # Opened without blocking, then read blocking: a pipe with a writer (`<(cmd)`,
            # /dev/stdin) is read to its end, while a FIFO that nobody writes to reads as
            # empty instead of hanging the command forever.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as handle:
                if stat.S_ISDIR(os.fstat(fd).st_mode):
                    raise IsADirectoryError(errno.EISDIR, "is a folder")
                os.set_blocking(fd, True)
                data = handle.read(limit + 1)
        except FileNotFoundError:
            raise InputError("no such file", path=path) from None
        except IsADirectoryError:
            raise InputError("is a folder, not a file", path=path) from None
        except OSError as exc:
            raise InputError(f"cannot read: {_describe(exc)}", path=path) from None
    if len(data) > limit:
        raise InputError(f"larger than {limit // (1024 * 1024)} MB; refusing to read it", path=where)
    return data


def decode_utf8(data: bytes, path: Path | str) -> str:
    """Strict UTF-8 (a BOM is allowed); the error names the line of the first bad byte."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            path=path,
            line=line,
            hint="save the file as UTF-8",
        ) from None


# Descriptors of the locks this process holds. A forked child (a cache's worker process)
# closes its copies at once: an flock belongs to the open file, so a child that outlived
# a killed parent would otherwise keep the parent's lock held.
_HELD_FDS: set[int] = set()


def _close_held_locks_in_child() -> None:
    for fd in _HELD_FDS:
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD_FDS.clear()


os.register_at_fork(after_in_child=_close_held_locks_in_child)


LOCK_TIMEOUT_VAR = "ECDIGEST_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 60.0
MAX_LOCK_TIMEOUT = 86400.0  # a day: a cron job waiting longer than that is stuck, not patient


def lock_timeout() -> float:
    """Seconds to wait for another command's lock: `$ECDIGEST_LOCK_TIMEOUT`, default 60.

    Empty means unset. Anything else must be a number of seconds from 0 to a day: `nan`
    would wait forever (no comparison with it is true), `inf` too, a negative one never.
    """
    raw = os.environ.get(LOCK_TIMEOUT_VAR, "")
    if not raw.strip():
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 <= value <= MAX_LOCK_TIMEOUT:
        shown = raw if raw.isprintable() and len(raw) <= 40 else ascii(raw[:40])
        raise UsageError(
            f"{LOCK_TIMEOUT_VAR}={shown} is not a number of seconds from 0 to {MAX_LOCK_TIMEOUT:.0f}",
            hint=f"e.g. {LOCK_TIMEOUT_VAR}=120, or unset it for the default {DEFAULT_LOCK_TIMEOUT:.0f}",
        )
    return value


class FileLock:
    """An exclusive `flock` on a file; the kernel drops it when the holder dies."""

    def __init__(self, path: Path, *, timeout: float | None = None) -> None:
        self.path = path
        self._timeout = timeout
        self._fd: int | None = None
        self._depth = 0

    @property
    def timeout(self) -> float:
        # Read when first needed, so a bad $ECDIGEST_LOCK_TIMEOUT fails only commands that lock.
        if self._timeout is None:
            self._timeout = lock_timeout()
        return self._timeout

    def acquire(self) -> None:
        import fcntl

        if self._depth:
            self._depth += 1
            return
        timeout = self.timeout
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Never through a symlink, never blocking on a FIFO put in the lock's place.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o666)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise WriteError(
                    "is a symlink; the lock file must be a plain file", path=self.path, hint="remove the link"
                ) from None
            raise WriteError(f"cannot write here: {_describe(exc)}", path=self.path.parent.parent) from None
        kind = special_kind(os.fstat(fd).st_mode)
        if kind is not None:
            os.close(fd)
            raise WriteError(f"is {kind}, not a lock file", path=self.path, hint="remove it")
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise EcdigestError(
                        f"another ecdigest command has held the lock for {timeout:.0f} s",
                        path=self.path,
                        hint="wait for it to finish, or raise ECDIGEST_LOCK_TIMEOUT",
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
        self._fd = fd
        self._depth = 1
        _HELD_FDS.add(fd)

    def release(self) -> None:
        import fcntl

        if not self._depth:
            return
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            _HELD_FDS.discard(self._fd)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()
