"""`ecdigest log` and `ecdigest undo`: the archive's history in git (history.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ..terminal import printable
from .app import app, state
from .output import FormatOption, TextOrJson, note, write_stdout

if TYPE_CHECKING:
    from ..history import Commit


def _line(commit: Commit) -> str:
    """`a1b2c3d  2023-07-10 09:00  张三  add 2023-07-002 商务部：…` (the tool's changes marked)."""
    when = commit.date[:16].replace("T", " ")
    mark = "" if commit.change is not None else " (by hand)"
    return printable(f"{commit.commit[:7]}  {when}  {commit.author}  {commit.subject}{mark}", one_line=True)


@app.command()
def log(
    ctx: typer.Context,
    target: Annotated[
        str | None,
        typer.Argument(
            metavar="[ISSUE|ARTICLE]", help="An issue or an article (default: the whole archive)."
        ),
    ] = None,
    *,
    format: FormatOption = TextOrJson.text,
    no_pager: Annotated[bool, typer.Option("--no-pager", help="Print straight to the terminal.")] = False,
) -> None:
    """The archive's history in git: every change, newest first (one issue's, one article's).

    \b
    Example: ecdigest log 2023-07-002

    With `[history] git = true` in ecdigest.toml every change ecdigest makes is a commit
    (`add 2023-07-002 商务部：…`, by git's user.name). An article's history follows it
    through moves (its older ids) and includes edits made by hand to its lines; commits
    not made by ecdigest are marked (by hand). Works on any archive kept in git.
    """
    from ..export.jsonout import dumps
    from ..history import history
    from ..pager import page

    archive = state(ctx).archive()
    commits = history(archive, target)
    if format is TextOrJson.json:
        page(dumps([c.to_dict() for c in commits]), enabled=not no_pager)
        return
    if not commits:
        note(f"no history yet for {target or archive.root}")
        return
    page("".join(_line(c) + "\n" for c in commits), enabled=not no_pager)


@app.command()
def undo(
    ctx: typer.Context,
    *,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be undone; change nothing.")
    ] = False,
) -> None:
    """Take back the last change ecdigest made for you, as a new commit (git revert).

    Example: ecdigest undo

    Only ecdigest's own changes made under your git identity (user.email), never another
    person's commit nor an edit by hand; again, and it takes back the one before. Refused
    (nothing changed) when the files involved have uncommitted changes, or when later
    commits changed the same lines.
    """
    from ..history import last_change
    from ..undo import undo as run_undo

    archive = state(ctx).archive()
    if dry_run:
        _, commit = last_change(archive)
        write_stdout(f"would undo {commit.commit[:7]} {printable(commit.subject, one_line=True)}\n")
        return
    done = run_undo(archive)
    write_stdout(f"undid {done.undone.commit[:7]} {printable(done.undone.subject, one_line=True)}\n")
    note(f"committed {done.commit[:7]} (undo); `ecdigest log` shows it")
