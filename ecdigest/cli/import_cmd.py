"""`ecdigest import`: back issues (PDF, Word, or their text) become issue files, one or many."""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..terminal import printable, stdout_is_terminal
from .app import app, state
from .output import FormatOption, TextOrJson, emit_json, note, table, write_stdout

if TYPE_CHECKING:
    from ..archive import IssueFile
    from ..errors import EcdigestError
    from ..importer import ImportResult

# What a folder given to `import` is searched for (case does not matter).
IMPORTABLE = (".txt", ".text", ".pdf", ".docx")


class Status(enum.StrEnum):
    draft = "draft"
    published = "published"


@dataclass
class _Outcome:
    """One input file: what it became, or why not."""

    name: str
    result: ImportResult | None = None
    target: IssueFile | None = None
    error: EcdigestError | None = None


@app.command(name="import")
def import_(
    ctx: typer.Context,
    files: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE|FOLDER...",
            help="Back issues: PDF, Word (.docx) or text files, folders of them (searched for "
            ".pdf, .docx, .txt), or - for stdin.",
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
            help="Issue date: 2023-06-05, '2023 年 06 月 05 日' (default: the latest attribution date). One file only."
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
            help="Encoding of text files, e.g. gb18030 (default: detected; UTF-8 with or without BOM, GB18030/GBK, UTF-16 with BOM).",
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the summary; write nothing.")] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Text that fits in no article fails that file: exit 1, it is not written."
        ),
    ] = False,
    format: FormatOption = TextOrJson.text,
) -> None:
    """Import back issues: each file becomes one new issue in the archive.

    Example: ecdigest import back-issues/ --status published

    Reads PDF files (the text layer: page headers, footers and numbers are dropped, two
    columns are read in order; scans without text are refused), Word .docx files
    (headings, paragraphs, a title's hyperlink becomes the article's url) and text,
    including the layout PDF-to-text tools leave. Articles end with their attribution
    line (来源：… 2023 年 05 月 31 日) and follow their section header (【行业资讯】).
    Text that fits in no article is reported on stderr; the import goes ahead unless
    --strict. An issue id that already exists is refused: import never merges.

    One file: exit 0 imported, 1 with --strict when text was left out, 2 on any error
    (nothing written). Several files or a folder: each file that fails is one error line
    and is skipped, the others are imported, a table sums up, and the exit code is 1 if
    any file failed.
    """
    from ..dates import parse_date
    from ..errors import ConflictError, EcdigestError, Failure, UsageError
    from ..fileio import read_bytes
    from ..importer import import_issues, parse_issue

    archive = state(ctx).archive()
    settings = archive.settings
    names, missing = _expand(files)
    batch = len(names) + len(missing) > 1 or any(os.path.isdir(name) for name in files if name != "-")
    if batch and (issue_id or title or date):
        raise UsageError("--id, --date and --title name one issue", hint="import those files one at a time")
    if files.count("-") > 1:
        raise UsageError("stdin (-) can be read only once")
    when = parse_date(date, tz=settings.timezone) if date else None
    outcomes = [_Outcome(name, error=error) for name, error in missing]
    seen: dict[str, str] = {}
    for name in _progress(names, batch):
        outcome = _Outcome("<stdin>" if name == "-" else name)
        outcomes.append(outcome)
        try:
            result = parse_issue(
                read_bytes(name),
                sections=settings.sections,
                issue_id=issue_id,
                date=when,
                title=title,
                status=status.value,
                newsletter_title=settings.title,
                encoding=encoding,
                path=outcome.name,
            )
            if result.issue.id in seen:
                raise ConflictError(
                    f"becomes issue {result.issue.id!r}, like {seen[result.issue.id]}",
                    path=outcome.name,
                    hint="import it on its own with --id",
                )
            for item in result.unplaced:
                note(
                    printable(
                        f"ecdigest: warning: {outcome.name}:{result.location(item)}: in no article "
                        f"({item.reason}): {item.excerpt}",
                        one_line=True,
                    )
                )
            if strict and result.unplaced:
                count = len(result.unplaced)
                raise Failure(
                    f"{count} passage{'s' if count > 1 else ''} of text fit in no article; "
                    + ("the file was not imported" if batch else "nothing was imported"),
                    path=outcome.name if batch else None,
                    hint="fix the text, or import without --strict",
                )
        except UsageError:
            raise  # the command line is wrong for every file
        except EcdigestError as error:
            if not batch:
                raise
            outcome.error = error
            continue
        seen[result.issue.id] = outcome.name
        outcome.result = result
    parsed = [o for o in outcomes if o.result is not None]
    written = import_issues(
        archive, [o.result.issue for o in parsed if o.result], dry_run=dry_run, keep_going=batch
    )
    for outcome, target in zip(parsed, written, strict=True):
        if isinstance(target, EcdigestError):  # name the input file, then the issue file
            where = f"{target.path}: " if target.path else ""
            outcome.error = type(target)(where + target.message, path=outcome.name, hint=target.hint)
        else:
            outcome.target = target
    failed = [o for o in outcomes if o.error is not None]
    for outcome in failed:
        note(printable(f"ecdigest: error: {outcome.error}", one_line=True))
    if format is TextOrJson.json:
        emit_json([_summary_dict(o, dry_run) for o in outcomes])
    elif batch:
        _print_table(outcomes, settings.sections, dry_run)
    else:
        _print_one(outcomes[0], dry_run)
    if failed:
        raise Failure(
            f"{len(failed)} of {len(outcomes)} files could not be imported",
            hint="see the error lines above; the other files were " + ("checked" if dry_run else "imported"),
        )


def _expand(args: Sequence[str]) -> tuple[list[str], list[tuple[str, EcdigestError]]]:
    """Files as given, and the importable files found in folders (sorted, hidden ones
    skipped, folder links not followed); a folder with nothing to import is an error."""
    from ..errors import InputError

    names: list[str] = []
    empty: list[tuple[str, EcdigestError]] = []
    for arg in args:
        if arg == "-" or not os.path.isdir(arg):
            names.append(arg)
            continue
        found = sorted(_walk(arg))
        if not found:
            empty.append((arg, InputError(f"no {', '.join(IMPORTABLE)} files in this folder", path=arg)))
        names += found
    return names, empty


def _walk(folder: str) -> Iterable[str]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = os.path.join(root, name)
            if not name.startswith(".") and name.lower().endswith(IMPORTABLE) and os.path.isfile(path):
                yield path


def _progress(files: list[str], batch: bool) -> Any:
    """The files, with a progress bar when several are imported on a terminal."""
    if not batch or len(files) < 2 or not stdout_is_terminal():
        return files
    from rich.progress import track

    return track(files, description="importing", transient=True)


def _counts(outcome: _Outcome) -> dict[str, int]:
    return outcome.result.counts if outcome.result else {}


def _issue(outcome: _Outcome) -> Any:
    if outcome.target is not None:
        return outcome.target.issue
    return outcome.result.issue if outcome.result else None


def _print_one(outcome: _Outcome, dry_run: bool) -> None:
    issue, result = _issue(outcome), outcome.result
    if issue is None or result is None or outcome.target is None:
        return
    counts = ", ".join(f"{name} {count}" for name, count in result.counts.items())
    verb = "would import" if dry_run else "imported"
    text = f"{verb} {outcome.name} ({result.encoding}) as {issue.id} ({issue.status}, {issue.date}) -> {outcome.target.path}"
    lines = [
        printable(text, one_line=True),
        f"  {len(issue.articles)} articles: {printable(counts, one_line=True)}"
        + (f"; {len(result.unplaced)} passage(s) left out" if result.unplaced else ""),
    ]
    if dry_run:
        lines.append("dry run: nothing was written")
    write_stdout("\n".join(lines) + "\n")


def _print_table(outcomes: Sequence[_Outcome], sections: Sequence[str], dry_run: bool) -> None:
    rows = []
    for outcome in outcomes:
        issue, counts = _issue(outcome), _counts(outcome)
        if outcome.error is not None or issue is None:
            rows.append([outcome.name, "failed", "", *([""] * len(sections)), ""])
            continue
        left = len(outcome.result.unplaced) if outcome.result else 0
        rows.append(
            [
                outcome.name,
                issue.id,
                str(len(issue.articles)),
                *(str(counts.get(s, 0)) for s in sections),
                str(left),
            ]
        )
    table(["file", "issue", "articles", *sections, "left out"], rows)
    done = sum(o.error is None for o in outcomes)
    failed = len(outcomes) - done
    verb = "would import" if dry_run else "imported"
    line = f"{verb} {done} of {len(outcomes)} files" + (f"; {failed} failed" if failed else "")
    write_stdout(line + ("\ndry run: nothing was written\n" if dry_run else "\n"))


def _summary_dict(outcome: _Outcome, dry_run: bool) -> dict[str, Any]:
    issue, result = _issue(outcome), outcome.result
    if outcome.error is not None or issue is None or result is None:
        return {"file": outcome.name, "error": str(outcome.error)}
    return {
        "file": outcome.name,
        "encoding": result.encoding,
        "id": issue.id,
        "date": issue.date.isoformat() if issue.date else None,
        "status": issue.status,
        "path": str(outcome.target.path) if outcome.target else None,
        "written": not dry_run,
        "articles": len(issue.articles),
        "sections": result.counts,
        "unplaced": [
            {
                "first_line": u.first_line,
                "last_line": u.last_line,
                "where": result.location(u),
                "reason": u.reason,
                "text": u.text,
            }
            for u in result.unplaced
        ],
    }
