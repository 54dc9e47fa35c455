"""Changing what is there: edit, rm, mv, unpublish (the core is editing.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..guards import DEFAULT_SITE
from ..terminal import printable, stdin_is_terminal
from .app import app, state
from .archive_cmds import (
    BodyFileOption,
    BodyOption,
    CompiledByOption,
    DateOption,
    SectionOption,
    SourceOption,
    TagOption,
    TitleOption,
    UrlOption,
)
from .output import FormatOption, TextOrJson, emit_json, note, write_stdout

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..archive import Archive
    from ..model import Article, Issue
    from ..validate import Problem


def warn(problems: Sequence[Problem]) -> None:
    """Guard-rail findings on stderr, one line each as validate prints them (the command
    still succeeds: the change is made, validate and publish will judge it)."""
    from ..guards import warning_line

    for problem in problems:
        note(warning_line(problem))


def warn_about(
    archive: Archive, issue_id: str, article_ids: Sequence[str], *, known: Sequence[Problem] = ()
) -> None:
    """Say at once what validate will say about articles just written (guards.py), but
    for what it said already before the change (`known`)."""
    from ..guards import warning_lines

    for line in warning_lines(archive, issue_id, article_ids, known=known):
        note(line)


def _warnings_now(archive: Archive, issue_id: str, article_id: str) -> list[Problem]:
    from ..guards import article_warnings

    return article_warnings(archive, issue_id, [article_id])


def _drafts(archive: Archive) -> Path:
    from ..errors import WriteError

    try:
        return archive.state_dir() / "drafts"
    except WriteError:
        import tempfile

        return Path(tempfile.gettempdir())


# --------------------------------------------------------------------------- edit


@app.command()
def edit(
    ctx: typer.Context,
    target: Annotated[
        str, typer.Argument(metavar="ARTICLE|ISSUE", help="Article id (2023-07-002) or issue id.")
    ],
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
    from_draft: Annotated[
        str | None,
        typer.Option(
            "--from-draft",
            metavar="FILE|-",
            help="Apply a text in the editor's form (e.g. one a failed edit saved); with --edit, reopen it.",
        ),
    ] = None,
    reopen: Annotated[
        bool, typer.Option("--edit", help="With --from-draft: open that text in the editor.")
    ] = False,
) -> None:
    """Edit an article in $EDITOR as the newsletter prints it, or an issue file.

    \b
    Example: ecdigest edit 2023-07-002
             ecdigest edit 2023-07-002 --title 新标题       (scripts: no editor)

    An article opens as printed (title, paragraphs, attribution line 来源：… 编选：… DATE)
    under a short header (section, url, tags); an issue opens as its TOML file. On save it
    is read back and checked; a mistake reopens the editor with the errors on top. Quitting
    without a change changes nothing, and the text is never lost: without a terminal, or if
    the editor fails, it is saved and the error says where (--from-draft FILE applies it).
    The article keeps its id. The field options (as add's; --tag replaces the tags) change
    an article without an editor, for scripts.
    """
    from ..editing import find_target, issue_file

    archive = state(ctx).archive()
    flags = {
        "--title": title,
        "--section": section,
        "--source": source,
        "--compiled-by": compiled_by,
        "--date": date,
        "--url": url,
        "--body": body,
        "--body-file": body_file,
    }
    given = [name for name, value in flags.items() if value is not None] + (["--tag"] if tag else [])
    with archive.catalog() as catalog:
        is_issue = bool(catalog.issue_files(target)) or any(
            not e.readable and e.path.stem == target for e in catalog.issues()
        )
    if reopen and from_draft is None:
        from ..errors import UsageError

        raise UsageError("--edit goes with --from-draft FILE (edit opens the editor by itself)")
    if is_issue:
        if given:
            from ..errors import UsageError

            raise UsageError(
                f"{target} is an issue: {given[0]} changes an article",
                hint=f"open the issue file with `ecdigest edit {target}`, or name an article",
            )
        _edit_issue(archive, target, issue_file(archive, target), from_draft, reopen)
        return
    item, index = find_target(archive, target)
    assert index is not None
    article = item.issue.articles[index]
    known = _warnings_now(archive, item.issue.id, article.id)
    if given:
        if from_draft is not None:
            from ..errors import UsageError

            raise UsageError(f"--from-draft takes every field from its file, not from {', '.join(given)}")
        _edit_fields(archive, item.issue, article, flags, tag, known)
        return
    _edit_article(archive, item.issue, item.path, article, from_draft, reopen, known)


def _edit_fields(
    archive: Archive,
    issue: Issue,
    article: Article,
    flags: dict[str, str | None],
    tags: list[str] | None,
    known: Sequence[Problem],
) -> None:
    """Change fields given as options (scripts)."""
    from ..article_text import draft_of
    from ..editing import edit_article
    from ..operations import build_article

    draft = draft_of(article)
    for name, value in flags.items():
        if value is None:
            continue
        key = name[2:].replace("-", "_")
        if key == "body_file":
            from .archive_cmds import _read_body_file

            key, value = "body", _read_body_file(value)
        setattr(draft, key, value)
    if tags:
        draft.tags = list(tags)
    new = build_article(draft, archive.settings, article.id)
    _finish_edit(archive, edit_article(archive, article.id, lambda _current: new, expected=article), known)


def _edit_article(
    archive: Archive,
    issue: Issue,
    path: Path,
    article: Article,
    from_draft: str | None,
    reopen: bool,
    known: Sequence[Problem],
) -> None:
    """The editor loop over one article, in its printed form (or the field form)."""
    import shlex

    from ..article_text import PRINTED, draft_of, form_for, parse, render
    from ..editing import ChangedMeanwhile, edit_article
    from ..editor import DraftInvalid, Editor, edit_until_valid, error_lines, save_draft, without_error_lines
    from ..errors import EcdigestError, UsageError
    from ..operations import EditCancelled, build_article, check_template, edit_template

    settings = archive.settings
    form = form_for(article, settings)
    if form == PRINTED:
        text = render(article, settings, where=f"{article.id} in {issue.id}, {path}")
    else:
        text = edit_template(draft_of(article), settings)

    def read(edited: str) -> Article:
        if edited == text:
            return article
        try:
            if _is_field_form(edited):
                return build_article(check_template(edited, settings), settings, article.id)
            return parse(edited, settings, article.id)
        except EditCancelled:
            raise EditCancelled("the article is empty; nothing was changed") from None

    last: list[str] = [text]

    def accept(edited: str) -> Article:
        last[0] = edited
        return read(edited)

    def resume(saved: Path) -> str:
        return f"fix it, then: ecdigest edit {article.id} --from-draft {shlex.quote(str(saved))} (with --edit to reopen it)"

    if from_draft is not None:
        from ..fileio import decode_utf8, read_bytes

        drafted = without_error_lines(
            decode_utf8(read_bytes(from_draft), "<stdin>" if from_draft == "-" else from_draft)
        )
        if not reopen:
            new = accept(drafted)
        else:
            try:
                read(drafted)
            except DraftInvalid as invalid:
                drafted = error_lines(invalid.problems) + drafted
            except EcdigestError:
                pass
            text_shown = drafted
            editor = Editor.from_environment(interactive=stdin_is_terminal())
            new = edit_until_valid(
                editor,
                text_shown,
                accept,
                drafts=_drafts(archive),
                resume=resume,
                name=article.id,
                verb="changed",
            )
    else:
        editor = Editor.from_environment(interactive=stdin_is_terminal())
        new = edit_until_valid(
            editor, text, accept, drafts=_drafts(archive), resume=resume, name=article.id, verb="changed"
        )
    if new == article:
        note(f"{article.id}: nothing changed")
        return
    try:
        edited = edit_article(archive, article.id, lambda _current: new, expected=article)
    except ChangedMeanwhile as exc:
        saved = save_draft(last[0], _drafts(archive), name=article.id)
        raise UsageError(
            f"{exc.message}; nothing was changed, your text is saved in {saved}", hint=resume(saved)
        ) from None
    _finish_edit(archive, edited, known)


def _is_field_form(text: str) -> bool:
    """Whether an edited text is `add --edit`'s field form (title:/source:/date: in its
    header) rather than the printed form (header: section, url, tags)."""
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith("#"):
            continue
        if not line.strip():
            return False
        if line.partition(":")[0].strip().lower() in (
            "title",
            "source",
            "date",
            "compiled_by",
            "compiled-by",
        ):
            return True
    return False


def _finish_edit(archive: Archive, edited: object, known: Sequence[Problem]) -> None:
    from ..editing import Edited

    assert isinstance(edited, Edited)
    if not edited.changed:
        note(f"{edited.after.id}: nothing changed")
        return
    write_stdout(f"edited {edited.after.id} {printable(edited.after.title, one_line=True)}\n")
    if edited.issue.is_published:
        note(
            f"{edited.issue.id} is published: the feed item {edited.after.id} (same GUID) "
            "carries the change from the next build"
        )
    warn_about(archive, edited.issue.id, [edited.after.id], known=known)


def _edit_issue(archive: Archive, issue_id: str, path: Path, from_draft: str | None, reopen: bool) -> None:
    """The editor loop over an issue file: saved as written once it reads and adds no error."""
    import shlex

    from ..editing import ChangedMeanwhile, check_issue_text, save_issue_text
    from ..editor import DraftInvalid, Editor, edit_until_valid, error_lines, save_draft, without_error_lines
    from ..errors import UsageError
    from ..fileio import decode_utf8, read_bytes
    from ..validate import validate_text

    data = read_bytes(path)
    text = decode_utf8(data, path)
    before = validate_text(archive, path, data)
    found: dict[str, list[Problem]] = {"warnings": []}

    def accept(edited: str) -> str:
        if edited == text:
            return edited
        errors, warnings = check_issue_text(archive, path, edited, before)
        if errors:
            # The lines are the file's as shown again: below one `# ERROR:` line per error.
            raise DraftInvalid(
                [
                    UsageError(
                        f"line {p.line + len(errors)}: {p.code} {p.message}"
                        if p.line
                        else f"{p.code} {p.message}"
                    )
                    for p in errors
                ]
            )
        found["warnings"] = warnings
        return edited

    def resume(saved: Path) -> str:
        return f"fix it, then: ecdigest edit {issue_id} --from-draft {shlex.quote(str(saved))} (with --edit to reopen it)"

    editor = Editor.from_environment(interactive=stdin_is_terminal())
    if from_draft is not None:
        drafted = without_error_lines(
            decode_utf8(read_bytes(from_draft), "<stdin>" if from_draft == "-" else from_draft)
        )
        if not reopen:
            result = accept(drafted)
        else:
            try:
                accept(drafted)
            except DraftInvalid as invalid:
                drafted = error_lines(invalid.problems) + drafted
            result = edit_until_valid(
                editor, drafted, accept, drafts=_drafts(archive), resume=resume, name=issue_id, verb="changed"
            )
    else:
        result = edit_until_valid(
            editor, text, accept, drafts=_drafts(archive), resume=resume, name=issue_id, verb="changed"
        )
    if result == text:
        note(f"{issue_id}: nothing changed")
        return
    try:
        saved_edit = save_issue_text(archive, issue_id, result, expected=data)
    except ChangedMeanwhile as exc:
        saved = save_draft(result, _drafts(archive), name=issue_id)
        raise UsageError(
            f"{exc.message}; nothing was changed, your text is saved in {saved}", hint=resume(saved)
        ) from None
    write_stdout(f"edited {issue_id} ({saved_edit.path})\n")
    warn(found["warnings"])


# --------------------------------------------------------------------------- rm


@app.command()
def rm(
    ctx: typer.Context,
    articles: Annotated[list[str], typer.Argument(metavar="ARTICLE…", help="Article ids to remove.")],
    *,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (scripts).")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Also from a published issue (its item leaves the feed).")
    ] = False,
    format: FormatOption = TextOrJson.text,
) -> None:
    """Remove articles; their ids are never used again.

    Example: ecdigest rm 2023-07-002 2023-07-005

    Asks on a terminal; scripts give --yes (without it, and without a terminal, nothing is
    removed: exit 2). An article of a published issue only with --force: its item leaves
    the feed at the next build (readers who fetched it keep it), and its id and GUID are
    never given to another article.
    """
    from ..editing import locate, remove_articles
    from ..errors import UsageError
    from ..operations import refuse_published

    archive = state(ctx).archive()
    ids = list(dict.fromkeys(articles))
    found = []
    for article_id in ids:
        item, index = locate(archive, article_id)
        refuse_published(
            item.issue,
            f"removing {article_id}",
            "the item leaves the feed at the next build, and readers who fetched it keep it",
            force=force,
        )
        found.append((item, index))
    if not yes:
        if not stdin_is_terminal():
            raise UsageError("rm asks before removing, and there is no terminal to ask on", hint="give --yes")
        for item, index in found:
            article = item.issue.articles[index]
            note(
                f"  {article.id}  {article.title}  ({item.issue.id}{', published' if item.issue.is_published else ''})"
            )
        plural = "s" if len(found) > 1 else ""
        if not typer.confirm(f"Remove {len(found)} article{plural}?", default=False, err=True):
            note("nothing was removed")
            raise typer.Exit(1)
    removed = remove_articles(archive, ids, force=force)
    if format is TextOrJson.json:
        emit_json([{"article": r.article.id, "issue": r.issue.id, "title": r.article.title} for r in removed])
    else:
        for r in removed:
            write_stdout(f"removed {r.article.id} {printable(r.article.title, one_line=True)}\n")
    for issue_id in dict.fromkeys(r.issue.id for r in removed if r.issue.is_published):
        gone = [r.article.id for r in removed if r.issue.id == issue_id]
        note(
            f"{issue_id} is published: at the next build {', '.join(gone)} leave{'s' if len(gone) == 1 else ''} "
            "the feed and its pages; readers who fetched the feed keep their copy, and these ids "
            "(their GUIDs) are never used again"
        )


# --------------------------------------------------------------------------- mv


@app.command()
def mv(
    ctx: typer.Context,
    article: Annotated[str, typer.Argument(metavar="ARTICLE", help="Article id to move.")],
    *,
    to: Annotated[
        str | None,
        typer.Option("--to", metavar="ISSUE", help="Another issue (it gets that issue's next id)."),
    ] = None,
    section: Annotated[str | None, typer.Option(metavar="NAME", help="Another section.")] = None,
    before: Annotated[str | None, typer.Option(metavar="OTHER", help="Just before this article.")] = None,
    after: Annotated[str | None, typer.Option(metavar="OTHER", help="Just after this article.")] = None,
    first: Annotated[bool, typer.Option("--first", help="First in its section.")] = False,
    last: Annotated[bool, typer.Option("--last", help="Last in its section.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Also in or out of a published issue.")] = False,
    format: FormatOption = TextOrJson.text,
) -> None:
    """Move an article to another issue or section, or reorder it.

    \b
    Example: ecdigest mv 2023-07-002 --to 2023-08
             ecdigest mv 2023-07-005 --before 2023-07-002

    Moved to another issue, the article gets that issue's next id (printed) and its old id
    is never used again; without --before/--after/--first/--last it goes last in its
    section. Articles print by section, in this order within a section: that is what
    show, the exports and the site print. Between draft issues only, unless --force.
    """
    from ..editing import move_article
    from ..errors import UsageError

    chosen = [
        (name, value)
        for name, value in (
            ("before", before),
            ("after", after),
            ("first", first or None),
            ("last", last or None),
        )
        if value
    ]
    if len(chosen) > 1:
        raise UsageError("give one of --before, --after, --first, --last")
    if not chosen and to is None and section is None:
        raise UsageError(
            "say where to: --to ISSUE, --section NAME, --before/--after OTHER, --first or --last"
        )
    position = None
    if chosen:
        name, value = chosen[0]
        position = (name, value if isinstance(value, str) else None)
    archive = state(ctx).archive()
    moved = move_article(archive, article, to_issue=to, section=section, position=position, force=force)
    if format is TextOrJson.json:
        emit_json(
            {
                "article": moved.after.id,
                "was": moved.before.id,
                "issue": moved.to_issue,
                "section": moved.after.section,
                "changed": moved.changed,
            }
        )
    elif not moved.changed:
        write_stdout(f"{article} is already there; nothing changed\n")
    elif moved.after.id != moved.before.id:
        write_stdout(f"{moved.after.id}\n")
        note(f"moved {moved.before.id} to {moved.to_issue} ({moved.after.section}) as {moved.after.id}")
    else:
        write_stdout(f"moved {article} ({moved.after.section})\n")
    if moved.changed and moved.to_issue != moved.from_issue:  # a new issue: its date, its neighbours
        warn_about(archive, moved.to_issue, [moved.after.id])


# --------------------------------------------------------------------------- unpublish


@app.command()
def unpublish(
    ctx: typer.Context,
    issue: Annotated[str, typer.Argument(metavar="ISSUE", help="Published issue to make a draft again.")],
    *,
    force: Annotated[
        bool, typer.Option("--force", help="Even though readers have it (built or sent).")
    ] = False,
    site: Annotated[
        str, typer.Option("--site", metavar="DIR", help="Where the site is built (build -o; default ./site).")
    ] = DEFAULT_SITE,
) -> None:
    """Make a published issue a draft again (it leaves the feed at the next build).

    Example: ecdigest unpublish 2023-07

    Once it has gone out (a site built in DIR carries it, or the list was emailed it) only
    with --force, and it says what readers keep: the items they fetched, the email.
    """
    from ..editing import unpublish as run_unpublish

    archive = state(ctx).archive()
    result = run_unpublish(archive, issue, site=Path(site), force=force)
    if not result.changed:
        write_stdout(f"{issue} is not published; nothing changed\n")
        return
    write_stdout(f"unpublished {issue} (a draft again)\n")
    if result.reach is not None and result.reach.reached:
        note(
            f"{issue} had gone out: {result.reach.describe()}. The next build takes it out of the site "
            "and the feeds; readers keep what they fetched, and its ids (GUIDs) stay its own"
        )
