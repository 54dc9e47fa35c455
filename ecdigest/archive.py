"""The archive on disk: a folder with `ecdigest.toml` and one TOML file per issue below it.

Found from `--archive PATH`, else `$ECDIGEST_ARCHIVE`, else `./issues`. Reads need no lock
(writes are atomic renames); every read-modify-write happens under the archive's lock
(`.ecdigest/lock`), re-reading the file inside it, so concurrent commands lose nothing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .codec import FieldProblem, decode_issue, decode_settings, encode_issue, encode_settings, toml_error_line
from .errors import ConflictError, EcdigestError, InputError, NotFoundError
from .fileio import FileLock, atomic_write, decode_utf8, is_temp_file, read_bytes
from .model import Issue, Newsletter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .catalog import Catalog
    from .fasttoml import Lines

ENV_VAR = "ECDIGEST_ARCHIVE"
DEFAULT_DIR = "issues"
SETTINGS_FILE = "ecdigest.toml"
STATE_DIR = ".ecdigest"
GITIGNORE = f"{STATE_DIR}/\n"


def resolve_root(option: str | Path | None = None) -> Path:
    """`--archive`, else `$ECDIGEST_ARCHIVE`, else `./issues`."""
    value = option if option not in (None, "") else os.environ.get(ENV_VAR) or DEFAULT_DIR
    return Path(value)


@dataclass(frozen=True)
class IssueFile:
    """An issue and the file it was read from."""

    path: Path
    issue: Issue


@dataclass(frozen=True)
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


class Archive:
    def __init__(self, root: Path, settings: Newsletter) -> None:
        self.root = root
        self.settings = settings
        self._lock = FileLock(root / STATE_DIR / "lock")

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
        archive = cls(root, settings)
        with archive.locked():
            if (root / SETTINGS_FILE).exists():
                raise ConflictError("an archive already exists here", path=root / SETTINGS_FILE)
            gitignore = root / ".gitignore"
            if not gitignore.exists():
                atomic_write(gitignore, GITIGNORE.encode())
            atomic_write(root / SETTINGS_FILE, encode_settings(settings).encode("utf-8"))
        return archive

    # ------------------------------------------------------------------ locking

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive lock for read-modify-write; re-entrant within one process."""
        with self._lock.held():
            yield

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
        text = decode_utf8(read_bytes(path) if data is None else data, path)
        lines = Lines()
        parsed = parse_toml(text, path, lines)
        issue, problems = decode_issue(parsed, text)
        return LoadResult(path, issue, tuple(problems), text, lines if lines.keys else None)

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

    def get(self, issue_id: str) -> IssueFile:
        """The issue with this id, found through the catalog and read from its file alone;
        NotFoundError lists the ids that exist."""
        for attempt in (1, 2):
            with self.catalog() as catalog:
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
            # The file changed between the catalog's answer and our read: ask again.
        raise AssertionError("unreachable")  # pragma: no cover

    def latest(self, *, status: str | None = None) -> IssueFile:
        """The newest issue (by date, then id), optionally of one status.

        A broken file that could be the answer (it cannot be read at all, or its issue is
        at least as new and of that status) is an error: what it holds is unknown. Older
        broken files do not matter.
        """
        for attempt in (1, 2):
            with self.catalog() as catalog:
                entries = catalog.issues()
            for entry in entries:
                if not entry.readable:  # it could hold anything, the newest issue too
                    assert entry.error is not None
                    raise entry.error
            chosen = None
            for entry in reversed(entries):
                if status is not None and entry.status != status:
                    continue
                if entry.error is not None:
                    raise entry.error
                chosen = entry
                break
            if chosen is None:
                what = f"{status} issue" if status else "issue"
                raise NotFoundError(f"no {what} in {self.root}", hint="create one with `ecdigest new`")
            same = sorted(e.path for e in entries if e.id == chosen.id)
            if len(same) > 1:
                raise duplicate_id_error(chosen.id or "", same[0], same[1])
            item = self.read(chosen.path)
            if (item.issue.id, item.issue.date, item.issue.status) == (chosen.id, chosen.date, chosen.status):
                return item
            if attempt == 2:
                return item
            # The file changed between the catalog's answer and our read: ask again.
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
        """Save atomically. Callers hold `locked()` around their read-modify-write."""
        self._check_inside(path)
        if path.is_symlink():
            path = path.resolve()
        atomic_write(path, encode_issue(issue).encode("utf-8"))

    def taken_article_ids(self, prefix: str, *, exclude: Path | None = None) -> list[str]:
        """Article ids starting with `prefix` in files other than `exclude`: parsed, or found
        by a text scan of `id = "…"` lines (so a file that does not parse reserves its ids).
        Answered by the catalog, which reads only files changed since the last command."""
        with self.catalog() as catalog:
            return catalog.taken_ids(prefix, exclude=exclude)


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


def open_archive(option: str | Path | None = None) -> Archive:
    return Archive.open(resolve_root(option))


def check_issue_id(value: str) -> str:
    from .model import is_valid_id

    if not is_valid_id(value):
        raise EcdigestError(
            f"invalid issue id {value!r}",
            hint="use letters, digits, '.', '_' and '-', starting with a letter or digit",
        )
    return value
