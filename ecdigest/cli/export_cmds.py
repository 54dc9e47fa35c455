"""`ecdigest export FORMAT`: render issues through the exporter registry."""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from .app import CONTEXT_SETTINGS, EcdigestGroup, app, state
from .output import OutputOption, emit

export_app = typer.Typer(
    cls=EcdigestGroup,
    help="Export issues as JSON, Markdown, RSS/Atom or email.\n\nExample: ecdigest export json 2023-06",
    rich_markup_mode=None,
    no_args_is_help=True,
    context_settings=CONTEXT_SETTINGS,
)
app.add_typer(export_app, name="export")

IssueArgument = Annotated[
    str | None, typer.Argument(metavar="[ISSUE]", help="Issue id (default: the latest published issue).")
]


@export_app.command("json")
def export_json(
    ctx: typer.Context,
    issue: IssueArgument = None,
    *,
    all_issues: Annotated[bool, typer.Option("--all", help="Every issue, as a JSON array.")] = False,
    output: OutputOption = "-",
) -> None:
    """Print an issue (or --all issues) as JSON, the stable machine interface.

    Example: ecdigest export json 2023-06 -o 2023-06.json
    """
    from .. import export
    from ..errors import UsageError

    archive = state(ctx).archive()
    renderer = export.get("json")
    if all_issues:
        if issue:
            raise UsageError("give an ISSUE or --all, not both")
        emit(
            renderer.render([i.issue for i in archive.issues()], archive.settings, as_list=True),
            output,
            archive,
        )
        return
    item = archive.resolve(issue, default_status="published")
    emit(renderer.render([item.issue], archive.settings), output, archive)


@export_app.command("markdown")
def export_markdown(
    ctx: typer.Context,
    issue: IssueArgument = None,
    *,
    output: OutputOption = "-",
) -> None:
    """Print an issue as a CommonMark page: contents with anchors, articles, attribution lines.

    Example: ecdigest export markdown 2023-06 -o site/2023-06.md

    Article text is escaped so that * _ # [ < and friends render literally; each article
    heading carries an anchor named after its id (ISSUE.html#ARTICLE-ID).
    """
    from .. import export

    archive = state(ctx).archive()
    item = archive.resolve(issue, default_status="published")
    emit(export.get("markdown").render([item.issue], archive.settings), output, archive)


class FeedFormat(enum.StrEnum):
    rss = "rss"
    atom = "atom"


class FeedPer(enum.StrEnum):
    article = "article"
    issue = "issue"


@export_app.command("rss")
def export_rss(
    ctx: typer.Context,
    *,
    output: OutputOption = "-",
    limit: Annotated[
        int, typer.Option(min=1, metavar="N", help="The N newest published issues go in the feed.")
    ] = 10,
    per: Annotated[
        FeedPer, typer.Option(case_sensitive=False, help="One item per article, or one per issue.")
    ] = FeedPer.article,
    format: Annotated[
        FeedFormat, typer.Option("--format", "-f", case_sensitive=False, help="RSS 2.0 or Atom 1.0.")
    ] = FeedFormat.rss,
) -> None:
    """Print the feed of the published issues, newest first (RSS 2.0, or Atom).

    Example: ecdigest export rss --limit 12 -o site/feed.xml

    Byte-stable: guids are tag: URIs from the article ids (settings tag_authority and
    tag_date), pubDate is the issue's date at 08:00 in the newsletter's timezone, and
    lastBuildDate is the newest issue's, never the time of the run.
    """
    from .. import export

    archive = state(ctx).archive()
    issues = [item.issue for item in archive.issues()]
    data = export.get("rss").render(issues, archive.settings, format=format.value, per=per.value, limit=limit)
    emit(data, output, archive)


@export_app.command("email")
def export_email(
    ctx: typer.Context,
    issue: IssueArgument = None,
    *,
    output: OutputOption = "-",
    width: Annotated[
        int,
        typer.Option(
            min=30, max=200, metavar="N", help="Wrap at N display columns (a Chinese character is 2)."
        ),
    ] = 72,
    eml: Annotated[
        bool,
        typer.Option("--eml", help="A complete RFC 5322 message (headers + UTF-8 text), for `sendmail -t`."),
    ] = False,
) -> None:
    """Print an issue as a plain-text email (or, with --eml, the whole message).

    Example: ecdigest export email 2023-06 --eml | sendmail -t

    From/To come from [email] in ecdigest.toml; Date is the issue's date at 08:00 in
    the newsletter's timezone and Message-ID derives from the issue and its text, so the
    same issue always gives the same bytes.
    """
    from .. import export

    archive = state(ctx).archive()
    item = archive.resolve(issue, default_status="published")
    emit(export.get("email").render([item.issue], archive.settings, width=width, eml=eml), output, archive)
