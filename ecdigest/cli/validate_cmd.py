"""`ecdigest validate`: check sources, dates and text; report, and optionally fix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ..terminal import color_enabled, printable
from .app import app, state
from .output import FormatOption, TextOrJson, emit_json, note, write_stdout

if TYPE_CHECKING:
    from ..validate import FileFix, Report


@app.command()
def validate(
    ctx: typer.Context,
    issues: Annotated[
        list[str] | None,
        typer.Argument(metavar="[ISSUE]...", help="Issue ids to check (default: the whole archive)."),
    ] = None,
    *,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit code 1).")] = False,
    format: FormatOption = TextOrJson.text,
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="Apply the safe fixes (W501 urls, W801-W804 copy-editing), then report what is left.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --fix: print the fixes as a unified diff, change nothing.")
    ] = False,
) -> None:
    """Check every article's source, dates and text; exit 1 when errors are found.

    Example: ecdigest validate 2023-06 --strict

    Exit codes: 0 no errors (with --strict: no warnings either), 1 problems found,
    2 usage or input errors. Cross-issue rules (duplicate ids, a story already
    published) always look at the whole archive. --fix rewrites only titles and
    bodies, under the archive lock, atomically, and lists each change; files with
    structural errors are left alone.
    """
    from ..errors import UsageError
    from ..validate import apply_fixes, plan_fixes, validate_report

    if dry_run and not fix:
        raise UsageError("--dry-run only goes with --fix", hint="use `validate --fix --dry-run`")
    if dry_run and format is TextOrJson.json:
        raise UsageError("--fix --dry-run prints a diff; it does not combine with --format json")
    archive = state(ctx).archive()
    ids = list(issues or [])

    if fix and dry_run:
        fixes = plan_fixes(archive, ids)
        # The diff quotes file contents and names: controls and undecodable bytes made visible.
        write_stdout(printable("".join(f.diff() for f in fixes)))
        _note_skipped(fixes)
        if not any(f.diff() for f in fixes):
            note("nothing to fix")
        report = validate_report(archive, ids, keep=False, cache=True)
        raise typer.Exit(_exit_code(report, strict))

    if fix:
        fixes = apply_fixes(archive, ids)
        _print_changes(fixes, to_stderr=format is TextOrJson.json)
        _note_skipped(fixes)

    report = validate_report(archive, ids, keep=False, cache=True)
    if format is TextOrJson.json:
        emit_json([p.to_dict() for p in report.problems])
    else:
        write_stdout(_render(report))
    raise typer.Exit(_exit_code(report, strict))


def _exit_code(report: Report, strict: bool) -> int:
    return 1 if report.errors or (strict and report.warnings) else 0


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _render(report: Report) -> str:
    """Problems grouped by issue file, then the summary line."""
    colour = color_enabled()
    out: list[str] = []
    groups: dict[str, list[str]] = {}
    headers: dict[str, str] = {}
    for problem in report.problems:
        key = problem.path or ""
        if key not in groups:
            groups[key] = []
            headers[key] = printable(f"{problem.issue}  {key}" if problem.issue else key)
        where = f"{problem.path}:{problem.line}" if problem.line else f"{problem.path}"
        label = f"{problem.code} {problem.severity}"
        if colour:
            label = typer.style(label, fg="red" if problem.is_error else "yellow", bold=problem.is_error)
        subject = " ".join(x for x in (problem.article, problem.field) if x)
        subject = f"[{subject}] " if subject else ""
        # Messages quote article text: escape its control characters, not our colours.
        groups[key].append(f"  {printable(where)}: {label}: {printable(subject + problem.message)}")
    for key, lines in groups.items():
        header = typer.style(headers[key], bold=True) if colour else headers[key]
        out.append(header)
        out += lines
        out.append("")
    out.append(
        f"{_plural(report.errors, 'error')}, {_plural(report.warnings, 'warning')} "
        f"in {_plural(len(report.checked), 'issue')}"
    )
    return "\n".join(out) + "\n"


def _print_changes(fixes: list[FileFix], *, to_stderr: bool) -> None:
    lines: list[str] = []
    files = 0
    changes = 0
    for fix in fixes:
        if fix.skipped:
            continue
        files += 1
        changes += fix.total
        for change in fix.changes:
            where = f"{fix.path}:{change.line}" if change.line else str(fix.path)
            subject = " ".join(x for x in (change.article, change.field) if x)
            lines.append(f"{where}: {change.code} fixed [{subject}] {change.before!r} -> {change.after!r}")
        if fix.unlisted:
            lines.append(f"{fix.path}: and {_plural(fix.unlisted, 'more fix', 'more fixes')} like these")
    if changes:
        lines.append(f"fixed {_plural(changes, 'problem')} in {_plural(files, 'file')}")
    else:
        lines.append("nothing to fix")
    text = "\n".join(lines) + "\n"
    if to_stderr:
        note(text.rstrip("\n"))
    else:
        write_stdout(printable(text) + "\n")


def _note_skipped(fixes: list[FileFix]) -> None:
    for fix in fixes:
        if fix.skipped:
            note(f"ecdigest: {fix.path}: not fixed ({fix.total} fixable problems): {fix.skipped}")
