"""`ecdigest import`: back issues as a PDF-to-text tool left them become issue files."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..terminal import stdout_is_terminal
from .app import app, state
from .output import FormatOption, TextOrJson, emit_json, note, write_stdout

if TYPE_CHECKING:
    from ..importer import ImportResult


class Status(enum.StrEnum):
    draft = "draft"
    published = "published"


@app.command(name="import")
def import_(
    ctx: typer.Context,
    files: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE...",
            help="Text of a back issue (PDF-to-text output, or typed in the newsletter's form); - reads stdin.",
        ),
    ],
    *,
    issue_id: Annotated[
        str | None,
        typer.Option(
            "--id", metavar="ID", help="Issue id (default: YYYY-MM of the issue date). One file only."
        ),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(
            help="Issue date: 2023-06-05, '2023 年 06 月 05 日' (default: the latest attribution date)."
        ),
    ] = None,
    title: Annotated[
        str | None, typer.Option(help="Issue title (default: '<newsletter> YYYY 年 M 月'). One file only.")
    ] = None,
    status: Annotated[
        Status, typer.Option(help="draft, or published for a back issue that went out.", case_sensitive=False)
    ] = Status.draft,
    encoding: Annotated[
        str | None,
        typer.Option(
            metavar="ENC",
            help="Input encoding, e.g. gb18030 (default: detected; UTF-8 with or without BOM, GB18030/GBK, UTF-16 with BOM).",
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the summary; write nothing.")] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Text that fits in no article fails the import: exit 1, nothing written."
        ),
    ] = False,
    format: FormatOption = TextOrJson.text,
) -> None:
    """Import back issues: each file becomes one new issue in the archive.

    Example: ecdigest import ecd-2023-06.txt --status published

    Understands the layout PDF-to-text tools leave (a blank line after every line, hard
    wraps, page breaks and page numbers) as well as plain text. Articles end with their
    attribution line (来源：… 2023 年 05 月 31 日) and follow their section header
    (【行业资讯】). Text that fits in no article is reported with its line numbers on
    stderr; the import goes ahead unless --strict. An issue id that already exists is
    refused (exit 2): import never merges. Exit codes: 0 imported, 1 --strict and text
    was left out, 2 usage or input errors (nothing written).
    """
    from ..dates import parse_date
    from ..errors import ConflictError, Failure, UsageError
    from ..fileio import read_bytes
    from ..importer import import_issues, parse_issue

    archive = state(ctx).archive()
    settings = archive.settings
    if len(files) > 1 and (issue_id or title or date):
        raise UsageError("--id, --date and --title name one issue", hint="import those files one at a time")
    if files.count("-") > 1:
        raise UsageError("stdin (-) can be read only once")
    when = parse_date(date, tz=settings.timezone) if date else None
    results: list[tuple[str, ImportResult]] = []
    for name in _progress(files):
        where = "<stdin>" if name == "-" else name
        result = parse_issue(
            read_bytes(name),
            sections=settings.sections,
            issue_id=issue_id,
            date=when,
            title=title,
            status=status.value,
            newsletter_title=settings.title,
            encoding=encoding,
            path=where,
        )
        results.append((where, result))
    seen: dict[str, str] = {}
    for where, result in results:
        if result.issue.id in seen:
            raise ConflictError(
                f"{seen[result.issue.id]} and {where} both become issue {result.issue.id!r}",
                hint="import one of them on its own with --id",
            )
        seen[result.issue.id] = where
    left_out = 0
    for where, result in results:
        for item in result.unplaced:
            left_out += 1
            note(f"ecdigest: warning: {where}:{item.lines}: in no article ({item.reason}): {item.excerpt}")
    if strict and left_out:
        raise Failure(
            f"{left_out} passage{'s' if left_out > 1 else ''} of text fit in no article; nothing was imported",
            hint="fix the text, or import without --strict",
        )
    planned = import_issues(archive, [result.issue for _, result in results], dry_run=dry_run)
    paths = [str(item.path) for item in planned]
    if format is TextOrJson.json:
        emit_json([_summary_dict(w, r, p, dry_run) for (w, r), p in zip(results, paths, strict=True)])
        return
    lines = []
    for (where, result), path in zip(results, paths, strict=True):
        issue = result.issue
        counts = ", ".join(f"{name} {count}" for name, count in result.counts.items())
        verb = "would import" if dry_run else "imported"
        lines.append(
            f"{verb} {where} ({result.encoding}) as {issue.id} ({issue.status}, {issue.date}) -> {path}\n"
            f"  {len(issue.articles)} articles: {counts}"
            + (f"; {len(result.unplaced)} passage(s) left out" if result.unplaced else "")
        )
    if dry_run:
        lines.append("dry run: nothing was written")
    write_stdout("\n".join(lines) + "\n")


def _progress(files: list[str]) -> Any:
    """The files, with a progress bar when several are imported on a terminal."""
    if len(files) < 3 or not stdout_is_terminal():
        return files
    from rich.progress import track

    return track(files, description="importing", transient=True)


def _summary_dict(where: str, result: ImportResult, path: str, dry_run: bool) -> dict[str, Any]:
    issue = result.issue
    return {
        "file": where,
        "encoding": result.encoding,
        "id": issue.id,
        "date": issue.date.isoformat() if issue.date else None,
        "status": issue.status,
        "path": path,
        "written": not dry_run,
        "articles": len(issue.articles),
        "sections": result.counts,
        "unplaced": [
            {"first_line": u.first_line, "last_line": u.last_line, "reason": u.reason, "text": u.text}
            for u in result.unplaced
        ],
    }
