"""`ecdigest publish` (mark an issue published) and `ecdigest build` (the cron job)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from ..guards import DEFAULT_SITE
from ..terminal import printable, stdout_is_terminal
from .app import app, state
from .output import FormatOption, TextOrJson, emit_json, note, write_stdout

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..build import BuildResult, Progress
    from ..model import Newsletter
    from ..validate import Problem


def _problem_line(problem: Problem) -> str:
    from ..guards import problem_line

    return problem_line(problem)


def _report(problems: list[Problem]) -> None:
    for problem in problems:
        note(_problem_line(problem))


@app.command()
def publish(
    ctx: typer.Context,
    issue: Annotated[str, typer.Argument(metavar="ISSUE", help="Issue id to publish.")],
    *,
    date: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="Publication date: 2023-07-05, '2023 年 07 月 05 日', today (default: the issue's date).",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Publish even if validation finds errors.")] = False,
) -> None:
    """Validate an issue, then mark it published (it goes into the feed at the next build).

    Example: ecdigest publish 2023-07 --date 2023-07-05

    Refuses (exit 1, file unchanged) when `ecdigest validate ISSUE` finds errors, unless
    --force; warnings are shown but do not stop it. The date defaults to the issue's own
    date (today if it has none); dates in the future are refused. Runs under the archive
    lock and re-reads the file inside it.
    """
    from ..publish import PublishRefused, publish_issue

    archive = state(ctx).archive()
    try:
        result = publish_issue(archive, issue, date=date, force=force)
    except PublishRefused as refused:
        _report(refused.problems)
        raise
    _report(result.problems)
    when = result.issue.date.isoformat() if result.issue.date else "?"
    if result.changed:
        count = len(result.issue.articles)
        write_stdout(f"published {result.issue.id} ({when}, {count} article{'' if count == 1 else 's'})\n")
        if stdout_is_terminal():
            note(f"updated {result.path}; next: ecdigest build")
    else:
        write_stdout(f"{result.issue.id} was already published ({when}); nothing changed\n")
    _placeholders(archive.settings)


def _placeholders(settings: Newsletter) -> None:
    """Warn while ecdigest.toml holds the example.org values `init` wrote (guards.py), once
    the command has done its work (an error stays the one line on stderr)."""
    from ..guards import placeholder_warning

    warning = placeholder_warning(settings)
    if warning is not None:
        note(f"ecdigest: warning: {warning}")


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (ValueError, OSError):
        return False


@app.command()
def build(
    ctx: typer.Context,
    *,
    output: Annotated[
        str, typer.Option("--output", "-o", metavar="DIR", help="Output folder (default: ./site).")
    ] = DEFAULT_SITE,
    format: FormatOption = TextOrJson.text,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing when nothing changed.")] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace or remove files changed by hand or not written by ecdigest."),
    ] = False,
) -> None:
    """Validate, then write the website, the feeds and the latest email: the cron job.

    Example: ecdigest --archive issues build -o site

    Writes into DIR the web archive (index.html, a page per issue at its issue_url, pages
    per section, source and tag, search, stats, share pages, 404, robots.txt, sitemap.xml;
    each configured edition under DIR/EDITION/), the feeds (feed.xml, atom.xml, feed.json,
    RFC 5005 archive pages, per-section feeds), ISSUE.md per published issue and
    email/ISSUE.txt + .eml for the latest. Only what changed is rendered and written; files
    it no longer produces are removed; files changed by hand are left alone and reported
    (exit 1; --force replaces them). Errors in published issues: exit 1, nothing written.
    Prints one summary line (--format json for scripts).
    """
    from ..build import BuildConflicts, BuildRefused
    from ..build import build as run_build
    from ..outputs import output_folder

    archive = state(ctx).archive()
    out_dir = output_folder(output, archive)
    try:
        if _stderr_is_terminal():
            result = _with_progress(
                lambda progress: run_build(archive, out_dir, progress=progress, force=force)
            )
        else:
            result = run_build(archive, out_dir, force=force)
    except BuildRefused as refused:
        _report(refused.problems)
        raise
    if format is TextOrJson.json:
        emit_json(result.to_dict())
    elif not (quiet and not result.written and not result.removed):
        write_stdout(printable(result.summary(), one_line=True) + "\n")
    for name, problem in result.conflicts:
        note(f"{out_dir / name}: {problem}")
    if result.conflicts:
        raise BuildConflicts(result)
    _placeholders(archive.settings)


def _with_progress(job: Callable[[Progress], BuildResult]) -> BuildResult:
    """Run `job` with a rich progress bar on stderr (only called when stderr is a terminal)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
    from rich.progress import Progress as ProgressBar

    with ProgressBar(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[label]}"),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("building", total=None, label="")

        def advance(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, label=label)

        return job(advance)
