"""`ecdigest export FORMAT`: render issues through the exporter registry."""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from .app import CONTEXT_SETTINGS, EcdigestGroup, app, state
from .output import OutputOption, emit, note

export_app = typer.Typer(
    cls=EcdigestGroup,
    help="Export issues as JSON, Markdown, RSS/Atom, email or WeChat HTML.\n\nExample: ecdigest export json 2023-06",
    rich_markup_mode=None,
    no_args_is_help=True,
    context_settings=CONTEXT_SETTINGS,
)
app.add_typer(export_app, name="export")

IssueArgument = Annotated[
    str | None, typer.Argument(metavar="[ISSUE]", help="Issue id (default: the latest published issue).")
]


class Script(enum.StrEnum):
    """The names in zhconv.SCRIPTS (tests/test_editions.py holds them equal)."""

    zh_hans = "zh-Hans"
    zh_hant_tw = "zh-Hant-TW"
    zh_hant_hk = "zh-Hant-HK"


# The email's "more on the web" cut: `export email` and `send` take the same option.
MaxArticlesOption = Annotated[
    int | None,
    typer.Option(
        min=0,
        metavar="N",
        help="Only the first N articles, then a link to the rest on the web (default: [email] max_articles; 0: all).",
    ),
]
ScriptOption = Annotated[
    Script | None,
    typer.Option(
        "--script",
        help="Render an edition: zh-Hant-TW (Taiwan) or zh-Hant-HK (Hong Kong) Traditional Chinese; "
        "zh-Hans (default): the archive's own text.",
    ),
]


@export_app.command("json")
def export_json(
    ctx: typer.Context,
    issue: IssueArgument = None,
    *,
    all_issues: Annotated[bool, typer.Option("--all", help="Every issue, as a JSON array.")] = False,
    output: OutputOption = "-",
    script: ScriptOption = None,
) -> None:
    """Print an issue (or --all issues) as JSON, the stable machine interface.

    Example: ecdigest export json 2023-06 -o 2023-06.json
    """
    from .. import export
    from ..errors import UsageError

    archive = state(ctx).archive()
    if all_issues:
        if issue:
            raise UsageError("give an ISSUE or --all, not both")
        issues = [i.issue for i in archive.issues()]
        emit(
            export.render("json", issues, archive.settings, script=script and script.value, as_list=True),
            output,
            archive,
        )
        return
    item = archive.resolve(issue, default_status="published")
    emit(
        export.render("json", [item.issue], archive.settings, script=script and script.value), output, archive
    )


@export_app.command("markdown")
def export_markdown(
    ctx: typer.Context,
    issue: IssueArgument = None,
    *,
    output: OutputOption = "-",
    script: ScriptOption = None,
) -> None:
    """Print an issue as a CommonMark page: contents with anchors, articles, attribution lines.

    Example: ecdigest export markdown 2023-06 -o site/2023-06.md

    Article text is escaped so that * _ # [ < and friends render literally; each article
    heading carries an anchor named after its id (ISSUE.html#ARTICLE-ID).
    """
    from .. import export

    archive = state(ctx).archive()
    item = archive.resolve(issue, default_status="published")
    emit(
        export.render("markdown", [item.issue], archive.settings, script=script and script.value),
        output,
        archive,
    )


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
    script: ScriptOption = None,
) -> None:
    """Print the feed of the published issues, newest first (RSS 2.0, or Atom).

    Example: ecdigest export rss --limit 12 -o site/feed.xml

    Byte-stable: guids are tag: URIs from the article ids (settings tag_authority and
    tag_date), pubDate is the issue's date at 08:00 in the newsletter's timezone, and
    lastBuildDate is the newest issue's, never the time of the run. An edition (--script)
    has its own guids (tag:…:ecd/zh-Hant-TW/ARTICLE-ID) and links under LINK/zh-Hant-TW/.
    """
    from .. import export

    archive = state(ctx).archive()
    issues = [item.issue for item in archive.newest(limit, status="published")]
    data = export.render(
        "rss",
        issues,
        archive.settings,
        script=script and script.value,
        format=format.value,
        per=per.value,
        limit=limit,
    )
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
        typer.Option(
            "--eml",
            help="A complete RFC 5322 message (headers, the text and the HTML part), for `sendmail -t`.",
        ),
    ] = False,
    script: ScriptOption = None,
    max_articles: MaxArticlesOption = None,
) -> None:
    """Print an issue as a plain-text email (or, with --eml, the whole message).

    Example: ecdigest export email 2023-06 --eml | sendmail -t

    From/To come from [email] in ecdigest.toml; Date is the issue's date at 08:00 in
    the newsletter's timezone and Message-ID derives from the issue and its text, so the
    same issue always gives the same bytes. The message's text is format=flowed (RFC
    3676) unless [email] format = "fixed"; its HTML part is the issue's web page content
    (the site's templates) with the CSS inlined. --eml reports its size on stderr and
    warns when Gmail would clip the HTML part, naming the most articles that fit.
    """
    from .. import export
    from ..editions import for_edition
    from ..export import email

    archive = state(ctx).archive()
    item = archive.resolve(issue, default_status="published")
    if not eml:
        emit(
            export.render(
                "email",
                [item.issue],
                archive.settings,
                script=script and script.value,
                width=width,
                max_articles=max_articles,
            ),
            output,
            archive,
        )
        return
    (converted,), settings = for_edition([item.issue], archive.settings, script and script.value)
    message = email.compose(
        converted, settings, width=width, max_articles=max_articles, archive_root=archive.root
    )
    emit(message.data, output, archive)
    note(f"{item.issue.id}: {message.size_line()}")
    warning = message.clip_warning()
    if warning:
        note(f"warning: {warning}")


@export_app.command("wechat")
def export_wechat(
    ctx: typer.Context,
    issue: IssueArgument = None,
    *,
    output: OutputOption = "-",
    article: Annotated[
        str | None,
        typer.Option(
            "--article", metavar="ARTICLE", help="Only this article (its issue is found by its id)."
        ),
    ] = None,
    copy: Annotated[
        bool,
        typer.Option(
            "--copy", help="Put the HTML on the clipboard as HTML (wl-copy, xclip or macOS osascript)."
        ),
    ] = False,
    script: ScriptOption = None,
) -> None:
    """Print an issue (or one --article) as HTML that pastes into the WeChat 公众号 editor.

    Example: ecdigest export wechat 2023-06 --copy

    Only tags and inline styles the editor keeps; every article url becomes a numbered
    reference with a 参考资料 list at the end (WeChat opens no outside link). With --copy
    nothing is printed unless -o is given.
    """
    from .. import export

    archive = state(ctx).archive()
    if article is not None and issue is None:
        from ..editing import locate

        item, _ = locate(archive, article)
    else:
        item = archive.resolve(issue, default_status="published")
    document = export.render(
        "wechat", [item.issue], archive.settings, script=script and script.value, article=article
    )
    assert isinstance(document, str)
    if copy:
        from ..clipboard import copy_html
        from ..export.wechat import clipboard_html
        from .output import note

        tool = copy_html(clipboard_html(document))
        note(f"copied {item.issue.id}{' ' + article if article else ''} to the clipboard as HTML ({tool})")
        if output == "-":
            return
    emit(document, output, archive)
