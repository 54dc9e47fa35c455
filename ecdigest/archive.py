"""The archive on disk: a folder with `ecdigest.toml` and one TOML file per issue below it.

Found from `--archive PATH`, else `$ECDIGEST_ARCHIVE`, else the nearest folder upward holding
`ecdigest.toml`, else `./issues` (discover.py). Reads need no lock
(writes are atomic renames); every read-modify-write happens under the archive's lock
(`.ecdigest/lock`), re-reading the file inside it, so concurrent commands lose nothing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .codec import (
    FieldProblem,
    decode_issue,
    decode_settings,
    encode_issue_keeping,
    encode_settings,
    toml_error_line,
)
from .errors import ConflictError, InputError, NotFoundError, WriteError
from .fileio import FileLock, atomic_write, decode_utf8, is_temp_file, read_bytes
from .model import Issue, Newsletter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dataclasses import dataclass as record

    from .catalog import Catalog, IssueEntry
    from .fasttoml import Lines
    from .history import Change
else:  # `dataclasses` costs ~7 ms of start-up: records.py makes the same classes without it
    from .records import record

ENV_VAR = "ECDIGEST_ARCHIVE"
DEFAULT_DIR = "issues"
SETTINGS_FILE = "ecdigest.toml"
STATE_DIR = ".ecdigest"
GITIGNORE = f"{STATE_DIR}/\n"


class StaleCatalog(Exception):
    """A file changed between an open catalog's answer and its read (`Archive.get` and
    `latest` given a catalog): close it and ask again without one. Never leaves ecdigest."""


def resolve_root(option: str | Path | None = None) -> Path:
    """`--archive`, else `$ECDIGEST_ARCHIVE`, else the nearest archive upward, else
    `./issues` (discover.py: the one resolver of every entry path)."""
    from .discover import archive_root

    return Path(archive_root(option))


@record(frozen=True)
class IssueFile:
    """An issue and the file it was read from."""

    path: Path
    issue: Issue


@record(frozen=True)
class LoadResult:
    """What a lenient read of one file found: the issue (if it parsed) and its problems."""

    path: Path
    issue: Issue | None
    problems: tuple[FieldProblem, ...]
    # The decoded text, so callers can locate keys (codec.KeyLines) without a second read.
    text: str | None = None
    # Where each key is, when the fast reader read the file (fasttoml.Lines): no scan needed.
    lines: Lines | None = None


# tomllib's time grows with the square of a dotted key's depth (`a.b.c… = 1`, `[a.b.c…]`):
# one key of 100,000 parts, some 200 KB, takes minutes to parse. No ecdigest file nests
# deeper than a few levels, so a chain of this many parts after a key's start is refused.
MAX_KEY_PARTS = 64
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"\\\n]*"|'[^'\n]*')"""
_DEEP_KEY = rf"(?m)(?:^|[\[{{,])[ \t]*(?:{_KEY_PART}[ \t]*\.[ \t]*){{{MAX_KEY_PARTS - 1}}}"


def _deep_key_line(text: str) -> int | None:
    """The line of a dotted key with MAX_KEY_PARTS parts or more, if any (cheap when none)."""
    if text.count(".") < MAX_KEY_PARTS - 1:
        return None
    import re

    found = re.search(_DEEP_KEY, text)
    return text.count("\n", 0, found.start()) + 1 if found else None


def parse_toml(text: str, path: Path, lines: Lines | None = None) -> dict[str, object]:
    """The TOML document in `text`; files in ecdigest's own layout are read without tomllib
    (fasttoml.py: the same answer, several times faster; `lines` then says where keys are)."""
    from .fasttoml import loads

    fast = loads(text, lines)
    if fast is not None:
        return fast
    if lines is not None:  # what the fast reader noted before it stepped aside
        lines.keys.clear()
        lines.tables.clear()
    import tomllib

    deep = _deep_key_line(text)
    if deep is not None:
        raise InputError(
            f"invalid TOML: a dotted key nested {MAX_KEY_PARTS} or more levels deep",
            path=path,
            line=deep,
            hint="ecdigest files nest keys a few levels at most",
        )
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, message = toml_error_line(exc)
        raise InputError(f"invalid TOML: {message}", path=path, line=line, hint="fix the syntax") from None
    except RecursionError:
        raise InputError("invalid TOML: nested too deeply", path=path) from None
    except (ValueError, OverflowError):
        # tomllib lets int() fail on a decimal integer longer than Python's 4,300-digit limit.
        import re

        found = re.search(r"[0-9_]{4300,}", text)
        raise InputError(
            "invalid TOML: a number with more than 4,300 digits",
            path=path,
            line=text.count("\n", 0, found.start()) + 1 if found else None,
            hint="no ecdigest value is that long; fix the number",
        ) from None


class Archive:
    def __init__(self, root: Path, settings: Newsletter) -> None:
        self.root = root
        self.settings = settings
        self._lock = FileLock(root / STATE_DIR / "lock")
        self._change: Change | None = None

    # ------------------------------------------------------------------ opening, creating

    @classmethod
    def open(cls, root: Path) -> Archive:
        settings_path = root / SETTINGS_FILE
        if not settings_path.is_file():
            if root.is_dir():
                raise NotFoundError(
                    f"not an ecdigest archive ({SETTINGS_FILE} is missing)",
                    path=root,
                    hint=f"run `ecdigest init {root}` or pass --archive PATH",
                )
            raise NotFoundError(
                "no archive here",
                path=root,
                hint=f"run `ecdigest init {root}`, pass --archive PATH or set {ENV_VAR}",
            )
        text = decode_utf8(read_bytes(settings_path), settings_path)
        data = parse_toml(text, settings_path)
        try:
            settings = decode_settings(data, text)
        except InputError as exc:
            exc.path = str(settings_path)
            raise
        return cls(root, settings)

    @classmethod
    def create(cls, root: Path, settings: Newsletter) -> Archive:
        if (root / SETTINGS_FILE).exists():
            raise ConflictError(
                "an archive already exists here", path=root / SETTINGS_FILE, hint="nothing was changed"
            )
        if root.exists() and not root.is_dir():
            raise ConflictError("is a file, not a folder", path=root, hint="choose a folder for the archive")
        archive = cls(root, settings)
        archive._refuse_nesting()
        with archive.locked():
            if (root / SETTINGS_FILE).exists():
                raise ConflictError("an archive already exists here", path=root / SETTINGS_FILE)
            gitignore = root / ".gitignore"
            archive.change().describe("init", f"init {settings.title}")
            if not gitignore.exists():
                archive.before_write(gitignore)
                atomic_write(gitignore, GITIGNORE.encode())
            archive.before_write(root / SETTINGS_FILE)
            atomic_write(root / SETTINGS_FILE, encode_settings(settings).encode("utf-8"))
        return archive

    def _refuse_nesting(self) -> None:
        """An archive never sits inside another, nor holds one.

        The reader takes every `*.toml` below the root for an issue file, so an archive
        created inside another would make the outer one unreadable (its `ecdigest.toml`
        is not an issue), and one created around an existing archive would read that
        archive's files as its own issues. Refusing is the one rule that keeps both
        readable; an outer archive that skipped nested ones instead would hide their
        issues silently, and one archive is one newsletter with one id space anyway.
        """
        here = Path(os.path.abspath(self.root))
        for folder in here.parents:
            if (folder / SETTINGS_FILE).is_file():
                raise ConflictError(
                    f"{folder} is already an archive; an archive inside another would make it unreadable",
                    path=self.root,
                    hint=f"create it outside {folder}",
                )
        if self.root.is_dir():
            inner = [p for p in self.issue_paths() if p.name == SETTINGS_FILE]
            if inner:
                raise ConflictError(
                    f"{inner[0].parent} below it is already an archive; one archive cannot hold another",
                    path=self.root,
                    hint="create it in a folder that holds no archive",
                )

    # ------------------------------------------------------------------ locking

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive lock for read-modify-write; re-entrant within one process.

        The outermost lock also gathers what the command writes into one change
        (history.Change): with `[history] git = true` it becomes one git commit when the
        block ends without an error (git and an identity are checked before it starts).
        """
        self.state_dir()
        with self._lock.held():
            if self._change is not None:
                yield
                return
            from .history import Change

            self._change = Change(self)
            try:
                yield
                self._change.finish()
            finally:
                self._change = None

    def change(self) -> Change:
        """The change being made under the lock (`describe` it for its commit message)."""
        if self._change is None:
            raise RuntimeError("Archive.change() outside Archive.locked()")
        return self._change

    def before_write(self, path: Path) -> None:
        """Every write of a file in the archive announces it first (the history records it,
        and commits hand edits of it on their own): `write`, and the few that write bytes."""
        if self._change is not None:
            self._change.before_write(path)

    def state_dir(self) -> Path:
        """`ARCHIVE/.ecdigest/` (the lock, the search index), refused if it is a link or a file:
        a symlinked `.ecdigest` would send the archive's writes to another folder."""
        import stat

        folder = self.root / STATE_DIR
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            mode = os.lstat(folder).st_mode
            if stat.S_ISLNK(mode) or not stat.S_ISDIR(mode):
                raise WriteError(
                    "is a symlink or a file, not the archive's own folder; refusing to write through it",
                    path=folder,
                    hint="remove it (it holds only the lock and the search index, both rebuilt)",
                )
        return folder

    # ------------------------------------------------------------------ finding files

    def issue_paths(self) -> list[Path]:
        """Every issue file below the root, sorted; hidden folders and temp files skipped."""
        found: list[Path] = []
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in files:
                if name.endswith(".toml") and not name.startswith(".") and not is_temp_file(name):
                    path = Path(folder) / name
                    if path.parent == self.root and name == SETTINGS_FILE:
                        continue
                    found.append(path)
        return sorted(found)

    def _check_inside(self, path: Path) -> None:
        """Refuse links out of the archive, and FIFOs/devices (reading them would block cron)."""
        import stat

        with contextlib.suppress(OSError):  # a missing file is reported by the read itself
            if not stat.S_ISREG(os.stat(path).st_mode):
                raise InputError(
                    "is not a regular file (a FIFO, socket or device)", path=path, hint="remove it"
                )
        if path.is_symlink():
            try:
                target = path.resolve()
            except (RuntimeError, OSError):  # a symlink loop (RuntimeError before Python 3.13)
                raise InputError(
                    "is a symlink that cannot be resolved (a loop?)",
                    path=path,
                    hint="replace the link with the file itself",
                ) from None
            if not target.is_relative_to(self.root.resolve()):
                raise InputError(
                    f"is a symlink to {target}, outside the archive; refusing to follow it",
                    path=path,
                    hint="replace the link with the file itself",
                )

    # ------------------------------------------------------------------ reading

    def read_lenient(self, path: Path, data: bytes | None = None) -> LoadResult:
        """Read one file, reporting every structural problem instead of stopping at one.

        `data`: the file's bytes when the caller has read them already (a cache hashing
        them), so that what is parsed is what was hashed.
        Unreadable files and invalid TOML still raise InputError: nothing else can be known.
        """
        from .fasttoml import Lines

        self._check_inside(path)
        hashed = data is not None
        if data is None:
            data = read_bytes(path)
            if _HASHED and _HASHED[0][0] == str(path) and _HASHED[0][1] == data:
                return _HASHED.pop()[2]
        text = decode_utf8(data, path)
        lines = Lines()
        parsed = parse_toml(text, path, lines)
        issue, problems = decode_issue(parsed, text)
        result = LoadResult(path, issue, tuple(problems), text, lines if lines.keys else None)
        if hashed:
            _HASHED[:] = [(str(path), data, result)]
        return result

    def read(self, path: Path) -> IssueFile:
        """Read one issue file; the first structural problem is an InputError with its line."""
        result = self.read_lenient(path)
        error = strict_error(result)
        if error is not None:
            raise error
        assert result.issue is not None
        return IssueFile(path, result.issue)

    def issues(self) -> list[IssueFile]:
        """Every issue, strictly read; two files with one id are an error.

        This reads every file: commands that need one issue, the newest one, or a summary
        of all of them ask the catalog (`catalog()`, `get`, `latest`) instead.
        """
        loaded = [self.read(path) for path in self.issue_paths()]
        seen: dict[str, Path] = {}
        for item in loaded:
            other = seen.get(item.issue.id)
            if other is not None:
                raise duplicate_id_error(item.issue.id, other, item.path)
            seen[item.issue.id] = item.path
        return sorted(loaded, key=_issue_order)

    def catalog(self) -> Catalog:
        """The catalog of every issue (catalog.py), up to date; use it in a `with` block."""
        from .catalog import open_catalog

        return open_catalog(self)

    def _catalog_or(self, opened: Catalog | None) -> contextlib.AbstractContextManager[Catalog]:
        """`opened` (a catalog the caller holds open, left open), else a fresh one."""
        return contextlib.nullcontext(opened) if opened is not None else self.catalog()

    def get(self, issue_id: str, *, catalog: Catalog | None = None) -> IssueFile:
        """The issue with this id, found through the catalog (`catalog`: one already open)
        and read from its file alone; NotFoundError lists the ids that exist."""
        opened = catalog
        for attempt in (1, 2):
            with self._catalog_or(opened) as catalog:
                files = catalog.issue_files(issue_id)
                if not files:
                    # A file that cannot be read has no id: its name stands in for it.
                    files = [e for e in catalog.issues() if not e.readable and e.path.stem == issue_id]
                    if not files:
                        raise NotFoundError(
                            f"no issue {issue_id!r} in {self.root}", hint=_known_ids_hint(catalog)
                        )
            if len(files) > 1:
                raise duplicate_id_error(issue_id, files[0].path, files[1].path)
            item = self.read(files[0].path)
            if item.issue.id == issue_id or attempt == 2:
                if item.issue.id != issue_id:
                    raise NotFoundError(f"no issue {issue_id!r} in {self.root}")
                return item
            # The file changed between the catalog's answer and our read: ask again (a
            # new catalog, which a caller's open one would block: the caller asks again).
            if opened is not None:
                raise StaleCatalog(item.path)
        raise AssertionError("unreachable")  # pragma: no cover

    def latest(self, *, status: str | None = None, catalog: Catalog | None = None) -> IssueFile:
        """The newest issue (by date, then id), optionally of one status (`catalog`: one
        already open).

        A broken file that could be the answer (it cannot be read at all, or its issue is
        at least as new and of that status) is an error: what it holds is unknown. Older
        broken files do not matter.
        """
        opened = catalog
        for attempt in (1, 2):
            with self._catalog_or(opened) as catalog:
                unreadable, chosen = catalog.latest(status)
                same = catalog.issue_files(chosen.id or "") if chosen is not None else []
            if unreadable is not None:  # it could hold anything, the newest issue too
                assert unreadable.error is not None
                raise unreadable.error
            if chosen is None:
                what = f"{status} issue" if status else "issue"
                raise NotFoundError(f"no {what} in {self.root}", hint="create one with `ecdigest new`")
            if chosen.error is not None:
                raise chosen.error
            if len(same) > 1:  # in path order, as issue_files gives them
                raise duplicate_id_error(chosen.id or "", same[0].path, same[1].path)
            item = self.read(chosen.path)
            if (item.issue.id, item.issue.date, item.issue.status) == (chosen.id, chosen.date, chosen.status):
                return item
            if attempt == 2:
                return item
            # The file changed between the catalog's answer and our read: ask again.
            if opened is not None:
                raise StaleCatalog(item.path)
        raise AssertionError("unreachable")  # pragma: no cover

    def newest(self, count: int, *, status: str) -> list[IssueFile]:
        """The `count` newest issues of `status`, newest first, found through the catalog and
        read from their own files alone (the feed's ten issues of a 20-year archive).

        As in `latest`, a broken file that could be among them is an error (what it holds is
        unknown); older broken files do not matter. An id used by two files among the
        chosen is an error, as `issues()` says it.
        """
        for attempt in (1, 2):
            with self.catalog() as catalog:
                entries = catalog.issues()
            for entry in entries:
                if not entry.readable:
                    assert entry.error is not None
                    raise entry.error
            chosen: list[IssueEntry] = []
            for entry in reversed(entries):
                if len(chosen) == count:
                    break
                if entry.status != status:
                    continue
                if entry.error is not None:
                    raise entry.error
                chosen.append(entry)
            ids = {entry.id for entry in chosen}
            for issue_id in sorted(i for i in ids if i):
                same = sorted(e.path for e in entries if e.id == issue_id)
                if len(same) > 1:
                    raise duplicate_id_error(issue_id, same[0], same[1])
            items = [self.read(entry.path) for entry in chosen]
            seen = [(i.issue.id, i.issue.date, i.issue.status) for i in items]
            if seen == [(e.id, e.date, e.status) for e in chosen] or attempt == 2:
                return items
            # A file changed between the catalog's answer and our read: ask again.
        raise AssertionError("unreachable")  # pragma: no cover

    def resolve(self, issue_id: str | None, *, default_status: str | None = None) -> IssueFile:
        """An issue by id, or the newest one (of `default_status`) when no id is given."""
        if issue_id:
            return self.get(issue_id)
        return self.latest(status=default_status)

    # ------------------------------------------------------------------ writing

    def path_for(self, issue: Issue) -> Path:
        """Where a new issue goes: `ARCHIVE/YYYY/ID.toml` (undated: `ARCHIVE/ID.toml`)."""
        folder = self.root / f"{issue.date.year:04d}" if issue.date else self.root
        return folder / f"{issue.id}.toml"

    def write(self, path: Path, issue: Issue) -> None:
        """Save atomically. Callers hold `locked()` around their read-modify-write.

        Three promises, each checked before the rename: the file lands where the reader
        will find it (`writable_path`); the comments an editor wrote in it are kept
        (`codec.encode_issue_keeping`); and the reader accepts the bytes and gets this
        very issue back from them (`check_round_trip`), so the tool never writes a file
        it cannot read.
        """
        target = self.writable_path(path)
        old_text: str | None = None
        if target.exists():
            old_text = decode_utf8(read_bytes(target), target)
        text = encode_issue_keeping(issue, old_text, path=target)
        check_round_trip(issue, text, target)
        self.before_write(target)
        atomic_write(target, text.encode("utf-8"))

    def writable_path(self, path: Path) -> Path:
        """The real file a write of the issue file `path` replaces, after checking that it
        stays in the archive where the reader finds it.

        Every folder between the root and the file must be a real folder, not a symlink:
        the reader does not walk folder links, so `new` would report success for an issue
        `list` cannot see, or (link to elsewhere) write outside the archive. A symlinked
        issue file is written through when its target is itself such a file.
        """
        import stat

        root = Path(os.path.abspath(self.root))
        full = Path(os.path.abspath(path))
        if not full.is_relative_to(root) or full == root:
            raise WriteError("is not inside the archive; refusing to write it", path=path)
        if full.suffix != ".toml" or full == root / SETTINGS_FILE:
            raise WriteError("is not an issue file name (ARCHIVE/…/ID.toml)", path=path)
        folder = root
        for part in full.relative_to(root).parts[:-1]:
            folder = folder / part
            if part.startswith("."):
                raise WriteError("is in a hidden folder, which the archive does not read", path=path)
            try:
                mode = os.lstat(folder).st_mode
            except FileNotFoundError:
                break  # created by the write
            except OSError as exc:
                raise WriteError(f"cannot write: {exc.strerror}", path=folder) from None
            if stat.S_ISLNK(mode):
                raise WriteError(
                    "is a symlinked folder; the archive reads (and so writes) only real folders",
                    path=folder,
                    hint="replace the link with the folder itself",
                )
            if not stat.S_ISDIR(mode):
                raise WriteError("is not a folder", path=folder)
        if full.is_symlink():
            self._check_inside(full)  # loops and links out of the archive are refused
            real_root = Path(os.path.realpath(root))
            target = Path(os.path.realpath(full))
            if not target.exists():
                raise WriteError(f"is a symlink to {target}, which does not exist", path=path)
            return Archive(real_root, self.settings).writable_path(target)
        self._check_inside(full)
        return full

    def owns(self, path: Path) -> str | None:
        """Why the archive owns `path` (a file it reads, or its own folder), None if it does not.

        Outputs (`export -o`, `build -o`) may not land on such a path: an RSS feed written
        over `ecdigest.toml` or an issue file would leave the archive unopenable.
        """
        root = Path(os.path.realpath(self.root))
        real = Path(os.path.realpath(path))
        if not real.is_relative_to(root):
            return None
        parts = real.relative_to(root).parts
        if not parts:
            return "is the archive folder itself"
        if parts[0] == STATE_DIR:
            return f"is inside the archive's {STATE_DIR}/ folder (its lock and search index)"
        if parts == (SETTINGS_FILE,):
            return "is the archive's settings file"
        if parts == (".gitignore",):
            return "is the archive's .gitignore"
        if real.suffix == ".toml" and not any(p.startswith(".") for p in parts):
            return "is (or would be read as) an issue file: every .toml file in the archive is one"
        return None

    def taken_article_ids(
        self, prefix: str, *, exclude: Path | None = None, catalog: Catalog | None = None
    ) -> list[str]:
        """Article ids starting with `prefix` in files other than `exclude`: parsed, or found
        by a text scan of `id = "…"` lines (so a file that does not parse reserves its ids).
        Answered by the catalog (`catalog`: one already open), which reads only files
        changed since the last command."""
        with self._catalog_or(catalog) as opened:
            return opened.taken_ids(prefix, exclude=exclude)


# The last file read from bytes its caller had hashed (the catalog taking in a changed
# file): (path, bytes, result). The next read of that path that finds the same bytes takes
# the result instead of parsing them again: `show` right after an edit parsed the file
# twice, for the catalog and to render it (~1.4 ms of 130 KB). Taken once, so the taker
# owns the objects: the catalog keeps only strings and tuples made from them.
_HASHED: list[tuple[str, bytes, LoadResult]] = []


def strict_error(result: LoadResult) -> InputError | None:
    """What a strict read (`Archive.read`) of this file raises: its first structural problem."""
    if not result.problems:
        return None
    first = result.problems[0]
    more = len(result.problems) - 1
    return InputError(
        first.message,
        path=result.path,
        line=first.line,
        hint=f"{more} more problem(s); run `ecdigest validate`" if more else "fix the file",
    )


def duplicate_id_error(issue_id: str, first: Path, second: Path) -> InputError:
    from .catalog import duplicate_id_error as error

    return error(issue_id, first, second)


def _known_ids_hint(catalog: Catalog) -> str:
    ids = [entry.id for entry in catalog.issues() if entry.id and not entry.broken]
    if not ids:
        return "the archive has no issues yet; create one with `ecdigest new`"
    shown = ", ".join(ids[-10:])
    return f"issues: {'…, ' if len(ids) > 10 else ''}{shown}"


def _issue_order(item: IssueFile) -> tuple[str, str]:
    return (item.issue.date.isoformat() if item.issue.date else "", item.issue.id)


def check_round_trip(issue: Issue, text: str, path: Path) -> None:
    """Refuse (WriteError, nothing written) a text the reader would reject or read back as
    another issue: the last check before any issue file is renamed into place."""
    from .model import article_number
    from .records import replace

    try:
        decoded, problems = decode_issue(parse_toml(text, path), text)
    except InputError as exc:
        problems, decoded = [FieldProblem("toml", "", exc.message)], None
    if problems:
        raise WriteError(
            f"refusing to write a file ecdigest could not read back: {problems[0].message}",
            path=path,
            hint="nothing was written; the file is unchanged",
        )
    numbers = [n for a in issue.articles if (n := article_number(issue.id, a.id)) is not None]
    expected = replace(issue, last_article_number=max(issue.last_article_number, *numbers, 0))
    if decoded != expected:
        raise WriteError(
            "refusing to write: reading the file back would give a different issue",
            path=path,
            hint="nothing was written; please report this",
        )


def open_archive(option: str | Path | None = None) -> Archive:
    return Archive.open(resolve_root(option))


def check_issue_id(value: str) -> str:
    """`value` if it is a valid issue id (the rule the reader applies), else a UsageError."""
    from .errors import UsageError
    from .model import ID_RULE, MAX_ISSUE_ID_LENGTH, is_valid_issue_id

    if not is_valid_issue_id(value):
        shown = repr(value) if len(value) <= 80 else repr(value[:60]) + f"… ({len(value)} characters)"
        raise UsageError(
            f"invalid issue id {shown}", hint=f"use {ID_RULE}, at most {MAX_ISSUE_ID_LENGTH} characters"
        )
    return value
