"""Rendered output kept for the next identical command: `show` and `list` (man's cat pages).

A repeated `ecdigest show ISSUE` or `ecdigest list` renders the same text from the same
files; rendering (and importing what renders: the reader, the model, the wrappers) costs
more than Python's own start. So the launcher keeps what it printed in
`ARCHIVE/.ecdigest/rendered/` (beside the catalog, wherever that lives) and prints it again
when everything the text depends on is as it was, asked in the same read transaction of the
catalog that a render would ask:

- the code: this package's source and data files (size and mtime), its version, Python's
  version (which fixes Unicode's tables: widths, NFKC);
- the command: which command, its target, every option, the resolved width, the archive
  folder as it was given (messages name files below it);
- for `show`: the file the catalog says the target is (exactly one file holds that id, or
  it is the newest issue with no other file of its id and nothing unreadable), that file's
  digest (the catalog's, which its one invalidation rule keeps exact), and the digest of
  ecdigest.toml's bytes (the sections' order);
- for `list`: the path and digest of every file in the catalog and the configured sections
  it keeps (all `list` reads).

An entry is written only after a render that succeeded, into a temporary file renamed into
place, and it carries a digest of what it holds: a damaged or half-written entry is a miss,
never an answer. Each command line has one slot (a newer key replaces it) and the folder is
kept to `LIMIT` entries, oldest out first; deleting it loses nothing. `show` stores its
text only when the files it read were not written during the render (their size and mtime
as the catalog checked them, older than derived.RACY_NS), so the key names the bytes read.
"""

from __future__ import annotations

import os
import sys

from .derived import MEMORY, RACY_NS, SETTINGS_FILE, blake2b_hex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .catalog import Catalog

FOLDER = "rendered"
FORMAT = b"ecdigest-rendered 1"
LIMIT = 64  # entries kept; a store past it removes the oldest down to KEEP
KEEP = 48

_STAMP: list[str] = []


def code_stamp() -> str:
    """What the rendered text depends on besides its inputs: every source and data file of
    the package (name, size, mtime), its version and Python's (Unicode's tables)."""
    if not _STAMP:
        from . import __version__

        package = os.path.dirname(os.path.abspath(__file__))
        parts = [__version__, sys.version, package]
        for sub in ("", "export", "data", "cli"):
            folder = os.path.join(package, sub)
            with os.scandir(folder) as entries:
                found = sorted(
                    (e.name, e.stat()) for e in entries if e.name.endswith((".py", ".json", ".tsv"))
                )
            parts += [f"{sub}/{name}:{info.st_size}:{info.st_mtime_ns}" for name, info in found]
        _STAMP.append("\n".join(parts))
    return _STAMP[0]


def _digest(*parts: str | bytes | None) -> str:
    return blake2b_hex(joined(parts), 16)


def joined(parts: tuple[str | bytes | None, ...]) -> bytes:
    """The parts as one byte string, each told apart by its kind and length: no two lists
    of parts give the same bytes, whatever characters they hold."""
    out = []
    for part in parts:
        if part is None:
            out.append(b"n;")
            continue
        data = part if isinstance(part, bytes) else part.encode("utf-8", "surrogateescape")
        out.append(b"%c%d:%s;" % (98 if isinstance(part, bytes) else 115, len(data), data))
    return b"".join(out)


def folder_of(catalog: Catalog) -> str | None:
    """Where the entries live: beside the catalog (None for a catalog kept in memory)."""
    if catalog.place == MEMORY:
        return None
    # `rendered` beside `catalog.sqlite3`; `rendered-KEY` beside a user-cache `catalog-KEY.sqlite3`
    name = os.path.basename(catalog.place).removesuffix(".sqlite3").removeprefix("catalog")
    return os.path.join(os.path.dirname(catalog.place), FOLDER + name)


class Entry:
    """One kept output: stdout's bytes, stderr's bytes, the exit code."""

    __slots__ = ("code", "err", "out")

    def __init__(self, out: bytes, err: bytes = b"", code: int = 0) -> None:
        self.out = out
        self.err = err
        self.code = code


def lookup(folder: str | None, slot: str, key: str) -> Entry | None:
    """The entry kept in `slot` if it was rendered for `key` and is whole; else None."""
    if folder is None:
        return None
    try:
        with open(os.path.join(folder, slot), "rb") as kept:
            data = kept.read()
    except OSError:
        return None
    head, newline, body = data.partition(b"\n")
    fields = head.split(b" ")
    if not newline or len(fields) != 7 or b" ".join(fields[:2]) != FORMAT or fields[2] != key.encode():
        return None
    try:
        out_size, err_size, code = int(fields[3]), int(fields[4]), int(fields[5])
    except ValueError:
        return None
    if out_size + err_size != len(body) or blake2b_hex(body, 16).encode() != fields[6]:
        return None
    return Entry(body[:out_size], body[out_size:], code)


def store(folder: str | None, slot: str, key: str, entry: Entry) -> None:
    """Keep `entry` for `key` in `slot` (atomically; a folder that cannot be written keeps
    nothing, silently: the next command renders again)."""
    if folder is None:
        return
    body = entry.out + entry.err
    head = b" ".join(
        [
            FORMAT,
            key.encode(),
            str(len(entry.out)).encode(),
            str(len(entry.err)).encode(),
            str(entry.code).encode(),
            blake2b_hex(body, 16).encode(),
        ]
    )
    from pathlib import Path

    from .fileio import temp_path

    temp = str(temp_path(Path(folder, slot)))  # only after a render: not on a kept answer's path
    try:
        # No write goes through a folder symlink (SECURITY.md, paths).
        if os.path.islink(os.path.dirname(folder)):
            return
        os.makedirs(folder, exist_ok=True)
        if os.path.islink(folder):
            return
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with open(fd, "wb") as out:
            out.write(head + b"\n" + body)
        os.replace(temp, os.path.join(folder, slot))
    except OSError:
        import contextlib

        with contextlib.suppress(OSError):
            os.unlink(temp)
        return
    _prune(folder)


def _prune(folder: str) -> None:
    """Temporary files of writers that died go (fileio.sweep_temp_files); at most LIMIT
    entries, the oldest out first."""
    import contextlib
    from pathlib import Path

    from .fileio import sweep_temp_files

    sweep_temp_files(Path(folder))
    try:
        with os.scandir(folder) as found:
            entries = list(found)
    except OSError:
        return
    if len(entries) <= LIMIT:
        return
    aged = []
    for entry in entries:
        try:
            aged.append((entry.stat().st_mtime_ns, entry.path))
        except OSError:
            continue
    aged.sort()
    for _, path in aged[: len(aged) - KEEP]:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _settings(root: str) -> tuple[str, tuple[int, int]] | None:
    """The digest of ecdigest.toml's bytes and the (size, mtime) they were read with."""
    try:
        with open(os.path.join(root, SETTINGS_FILE), "rb") as settings:
            info = os.fstat(settings.fileno())
            data = settings.read()
    except OSError:
        return None
    return blake2b_hex(data, 16), (info.st_size, info.st_mtime_ns)


def _unchanged_since(full: str, stat: tuple[int, int]) -> bool:
    """The file still has the size and mtime it was read with, and that mtime is older than
    RACY_NS: by the catalog's rule, the bytes read are the bytes it has."""
    import time

    try:
        info = os.stat(full)
    except OSError:
        return False
    return (info.st_size, info.st_mtime_ns) == stat and time.time_ns() - stat[1] >= RACY_NS


# --------------------------------------------------------------------------- show


def show(
    root: str,
    target: str | None,
    *,
    toc: bool,
    section: str | None,
    json: bool,
    width: int,
) -> str | None:
    """What `ecdigest show` prints (contents.show), kept or rendered and kept; None when the
    command is not one this keeps (the caller renders it the usual way)."""
    from .catalog import open_catalog

    settings = _settings(root)
    if settings is None:
        return None
    with open_catalog(root) as catalog:
        shown = catalog.shown_file(target)
        if shown is None:
            return None
        relative, digest, size, mtime = shown
        folder = folder_of(catalog)
        command = (
            "show",
            root,
            target,
            "toc" if toc else "",
            section,
            "json" if json else "text",
            str(width),
        )
        slot = "show-" + _digest(*command[:1], *command[2:])[:20]  # not the root: the folder is the archive's
        key = _digest(code_stamp(), *command, settings[0], relative, digest)
        kept = lookup(folder, slot, key)
        if kept is not None:
            return kept.out.decode("utf-8", "surrogateescape")
        from pathlib import Path

        from .archive import Archive, StaleCatalog
        from .contents import show as render

        archive = Archive.open(Path(root))
        try:
            text = render(archive, target, toc=toc, section=section, json=json, width=width, catalog=catalog)
        except StaleCatalog:
            return None
    if _unchanged_since(os.path.join(root, SETTINGS_FILE), settings[1]) and _unchanged_since(
        os.path.join(root, relative), (size, mtime)
    ):
        store(folder, slot, key, Entry(text.encode("utf-8", "surrogateescape")))
    return text


# --------------------------------------------------------------------------- list


def list_key(catalog: Catalog, root: str, fmt: str) -> tuple[str, str]:
    """(slot, key) of `list` for the catalog's state as this read transaction sees it."""
    command = ("list", root, fmt)
    rows = catalog.file_digests()
    key = _digest(code_stamp(), *command, "\n".join(catalog.settings_sections()), rows)
    return "list-" + _digest(command[0], command[2])[:20], key
