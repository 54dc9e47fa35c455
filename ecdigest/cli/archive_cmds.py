"""Everyday commands: init, new, add, list, show."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..terminal import stdin_is_terminal, stdout_is_terminal
from .app import app, state
from .output import FormatOption, TextOrJson, emit_json, note, table, write_stdout

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..archive import Archive
    from ..model import Newsletter
    from ..operations import ArticleDraft


# An article's fields as options: one definition for `add` and `edit`.
TitleOption = Annotated[str | None, typer.Option(metavar="TEXT", help="Headline.")]
SectionOption = Annotated[
    str | None, typer.Option(metavar="NAME", help="One of the archive's sections, e.g. 行业资讯.")
]
SourceOption = Annotated[
    str | None, typer.Option(metavar="TEXT", help="Outlet as printed: 《人民日报》 or “央广网”.")
]
CompiledByOption = Annotated[
    str | None,
    typer.Option(
        metavar="TEXT",
        help="Who compiled it (add's default: the editorial office for outside sources; '' for none).",
    ),
]
DateOption = Annotated[
    str | None,
    typer.Option(metavar="DATE", help="Attribution date: 2023-05-31, '2023 年 05 月 31 日', today."),
]
UrlOption = Annotated[
    str | None, typer.Option(metavar="URL", help="Link to the original (http/https; '' for none).")
]
TagOption = Annotated[
    list[str] | None, typer.Option("--tag", metavar="TAG", help="A tag; repeat for several.")
]
BodyOption = Annotated[
    str | None, typer.Option(metavar="TEXT", help="Body text; paragraphs separated by a blank line.")
]
BodyFileOption = Annotated[
    str | None, typer.Option(metavar="PATH|-", help="Read the body from a UTF-8 file, or - for stdin.")
]


@app.command()
def init(
    directory: Annotated[
        Path | None,
        typer.Argument(metavar="[DIR]", help="Folder for the new archive (default: the --archive path)."),
    ] = None,
    *,
    title: Annotated[str | None, typer.Option(metavar="TEXT", help="Newsletter title.")] = None,
    editor: Annotated[
        str | None, typer.Option(metavar="TEXT", help="Editorial office, e.g. 《电子商务动态》编辑部.")
    ] = None,
    link: Annotated[str | None, typer.Option(metavar="URL", help="Web site the feed points at.")] = None,
    email_from: Annotated[
        str | None, typer.Option("--from", metavar="ADDR", help="The email's From: 编辑部 <editor@your.org>.")
    ] = None,
    email_to: Annotated[
        str | None, typer.Option("--to", metavar="ADDR", help="The list's address the email goes to.")
    ] = None,
    git: Annotated[
        bool,
        typer.Option(
            "--git", help="Keep every change as a git commit ([history] git = true; git init if needed)."
        ),
    ] = False,
    ctx: typer.Context,
) -> None:
    """Create a new archive.

    Example: ecdigest init ~/ecd --link https://example.org/ecd/ --git

    Writes ecdigest.toml (the four sections of the newsletter by default) and a
    .gitignore for the search index; refuses to touch an existing archive. On a terminal
    it asks for the title, the site link and the email addresses not given as options
    (Enter keeps the example.org placeholders, which build and publish warn about).
    """
    from ..archive import SETTINGS_FILE, resolve_root
    from ..operations import init_archive

    root = directory if directory is not None else resolve_root(state(ctx).archive_option)
    if stdin_is_terminal():
        title, link, email_from, email_to = _ask_settings(title, link, email_from, email_to)
    init_archive(
        root, title=title, editor=editor, link=link, email_from=email_from, email_to=email_to, git=git
    )
    note(f"created {root / SETTINGS_FILE}")
    note(f"next: ecdigest --archive {root} new --date today")


def _ask_settings(
    title: str | None, link: str | None, email_from: str | None, email_to: str | None
) -> tuple[str | None, str | None, str | None, str | None]:
    """Ask on a terminal for what `init` was not given; a wrong answer is asked again."""
    from ..errors import UsageError
    from ..model import Newsletter
    from ..operations import check_address, check_link

    defaults = Newsletter()

    def ask(question: str, check: Callable[[str], object], default: str = "") -> str | None:
        while True:
            answer = str(
                typer.prompt(question, default=default, show_default=bool(default), err=True)
            ).strip()
            if not answer:
                return None
            try:
                check(answer)
            except UsageError as exc:
                note(f"  {exc}")
                continue
            return answer

    if title is None:
        title = ask("Newsletter title", lambda value: value, defaults.title)
    if link is None:
        link = ask("Web site the feed points at (https://…; Enter: later)", check_link)
    if email_from is None:
        email_from = ask("From address of the email (编辑部 <editor@…>; Enter: later)", check_address)
    if email_to is None:
        email_to = ask("The list's address (Enter: later)", check_address)
    return title, link, email_from, email_to


@app.command()
def new(
    ctx: typer.Context,
    *,
    issue_id: Annotated[
        str | None, typer.Option("--id", metavar="ID", help="Issue id (default: YYYY-MM of the date).")
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(
            metavar="DATE", help="Publication date: 2023-07-05, '2023 年 07 月 05 日', today (default)."
        ),
    ] = None,
    title: Annotated[
        str | None, typer.Option(metavar="TEXT", help="Issue title (default: '<newsletter> YYYY 年 M 月').")
    ] = None,
) -> None:
    """Start a draft issue.

    Example: ecdigest new --id 2023-07 --date 2023-07-05

    Written to ARCHIVE/YYYY/ID.toml; an existing id is refused. Prints the new id.
    """
    from ..operations import new_issue

    archive = state(ctx).archive()
    created = new_issue(archive, issue_id=issue_id, date=date, title=title)
    write_stdout(created.issue.id + "\n")
    if stdout_is_terminal():
        note(f"created {created.path}")


@app.command()
def add(
    ctx: typer.Context,
    issue: Annotated[
        str | None, typer.Argument(metavar="[ISSUE]", help="Issue id (default: the newest draft).")
    ] = None,
    *,
    title: TitleOption = None,
    section: SectionOption = None,
    source: SourceOption = None,
    compiled_by: CompiledByOption = None,
    date: DateOption = None,
    url: UrlOption = None,
    tag: TagOption = None,
    body: BodyOption = None,
    body_file: BodyFileOption = None,
    edit: Annotated[
        bool, typer.Option("--edit", help="Write the article in $EDITOR (VISUAL, EDITOR, else vi).")
    ] = False,
    from_text: Annotated[
        str | None,
        typer.Option(
            "--from-text",
            metavar="FILE|-",
            help="Read one article as the newsletter prints it: [【section】,] title, paragraphs, "
            "attribution line (PDF text too; encoding detected). Flags given beside it win.",
        ),
    ] = None,
    from_draft: Annotated[
        str | None,
        typer.Option(
            "--from-draft",
            metavar="FILE|-",
            help="Read the article in --edit's form (field: value lines, a blank line, the body), "
            "e.g. the text a failed --edit saved; with --edit, open it in the editor.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Add to a published issue (readers get a new item).")
    ] = False,
) -> None:
    """Add one article to an issue and print its id.

    \b
    Example:
      printf '第一段。\\n\\n第二段。\\n' | ecdigest add 2023-07 --title 测试 \\
        --section 行业资讯 --source 《人民日报》 --date 2023-07-01 --body-file -

    Missing fields are asked for on a terminal; from a script (stdin not a terminal)
    they are an error (exit 2) that names each one. The new id, ISSUE-NNN, is never
    reused, even after an article is deleted.

    --from-text reads a pasted article: ecdigest add 2023-07 --section 行业资讯 --from-text article.txt
    (--section is needed unless the text starts with 【行业资讯】 or you are asked on a terminal).

    --edit never loses what was typed: a mistake (an unknown section, a date that cannot
    be read) reopens the editor with the errors on top; without a terminal, or when the
    editor fails, the text is saved and the error says where (--from-draft FILE reads it).

    Warns at once (stderr) when the article repeats one the archive has (title or text),
    when its date is in the future or after the issue's, when its source's marks are
    mixed. A published issue takes new articles only with --force.
    """
    from ..errors import UsageError
    from ..operations import ArticleDraft, add_article

    archive = state(ctx).archive()
    sources = [name for name, value in (("--body", body), ("--body-file", body_file)) if value is not None]
    if len(sources) > 1:
        raise UsageError("give the body once: --body or --body-file, not both")
    stdin_users = [
        name
        for name, value in (
            ("--from-text", from_text),
            ("--body-file", body_file),
            ("--from-draft", from_draft),
        )
        if value == "-"
    ]
    if len(stdin_users) > 1:
        raise UsageError(f"stdin (-) can be read only once: {' or '.join(stdin_users)}, not both")
    if from_draft is not None:
        given = [
            name
            for name, value in (
                ("--title", title),
                ("--section", section),
                ("--source", source),
                ("--compiled-by", compiled_by),
                ("--date", date),
                ("--url", url),
                ("--body", body),
                ("--body-file", body_file),
                ("--from-text", from_text),
            )
            if value is not None
        ]
        if given or tag:
            raise UsageError(
                f"--from-draft takes every field from its file, not from {', '.join(given) or '--tag'}",
                hint="write them in the file, or add --edit to change them in the editor",
            )
        article_draft = _from_draft(from_draft, archive, issue, edit=edit)
        updated, article = add_article(archive, issue, article_draft, force=force)
        _added(archive, updated.issue.id, updated.path, len(updated.issue.articles), article.id)
        return
    draft = ArticleDraft(
        title=title,
        section=section,
        source=source,
        compiled_by=compiled_by,
        date=date,
        url=url,
        tags=list(tag or []),
        body=body if body is not None else _read_body_file(body_file) if body_file is not None else None,
    )
    if from_text is not None:
        draft = draft.merged(_read_pasted(from_text, archive.settings))
    if edit:
        from ..operations import edit_template

        draft = _edit(edit_template(draft, archive.settings), archive, issue)
    elif draft.missing() and stdin_is_terminal() and "-" not in (body_file, from_text):
        draft = _prompt(draft, archive.settings)
    updated, article = add_article(archive, issue, draft, force=force)
    _added(archive, updated.issue.id, updated.path, len(updated.issue.articles), article.id)


def _added(archive: Archive, issue_id: str, path: Path, count: int, article_id: str) -> None:
    from .editing_cmds import warn_about

    write_stdout(article_id + "\n")
    if stdout_is_terminal():
        note(f"added to {issue_id} ({path}), {count} articles")
    warn_about(archive, issue_id, [article_id])


def _read_body_file(path: str) -> str:
    from ..fileio import decode_utf8, read_bytes

    return decode_utf8(read_bytes(path), "<stdin>" if path == "-" else path)


def _read_pasted(path: str, settings: Newsletter) -> ArticleDraft:
    """The fields of one article pasted in the newsletter's form (absent ones stay None)."""
    from ..fileio import read_bytes
    from ..importer import parse_article
    from ..operations import ArticleDraft

    pasted = parse_article(
        read_bytes(path), sections=settings.sections, path="<stdin>" if path == "-" else path
    )
    found = pasted.attribution
    return ArticleDraft(
        title=pasted.title,
        section=pasted.section,
        source=found.source if found else None,
        # The line says exactly who compiled it: no 编选 means nobody, not the default.
        compiled_by=(found.compiled_by or "") if found else None,
        date=found.date.isoformat() if found else None,
        body=pasted.body or None,
    )


def _prompt(draft: ArticleDraft, settings: Newsletter) -> ArticleDraft:
    """Ask for each missing field (only called when stdin is a terminal)."""
    from ..errors import UsageError

    if not draft.title:
        draft.title = typer.prompt("Title")
    if not draft.section:
        for number, name in enumerate(settings.sections, start=1):
            typer.echo(f"  {number}. {name}", err=True)
        choice = typer.prompt("Section (number or name)").strip()
        if choice.isdigit() and 1 <= int(choice) <= len(settings.sections):
            choice = settings.sections[int(choice) - 1]
        draft.section = choice
    if not draft.source:
        draft.source = typer.prompt("Source (as printed, e.g. 《人民日报》)", default=settings.editor)
    if not draft.date:
        draft.date = typer.prompt("Date", default="today")
    if not draft.body:
        typer.echo("Body: paragraphs separated by a blank line; end with Ctrl-D.", err=True)
        import sys

        draft.body = sys.stdin.read()
        if not draft.body.strip():
            raise UsageError("the body is empty")
    return draft


def _edit(text: str, archive: Archive, issue: str | None) -> ArticleDraft:
    """Open $EDITOR on `text` until the article in it is right (operations.check_template);
    a person at a terminal gets it back with the errors on top, anyone else a saved copy."""
    import shlex

    from ..editor import Editor, edit_until_valid
    from ..errors import WriteError
    from ..operations import check_template

    editor = Editor.from_environment(interactive=stdin_is_terminal())
    try:
        drafts = archive.state_dir() / "drafts"
    except WriteError:
        import tempfile

        drafts = Path(tempfile.gettempdir())

    def resume(path: Path) -> str:
        target = f" {shlex.quote(issue)}" if issue else ""
        return f"fix it, then: ecdigest add{target} --from-draft {shlex.quote(str(path))} (with --edit to reopen it)"

    return edit_until_valid(
        editor, text, lambda edited: check_template(edited, archive.settings), drafts=drafts, resume=resume
    )


def _from_draft(path: str, archive: Archive, issue: str | None, *, edit: bool) -> ArticleDraft:
    """The article in a draft file (`--from-draft`), through the editor with --edit."""
    from ..editor import DraftInvalid, error_lines, without_error_lines
    from ..errors import EcdigestError
    from ..fileio import decode_utf8, read_bytes
    from ..operations import check_template

    text = without_error_lines(decode_utf8(read_bytes(path), "<stdin>" if path == "-" else path))
    if not edit:
        return check_template(text, archive.settings)
    try:
        check_template(text, archive.settings)
    except DraftInvalid as invalid:
        text = error_lines(invalid.problems) + text  # shown in the editor right away
    except EcdigestError:
        pass  # an empty body: the editor is where it gets written
    return _edit(text, archive, issue)


@app.command(name="list")
def list_issues(ctx: typer.Context, *, format: FormatOption = TextOrJson.text) -> None:
    """List the issues: id, date, status, articles per section.

    Example: ecdigest list --format json

    A file that cannot be read is reported on stderr (file and line) and the others are
    listed; the exit code is then 1.
    """
    import sys

    from ..listing import HEADERS, empty_note, issue_objects, issue_rows, read_listing, warning_text

    root = str(state(ctx).archive().root)  # the archive's one error if there is none
    listing = read_listing(root)
    sys.stderr.write(warning_text(listing))
    sys.stderr.flush()
    if format is TextOrJson.json:
        emit_json(issue_objects(listing))
    elif listing.entries:
        table(HEADERS, issue_rows(listing))
    elif not listing.warnings:
        note(empty_note(root))
    if listing.exit_code:
        raise typer.Exit(listing.exit_code)


@app.command()
def show(
    ctx: typer.Context,
    target: Annotated[
        str | None,
        typer.Argument(
            metavar="[ISSUE|ARTICLE]", help="Issue id, or an article id (default: the newest issue)."
        ),
    ] = None,
    *,
    toc: Annotated[bool, typer.Option("--toc", help="The contents: sections and article ids.")] = False,
    section: Annotated[
        str | None, typer.Option("--section", metavar="NAME", help="Only this section.")
    ] = None,
    format: FormatOption = TextOrJson.text,
    width: Annotated[
        int | None,
        typer.Option(
            min=20, max=1000, metavar="N", help="Wrap at this many columns (default: terminal width)."
        ),
    ] = None,
    no_pager: Annotated[
        bool, typer.Option("--no-pager", help="Print straight to the terminal ($PAGER is used otherwise).")
    ] = False,
) -> None:
    """Show an issue, its contents, a section or one article, as an editor reads them.

    \b
    Example: ecdigest show 2023-06 --toc
             ecdigest show 2023-06-002

    On a terminal the text goes through a pager ($ECDIGEST_PAGER, $PAGER, else less -R;
    --no-pager, or PAGER=cat, turns it off); never off a terminal.
    """
    from ..contents import show as shown
    from ..pager import page

    archive = state(ctx).archive()
    text = shown(archive, target, toc=toc, section=section, json=format is TextOrJson.json, width=width)
    page(text, enabled=not no_pager)
