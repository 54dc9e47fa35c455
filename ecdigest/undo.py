"""`ecdigest undo`: take back the last change the tool made for this person, as a new commit.

Which change: history.last_change (the tool's own commits, by git's user.email, not yet
undone; never another person's commit, never edits made by hand). How:

1. `git revert --no-commit` of that commit: exact (comments, layout and all), and what any
   git user would do.
2. When git cannot (later commits touched the neighbouring lines: another editor added an
   article right after ours, or an earlier undo kept an id retired), the change is taken
   back article by article instead: each article the commit added, changed or removed is
   brought back to what it was before it, provided nobody has changed it since; the
   issue's own fields likewise; everything else in the file stays as it is now. An
   article someone changed since is a real conflict: nothing is changed, and the error
   says what to do instead.

Either way the ids the change handed out stay taken (`last_article_number`): an undone
`add` does not free its id (a feed may already carry its GUID).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .errors import EcdigestError, UsageError
from .history import (
    UNDO,
    Commit,
    Description,
    HistoryError,
    NothingToUndo,
    Repo,
    _first_line,
    last_change,
)

if TYPE_CHECKING:
    from .archive import Archive
    from .model import Article, Issue


@dataclass(frozen=True)
class Undone:
    """What `undo` took back, and the commit that did it."""

    undone: Commit
    commit: str
    paths: tuple[str, ...]


def undo(archive: Archive) -> Undone:
    """Revert the last change the tool made for this person, as a new commit."""
    with archive.locked():
        repo, commit = last_change(archive)
        if commit.change == "init":
            raise UsageError(
                "the last change is the archive's creation (init), which undo does not take back",
                hint="delete the archive's folder to start again",
            )
        names = repo.git("show", "--format=", "--name-only", commit.commit).stdout.split("\n")
        paths = [name for name in names if name]
        dirty = repo.dirty(paths)
        if dirty:
            raise UsageError(
                f"{', '.join(dirty)} has changes not committed yet; undo would mix them with its own",
                hint="commit them (git commit) or discard them (git restore), then undo again",
            )
        result = repo.git("revert", "--no-commit", commit.commit, check=False)
        if result.returncode != 0:
            _restore(repo, paths)
            _by_article(archive, repo, commit, paths, _first_line(result.stderr or result.stdout))
        _keep_ids_retired(archive, repo, commit.commit, paths)
        description = Description(
            UNDO,
            f"undo {commit.subject}",
            list(commit.issues),
            list(commit.articles),
            undoes=commit.commit,
        )
        try:
            made = repo.commit(paths, description.message())
        except HistoryError:
            _restore(repo, paths)
            raise
        if made is None:  # the revert changed nothing (the change was taken back by hand)
            _restore(repo, paths)
            raise NothingToUndo(
                f"{commit.commit[:7]} “{commit.subject}” is already taken back in the files; nothing changed"
            )
    return Undone(commit, made, tuple(paths))


def _restore(repo: Repo, paths: Sequence[str]) -> None:
    """Put `paths` back as the last commit has them (a revert git could not finish)."""
    repo.git("revert", "--abort", check=False)
    repo.git("reset", "--quiet", "--", *paths, check=False)
    known = repo.git("ls-tree", "--name-only", "HEAD", "--", *paths, check=False).stdout.split("\n")
    present = [name for name in known if name]
    if present:
        repo.git("checkout", "--quiet", "HEAD", "--", *present, check=False)


# --------------------------------------------------------------------------- article by article


def _issue_at(repo: Repo, revision: str, name: str) -> Issue | None:
    """The issue in file `name` at `revision`; None when the file is not there."""
    import tomllib

    from .codec import decode_issue

    shown = repo.git("show", f"{revision}:{name}", check=False)
    if shown.returncode != 0:
        return None
    try:
        issue, _problems = decode_issue(tomllib.loads(shown.stdout), shown.stdout)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise HistoryError(
            f"{name} at {revision[:7]} is not an issue file ecdigest can read: {exc}"
        ) from None
    return issue


def _by_article(archive: Archive, repo: Repo, commit: Commit, paths: Sequence[str], why: str) -> None:
    """Take the commit back article by article in the files as they are now (module doc);
    HistoryError, with nothing changed, when something it changed was changed again since."""
    from .archive import check_round_trip
    from .codec import encode_issue_keeping
    from .fileio import atomic_write

    def conflict(what: str) -> HistoryError:
        return HistoryError(
            f"cannot undo {commit.commit[:7]} “{commit.subject}”: {what} since; nothing was changed",
            hint=_instead(commit, repo),
        )

    planned: list[tuple[str, Issue | None]] = []
    for name in paths:
        if not name.endswith(".toml") or os.path.basename(name) == "ecdigest.toml":
            raise conflict(f"{name} changed ({why})")
        before = _issue_at(repo, f"{commit.commit}^", name)
        after = _issue_at(repo, commit.commit, name)
        path = repo.top / name
        now = archive.read(path).issue if path.exists() else None
        if after is None:
            raise conflict(f"{name} was deleted by it, and git could not restore it ({why})")
        if now is None:
            raise conflict(f"{name} was deleted")
        if before is None:  # the commit created the file (new, import)
            if replace(now, last_article_number=0) != replace(after, last_article_number=0):
                raise conflict(f"{now.id} was changed")
            planned.append((name, None))
            continue
        planned.append((name, _revert_issue(before, after, now, conflict)))
    for name, issue in planned:
        path = repo.top / name
        if issue is None:
            path.unlink()
            continue
        text = encode_issue_keeping(issue, path.read_text("utf-8"), path=path)
        check_round_trip(issue, text, path)
        atomic_write(path, text.encode("utf-8"))


def _revert_issue(before: Issue, after: Issue, now: Issue, fail: Callable[[str], HistoryError]) -> Issue:
    """`now` with the change from `before` to `after` taken back, article by article."""

    def by_id(issue: Issue) -> dict[str, Article]:
        found = {a.id: a for a in issue.articles}
        if len(found) != len(issue.articles):
            raise fail(f"{issue.id} holds an article id twice")
        return found

    old, new, cur = by_id(before), by_id(after), by_id(now)
    result = list(now.articles)
    for article_id in dict.fromkeys([*old, *new]):
        o, n, c = old.get(article_id), new.get(article_id), cur.get(article_id)
        if o == n:
            continue
        if c != n:
            raise fail(f"{article_id} was changed")
        if o is None:  # the commit added it
            result = [a for a in result if a.id != article_id]
        elif c is None:  # the commit removed it: back next to the articles it followed
            result.insert(_place(before, article_id, result), o)
        else:
            result = [o if a.id == article_id else a for a in result]
    # A reorder: the articles both versions hold go back to their old order, if nobody
    # reordered them since.
    kept = [a.id for a in before.articles if a.id in new]
    moved = [a.id for a in after.articles if a.id in old]
    if kept != moved:
        present = [a.id for a in result if a.id in old and a.id in new]
        if present != [i for i in moved if i in present]:
            raise fail(f"the order of {now.id} was changed")
        slots = iter(i for i in kept if i in present)
        by = {a.id: a for a in result}
        result = [by[next(slots)] if a.id in present else a for a in result]
    issue = replace(now, articles=tuple(result))
    for field in ("id", "title", "date", "status"):
        if getattr(before, field) != getattr(after, field):
            if getattr(now, field) != getattr(after, field):
                raise fail(f"{now.id}'s {field} was changed")
            issue = replace(issue, **{field: getattr(before, field)})
    return replace(issue, last_article_number=max(now.last_article_number, after.last_article_number))


def _place(before: Issue, article_id: str, result: Sequence[Article]) -> int:
    """Where a removed article goes back: after the nearest article before it (in its old
    issue) that is still there, else before the nearest one after it, else at the end."""
    order = [a.id for a in before.articles]
    at = order.index(article_id)
    ids = [a.id for a in result]
    for earlier in reversed(order[:at]):
        if earlier in ids:
            return ids.index(earlier) + 1
    for later in order[at + 1 :]:
        if later in ids:
            return ids.index(later)
    return len(result)


# --------------------------------------------------------------------------- ids stay taken


def _keep_ids_retired(archive: Archive, repo: Repo, commit: str, paths: Sequence[str]) -> None:
    """After taking `commit` back, its issue files still remember every article number it
    handed out (`last_article_number`): an article id, like its feed GUID, is never given
    to another article, even after its `add` is undone."""
    from .archive import check_round_trip
    from .codec import encode_issue_keeping
    from .fileio import atomic_write

    for name in paths:
        path = repo.top / name
        if not name.endswith(".toml") or not path.is_file():
            continue
        try:
            undone = _issue_at(repo, commit, name)
            current = archive.read(path)
        except EcdigestError:
            continue  # not an issue file (ecdigest.toml), or one that does not read: as git left it
        if undone is None or undone.id != current.issue.id:
            continue
        if undone.last_article_number > current.issue.last_article_number:
            issue = replace(current.issue, last_article_number=undone.last_article_number)
            text = encode_issue_keeping(issue, path.read_text("utf-8"), path=path)
            check_round_trip(issue, text, path)
            atomic_write(path, text.encode("utf-8"))


def _instead(commit: Commit, repo: Repo) -> str:
    """What to do when the change cannot be taken back: the command that does it for an
    article, else git's own revert, by hand."""
    if commit.change == "add" and len(commit.articles) == 1:
        return f"remove the article instead: ecdigest rm {commit.articles[0]}"
    if commit.change in ("edit", "mv") and commit.articles:
        return (
            f"change it back with ecdigest {commit.change} {commit.articles[0]}, "
            f"or: git -C {repo.top} revert {commit.commit[:12]}"
        )
    return f"undo it by hand: git -C {repo.top} revert {commit.commit[:12]}"
