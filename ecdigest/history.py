"""The archive's history in git (opt-in: `[history] git = true` in ecdigest.toml).

With the setting on, every change ecdigest makes to the archive is one commit in the git
repository that holds the archive, as nb keeps a notebook: `add 2023-07-002 商务部：…`,
authored by git's own `user.name`/`user.email`. The tool drives git itself (the `git`
command through subprocess, never a shell): no home-made history, and what it records is
what `git log`, `git blame` and every git host show.

How a change becomes a commit: `Archive.locked()` opens a `Change` for the outermost lock a
command takes; every file the command writes under it is announced first
(`Change.before_write`), and when the locked block ends without an error the files are
committed with the message the operation gave (`Change.describe`). Only those paths are
committed (`git commit -- PATHS`), so whatever else an editor has staged stays staged.
Before the tool first writes a file that holds uncommitted edits made by hand, those are
committed on their own (`hand edits to 2023/2023-07.toml`), so a tool commit holds only the
tool's change and `undo` can take exactly that back. Git and an identity are checked
before anything is written: a command that could not commit changes nothing.

Tool commits carry trailers (`Ecdigest-Change: add`, `Ecdigest-Issue: 2023-07`,
`Ecdigest-Article: 2023-07-002`, `Ecdigest-Moved-From: …`, `Ecdigest-Undoes: SHA`): `log`
finds an article's history by them (and, while the article exists, by `git log -L` over
its lines, which also finds edits made by hand), and `undo` finds the last change the tool
made for this person, never anyone else's commit. `undo` is `git revert` of that commit,
itself a new commit: history that editors have pulled is never rewritten.

Not committed: the send record (`sent/`), written by `send` between the SMTP steps that
must stay quick and certain (a failing git hook there would leave a send half-recorded);
editors commit it as before.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from .errors import EcdigestError, Failure, NotFoundError

TYPE_CHECKING = False  # not `typing`'s: add imports this module to describe its change
if TYPE_CHECKING:
    import subprocess
    from dataclasses import dataclass as record
    from dataclasses import field

    from .archive import Archive
else:  # `dataclasses` costs ~7 ms of start-up: records.py makes the same classes without it
    from .records import field, record

TRAILER = "Ecdigest-"
CHANGE = "Ecdigest-Change"
ISSUE = "Ecdigest-Issue"
ARTICLE = "Ecdigest-Article"
MOVED_FROM = "Ecdigest-Moved-From"
UNDOES = "Ecdigest-Undoes"
HAND_EDITS = "hand-edits"
UNDO = "undo"
# A subject line stays within this many display columns (git's convention is ~50-72).
SUBJECT_WIDTH = 72
_TIMEOUT = 120


class HistoryError(EcdigestError):
    """git is missing, the archive is not in a repository, or git refused (exit 2)."""


class NothingToUndo(Failure):
    """No change of the tool's, by this person, is left to undo (exit 1)."""


# --------------------------------------------------------------------------- running git


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"  # never wait for a password
    env["LC_ALL"] = "C"  # messages we may quote are git's English ones
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(name, None)  # the archive's own repository, found from its folder
    now = os.environ.get("ECDIGEST_NOW", "").strip()
    if now:
        # The tool's clock is fixed (tests, reproducible runs): so are its commits' dates.
        from .dates import now as clock

        stamp = clock().isoformat()  # in the newsletter's default timezone, with its offset
        env.setdefault("GIT_AUTHOR_DATE", stamp)
        env.setdefault("GIT_COMMITTER_DATE", stamp)
    return env


def run_git(
    cwd: Path, *args: str, input: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run `git ARGS` in `cwd`; HistoryError (one line: git's own message) when it fails."""
    import subprocess  # here: every write imports this module, most never run git

    try:
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=input,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            env=_environment(),
            timeout=_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise HistoryError(
            "git is not installed, and the archive's history is kept with git",
            hint="install git (e.g. apt-get install git), or set [history] git = false in ecdigest.toml",
        ) from None
    except subprocess.TimeoutExpired:
        raise HistoryError(f"git {args[0]} did not finish in {_TIMEOUT} s") from None
    except OSError as exc:
        raise HistoryError(f"cannot run git: {exc.strerror}", path=cwd) from None
    if check and result.returncode != 0:
        raise HistoryError(f"git {args[0]} failed: {_first_line(result.stderr or result.stdout)}", path=cwd)
    return result


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    interesting = [line for line in lines if line.lower().startswith(("fatal", "error"))]
    return (interesting or lines or ["(no message)"])[0]


@record(frozen=True)
class Repo:
    """The git repository (its work tree's top folder) holding an archive."""

    top: Path

    @classmethod
    def find(cls, folder: Path, *, committing: bool = False) -> Repo:
        """The repository holding `folder`; HistoryError when there is none (or no git).
        `committing`: asked because [history] git is on (the way out then includes
        turning it off); `log` and `undo` only read the history."""
        result = run_git(folder, "rev-parse", "--show-toplevel", check=False)
        if result.returncode != 0:
            start = f"run `git init {folder}` (or `ecdigest init --git` for a new archive)"
            raise HistoryError(
                "the archive is not in a git repository",
                path=folder,
                hint=f"{start}, or set [history] git = false in ecdigest.toml"
                if committing
                else f"{start}, and [history] git = true in ecdigest.toml to commit every change",
            )
        return cls(Path(result.stdout.strip()))

    def git(
        self, *args: str, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return run_git(self.top, *args, input=input, check=check)

    def relative(self, path: Path) -> str:
        """`path` as git names it: relative to the work tree's top, with '/'."""
        real = Path(os.path.realpath(path))
        top = Path(os.path.realpath(self.top))
        return real.relative_to(top).as_posix() if real != top else "."

    def identity(self) -> tuple[str, str]:
        """(name, email) git will author commits with; HistoryError when it has none."""
        result = self.git("var", "GIT_AUTHOR_IDENT", check=False)
        found = re.match(r"(.*?) <([^>]*)>", result.stdout.strip())
        if result.returncode != 0 or found is None:
            raise HistoryError(
                "git does not know who you are, and every change is committed in your name",
                path=self.top,
                hint='run `git config --global user.name "Your Name"` and '
                "`git config --global user.email you@example.org`",
            )
        return found.group(1), found.group(2)

    def dirty(self, paths: Sequence[str]) -> list[str]:
        """Those of `paths` whose working copy differs from the last commit (or is untracked)."""
        if not paths:
            return []
        result = self.git("status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *paths)
        found = []
        for entry in result.stdout.split("\0"):
            if len(entry) > 3:
                found.append(entry[3:])
        return found

    def commit(self, paths: Sequence[str], message: str) -> str | None:
        """Commit exactly `paths` (as they are on disk) with `message`; the new commit's id,
        or None when they hold nothing new."""
        if not self.dirty(paths):
            return None
        present = [p for p in paths if (self.top / p).exists()]
        gone = [p for p in paths if p not in present]
        if present:
            self.git("add", "--all", "--", *present)
        if gone:  # a file the change deleted (undo of `new`): its removal is what is committed
            self.git("rm", "--cached", "--ignore-unmatch", "--quiet", "--", *gone)
        self.git("commit", "--quiet", "--file=-", "--", *paths, input=message)
        return self.git("rev-parse", "HEAD").stdout.strip()


# --------------------------------------------------------------------------- messages


def subject(kind: str, what: str, title: str = "") -> str:
    """`add 2023-07-002 商务部：…`: the change, what it changed, and a title cut to fit."""
    from .textwrap_cjk import display_width

    head = f"{kind} {what}".strip()
    title = " ".join(title.split())
    if not title:
        return head
    room = SUBJECT_WIDTH - display_width(head) - 1
    if display_width(title) > room:
        cut = ""
        for char in title:
            if display_width(cut + char) > room - 1:
                break
            cut += char
        title = cut.rstrip() + "…"
    return f"{head} {title}"


@record
class Description:
    """What a change was, for its commit message and trailers."""

    kind: str
    subject: str
    issues: list[str] = field(default_factory=list)
    articles: list[str] = field(default_factory=list)
    moved_from: list[str] = field(default_factory=list)
    undoes: str | None = None

    def message(self) -> str:
        lines = [f"{CHANGE}: {self.kind}"]
        lines += [f"{ISSUE}: {value}" for value in dict.fromkeys(self.issues)]
        lines += [f"{ARTICLE}: {value}" for value in dict.fromkeys(self.articles)]
        lines += [f"{MOVED_FROM}: {value}" for value in dict.fromkeys(self.moved_from)]
        if self.undoes:
            lines.append(f"{UNDOES}: {self.undoes}")
        return f"{_one_line(self.subject)}\n\n" + "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- one command's change


class Change:
    """The files one command writes under the archive lock, and what to call the change.

    Opened by `Archive.locked()` (outermost level); `finish` commits when the history
    setting is on. With it off, this only remembers paths: nothing runs.
    """

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.enabled = archive.settings.history_git
        self.repo: Repo | None = None
        self.paths: list[Path] = []
        self.description: Description | None = None
        if self.enabled:
            # Everything a commit needs is checked before the command writes anything.
            self.repo = Repo.find(archive.root, committing=True)
            self.repo.identity()

    def describe(
        self,
        kind: str,
        subject_line: str,
        *,
        issues: Iterable[str] = (),
        articles: Iterable[str] = (),
        moved_from: Iterable[str] = (),
    ) -> None:
        """Name the change (the last description of a command wins)."""
        self.description = Description(kind, subject_line, list(issues), list(articles), list(moved_from))

    def before_write(self, path: Path) -> None:
        """Called before the tool writes `path`: remembered, and any edits made to it by
        hand since the last commit are committed first, on their own."""
        if path in self.paths:
            return
        self.paths.append(path)
        if self.repo is None or not path.exists():
            return
        relative = self.repo.relative(path)
        if self.repo.dirty([relative]):
            message = Description(HAND_EDITS, f"hand edits to {self._shown(path)}").message()
            self.repo.commit([relative], message)

    def finish(self) -> None:
        """Commit what was written (the locked block ended without an error)."""
        if self.repo is None or not self.paths:
            return
        description = self.description or Description(
            "change", f"change {', '.join(self._shown(p) for p in self.paths)}"
        )
        relative = [self.repo.relative(p) for p in self.paths]
        try:
            self.repo.commit(relative, description.message())
        except HistoryError as exc:
            raise HistoryError(
                f"the change is written, but git could not commit it: {exc.message}",
                path=self.archive.root,
                hint=f"commit it by hand: git -C {self.repo.top} commit -- {' '.join(relative)}",
            ) from None

    def _shown(self, path: Path) -> str:
        try:
            return Path(os.path.relpath(path, self.archive.root)).as_posix()
        except ValueError:
            return str(path)


# --------------------------------------------------------------------------- reading the history


@record(frozen=True)
class Commit:
    """One commit touching the archive, as `ecdigest log` shows it."""

    commit: str
    author: str
    email: str
    date: str  # ISO 8601 with its offset
    subject: str
    change: str | None  # the tool's kind of change (add, edit, …); None: not the tool's
    issues: tuple[str, ...] = ()
    articles: tuple[str, ...] = ()
    moved_from: tuple[str, ...] = ()
    undoes: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "commit": self.commit,
            "author": self.author,
            "email": self.email,
            "date": self.date,
            "subject": self.subject,
            "change": self.change,
            "issues": list(self.issues),
            "articles": list(self.articles),
            "moved_from": list(self.moved_from),
            "undoes": self.undoes,
        }


_FIELD, _RECORD = "\x1f", "\x1e"
_FORMAT = f"--format=%H{_FIELD}%an{_FIELD}%ae{_FIELD}%aI{_FIELD}%B{_RECORD}"


def _parse_log(output: str) -> list[Commit]:
    commits = []
    for record in output.split(_RECORD):
        record = record.strip("\n")
        if not record:
            continue
        sha, author, email, date, body = record.split(_FIELD, 4)
        lines = body.strip("\n").splitlines()
        trailers: dict[str, list[str]] = {}
        for line in lines[1:]:
            key, sep, value = line.partition(": ")
            if sep and key.startswith(TRAILER):
                trailers.setdefault(key, []).append(value.strip())
        commits.append(
            Commit(
                sha,
                author,
                email,
                date,
                lines[0] if lines else "",
                _first(trailers.get(CHANGE)),
                tuple(trailers.get(ISSUE, ())),
                tuple(trailers.get(ARTICLE, ())),
                tuple(trailers.get(MOVED_FROM, ())),
                _first(trailers.get(UNDOES)),
            )
        )
    return commits


def _first(values: list[str] | None) -> str | None:
    return values[0] if values else None


def _has_head(repo: Repo) -> bool:
    return repo.git("rev-parse", "--verify", "--quiet", "HEAD", check=False).returncode == 0


def commits(repo: Repo, paths: Sequence[str]) -> list[Commit]:
    """Commits touching `paths`, newest first (none before the first commit)."""
    if not _has_head(repo):
        return []
    return _parse_log(repo.git("log", _FORMAT, "--", *paths).stdout)


def _article_lines(text: str, article_id: str) -> tuple[int, int] | None:
    """The first and last line of the `[[articles]]` table of `article_id` in an issue file."""
    lines = text.splitlines()
    headers = [n for n, line in enumerate(lines, start=1) if re.match(r"\s*\[\[\s*articles\s*\]\]", line)]
    wanted = re.compile(r'\s*id\s*=\s*"' + re.escape(article_id) + r'"\s*(#.*)?$')
    for index, start in enumerate(headers):
        end = headers[index + 1] - 1 if index + 1 < len(headers) else len(lines)
        if any(wanted.match(lines[n - 1]) for n in range(start + 1, end + 1)):
            while end > start and not lines[end - 1].strip():
                end -= 1
            return start, end
    return None


def history(archive: Archive, target: str | None = None) -> list[Commit]:
    """The commits of the archive, of one issue or of one article, newest first.

    An issue: every commit touching its file, and the tool's commits naming it. An
    article: the tool's commits naming it (following it back through `mv`, under the ids
    it had), and, while it exists, every commit that touched its lines (`git log -L`),
    hand edits included.
    """
    repo = Repo.find(archive.root)
    root = repo.relative(archive.root)
    everything = commits(repo, [root])
    if target is None:
        return everything
    with archive.catalog() as catalog:
        issue_files = catalog.issue_files(target)
        found = catalog.find_articles(target) if not issue_files else []
    if issue_files:
        paths = [repo.relative(entry.path) for entry in issue_files]
        touching = {c.commit for c in commits(repo, paths)}
        return [c for c in everything if c.commit in touching or target in c.issues]
    names = {target}
    for commit in everything:  # newest first: a move names the id the article had before
        if names & set(commit.articles):
            names.update(commit.moved_from)
    lines: set[str] = set()
    if len(found) == 1 and _has_head(repo):
        relative = repo.relative(found[0].path)
        shown = repo.git("show", f"HEAD:{relative}", check=False)
        span = _article_lines(shown.stdout, target) if shown.returncode == 0 else None
        if span is not None:
            result = repo.git(
                "log", "--format=%H", "--no-patch", f"-L{span[0]},{span[1]}:{relative}", check=False
            )
            lines = {line for line in result.stdout.split() if len(line) >= 40}
    matched = [c for c in everything if names & set(c.articles) or c.commit in lines]
    if not matched and not found:
        raise NotFoundError(
            f"no issue or article {target!r} in {archive.root}, and none in its history",
            hint="give an issue id (2023-07) or an article id (2023-07-002)",
        )
    return matched


# --------------------------------------------------------------------------- undo


def last_change(archive: Archive) -> tuple[Repo, Commit]:
    """The last change the tool made for this person (by git's user.email) that is not
    undone yet: what `undo` takes back. Commits of other people, hand edits, undos and
    changes already undone are passed over."""
    repo = Repo.find(archive.root)
    _, email = repo.identity()
    log = commits(repo, [repo.relative(archive.root)])
    undone = {c.undoes for c in log if c.undoes}
    for commit in log:
        if commit.change in (None, HAND_EDITS, UNDO) or commit.commit in undone:
            continue
        if commit.email.lower() != email.lower():
            continue
        return repo, commit
    raise NothingToUndo(
        f"nothing to undo: no change made by ecdigest for {email} in {repo.top}",
        hint="`ecdigest log` shows the archive's history",
    )
