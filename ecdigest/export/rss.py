"""RSS 2.0 and Atom feeds with feedgen, over the published issues, newest first.

Byte-stable by construction: nothing depends on the clock or the feedgen version.
- guid / atom:id: `tag:{tag_authority},{tag_date}:ecd/{article id}`, isPermaLink="false";
- pubDate: the issue's date at 08:00 in the newsletter's timezone, with its offset;
- lastBuildDate / atom:updated: the newest published issue's pubDate, never "now";
- generator: "ecdigest" without a version.

feedgen traps handled here: `add_entry` prepends unless told `order="append"`; it fills
lastBuildDate and every entry's atom:updated with the current time unless set; naive
datetimes raise; an RSS `author` without an email is dropped (sources go to dc:creator);
the channel `<link>` is the last `link()` call (so the self link is added first); and
lxml refuses control characters, which `common.clean` removes before anything reaches it.

RSS descriptions are HTML by convention, so article text is HTML-escaped before it goes
in (and lxml then escapes it once more as XML): markup in articles is shown, never run.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import NotFoundError, UsageError
from ..model import Article, Issue, Newsletter
from .common import (
    article_guid,
    article_link,
    atom_url,
    attribution,
    feed_guid,
    issue_guid,
    issue_link,
    issue_title,
    label,
    one_line,
    paragraphs,
    published_at,
    published_newest_first,
    require_date,
    title_of,
    uri,
    web_url,
)

if TYPE_CHECKING:
    import datetime as dt

NAME = "rss"
EXTENSION = ".xml"
MEDIA_TYPE = "application/rss+xml"
ATOM_MEDIA_TYPE = "application/atom+xml"

FORMATS = ("rss", "atom")
# RFC 5005 (feed paging and archiving): fh:archive marks an archive document.
HISTORY_NS = "http://purl.org/syndication/history/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"
PER = ("article", "issue")
DEFAULT_LIMIT = 10


def _p(text: str) -> str:
    return f"<p>{html.escape(text, quote=False)}</p>"


def article_html(
    article: Article, settings: Newsletter, issue: Issue, texts: Sequence[str] | None = None
) -> str:
    """The whole article as escaped HTML: paragraphs (`texts`: `paragraphs(article)`
    when the caller has them already), then the attribution line."""
    parts = [_p(text) for text in (paragraphs(article) if texts is None else texts)]
    parts.append(_p(attribution(article, settings)))
    link = web_url(article.url)
    if link:
        href = html.escape(link)
        parts.append(f'<p><a href="{href}">{html.escape(label(settings, "原文链接"))}</a></p>')
    return "\n".join(parts)


def issue_html(issue: Issue, settings: Newsletter) -> str:
    parts: list[str] = []
    for name, articles in issue.by_section(settings.sections):
        parts.append(f"<h2>{html.escape(one_line(name) or label(settings, '未分类'), quote=False)}</h2>")
        for article in articles:
            href = html.escape(article_link(settings, issue, article))
            title = html.escape(title_of(article), quote=False)
            parts.append(f'<h3><a href="{href}">{title}</a></h3>')
            parts.append(article_html(article, settings, issue))
    return "\n".join(parts)


def _summary(article: Article, texts: Sequence[str] | None = None) -> str:
    """The first paragraph as text (the title when the body is empty)."""
    found = paragraphs(article) if texts is None else texts
    return found[0] if found else title_of(article)


def _issue_summary(issue: Issue, settings: Newsletter) -> str:
    counts = "，".join(
        f"{one_line(n) or label(settings, '未分类')} {c} 篇"
        for n, c in issue.section_counts(settings.sections).items()
    )
    return f"本期共 {len(issue.articles)} 篇" + (f"：{counts}。" if counts else "。")


def _history(links: Sequence[tuple[str, str]], archive: bool) -> tuple[type, type]:
    """A feedgen extension adding RFC 5005 links (`current`, `prev-archive`,
    `next-archive`) as atom:link and, in an archive document, `<fh:archive/>`."""
    from feedgen.ext.base import BaseEntryExtension, BaseExtension

    def add(parent: Any, fmt: str) -> None:
        children = list(parent)
        first_item = next((i for i, c in enumerate(children) if c.tag in ("item", "entry")), len(children))
        made = []
        if archive:
            made.append(parent.makeelement(f"{{{HISTORY_NS}}}archive", {}))
        media = ATOM_MEDIA_TYPE if fmt == "atom" else MEDIA_TYPE
        # feedgen writes Atom's elements without a namespace under an xmlns attribute.
        tag = "link" if fmt == "atom" else f"{{{ATOM_NS}}}link"
        for rel, href in links:
            made.append(parent.makeelement(tag, {"rel": rel, "href": href, "type": media}))
        for offset, element in enumerate(made):
            parent.insert(first_item + offset, element)

    class History(BaseExtension):  # type: ignore[misc]
        def extend_ns(self) -> dict[str, str]:
            return {"fh": HISTORY_NS}

        def extend_rss(self, feed: Any) -> Any:
            add(feed[0], "rss")
            return feed

        def extend_atom(self, feed: Any) -> Any:
            add(feed, "atom")
            return feed

    return History, BaseEntryExtension


def _new_feed(settings: Newsletter, newest: dt.datetime, fmt: str) -> Any:
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    title = one_line(settings.title) or "ecdigest"
    fg.title(title)
    fg.description(one_line(settings.description) or title)
    fg.language(one_line(settings.language) or "zh-CN")
    fg.generator("ecdigest")
    fg.updated(newest)
    if fmt == "atom":
        fg.id(feed_guid(settings))
        fg.author({"name": one_line(settings.editor) or title})
        fg.link(href=atom_url(settings), rel="self", type=ATOM_MEDIA_TYPE)
        fg.link(href=uri(settings.link), rel="alternate", type="text/html")
    else:
        # The self link first: RSS's channel <link> is whichever link() came last.
        fg.link(href=uri(settings.feed_url), rel="self", type=MEDIA_TYPE)
        fg.link(href=uri(settings.link), rel="alternate")
    return fg


def _add_entry(
    fg: Any,
    fmt: str,
    *,
    guid: str,
    title: str,
    link: str,
    summary: str,
    content: str | None,
    when: dt.datetime,
    creator: str,
    category: str | None,
) -> None:
    entry = fg.add_entry(order="append")
    entry.guid(guid, permalink=False)
    entry.title(title)
    entry.link(href=link, rel="alternate")
    entry.published(when)
    entry.updated(when)
    if fmt == "both":
        # One entry for the rss and the atom document (items with content): feedgen keeps
        # each format's fields apart but for these three setters, called in this order:
        # description (RSS's, escaped; sets atom content, which content() then replaces),
        # summary (Atom's; leaves a description already set), content (both formats').
        assert content is not None
        entry.description(html.escape(summary, quote=False))
        entry.summary(summary)
        entry.content(content, type="html")
        if creator:
            entry.author({"name": creator})  # RSS writes authors with an email only
            entry.dc.dc_creator(creator)  # the dc extension writes RSS only
    elif fmt == "atom":
        entry.summary(summary)
        if content is not None:
            entry.content(content, type="html")
        if creator:
            entry.author({"name": creator})
    else:
        entry.description(html.escape(summary, quote=False))
        if content is not None:
            entry.content(content, type="html")
        if creator:
            entry.dc.dc_creator(creator)
    if category:
        entry.category({"term": category})


class SharedEntries:
    """Feed items made once for the rss and the atom document of the same items (the
    site's build writes both of its main feed): feedgen's entries hold both formats'
    fields, and an entry may go into two feeds. Keyed by the settings and the issues the
    feed shows, whole (a changed article is another key); each kept until the second
    format takes it."""

    def __init__(self) -> None:
        self._made: dict[tuple[object, ...], tuple[str, list[Any]]] = {}

    def take(self, key: tuple[object, ...], fmt: str) -> list[Any] | None:
        found = self._made.get(key)
        if found is None or found[0] == fmt:
            return None
        del self._made[key]
        return found[1]

    def keep(self, key: tuple[object, ...], fmt: str, entries: list[Any]) -> None:
        self._made[key] = (fmt, entries)


def render(
    issues: Sequence[Issue],
    settings: Newsletter,
    *,
    format: str = "rss",
    per: str = "article",
    limit: int | None = DEFAULT_LIMIT,
    links: Sequence[tuple[str, str]] = (),
    archive: bool = False,
    content: bool = True,
    shared: SharedEntries | None = None,
) -> bytes:
    """The feed over the `limit` newest published issues of `issues` (None: all).

    `per="article"`: one item per article; `per="issue"`: one item per issue.
    `links`: (rel, href) of RFC 5005 links to add (the site's archived feed pages);
    `archive`: mark the document as an archive document (`<fh:archive/>`).
    `content=False`: items carry their summary and link, not the whole article (the
    site's archive pages: the articles are on the site; the feed stays a third the size).
    `shared`: items per article with content are made once for both formats there.
    Raises NotFoundError when no issue is published (an empty feed helps nobody).
    """
    if format not in FORMATS:
        raise UsageError(f"unknown feed format {format!r}", hint="use rss or atom")
    if per not in PER:
        raise UsageError(f"--per must be article or issue, not {per!r}")
    if limit is not None and limit < 1:
        raise UsageError("--limit must be at least 1")
    chosen = published_newest_first(issues)
    if not chosen:
        raise NotFoundError(
            "no published issue to put in the feed", hint="publish one with `ecdigest publish ISSUE`"
        )
    if limit is not None:
        chosen = chosen[:limit]
    newest = published_at(require_date(chosen[0]), settings)
    fg = _new_feed(settings, newest, format)
    if links or archive:
        feed_extension, entry_extension = _history(links, archive)
        fg.register_extension("history", feed_extension, entry_extension)
    key: tuple[object, ...] = ()
    if shared is not None and per == "article" and content:
        key = (settings, *chosen)
        found = shared.take(key, format)
        if found is not None:
            for entry in found:
                fg.add_entry(entry, order="append")
            return _serialized(fg, format)
    for issue in chosen:
        when = published_at(require_date(issue), settings)
        if per == "issue":
            _add_entry(
                fg,
                format,
                guid=issue_guid(settings, issue.id),
                title=issue_title(issue, settings),
                link=issue_link(settings, issue.id),
                summary=_issue_summary(issue, settings),
                content=issue_html(issue, settings) if content else None,
                when=when,
                creator=one_line(settings.editor),
                category=None,
            )
            continue
        for _, articles in issue.by_section(settings.sections):
            for article in articles:
                texts = paragraphs(article)  # once: the summary and the content share them
                _add_entry(
                    fg,
                    "both" if key else format,
                    guid=article_guid(settings, article.id),
                    title=title_of(article),
                    link=article_link(settings, issue, article),
                    summary=_summary(article, texts),
                    content=article_html(article, settings, issue, texts) if content else None,
                    when=when,
                    creator=one_line(article.source),
                    category=one_line(article.section) or None,
                )
    if shared is not None and key:
        shared.keep(key, format, list(fg.entry()))
    return _serialized(fg, format)


def _serialized(fg: Any, fmt: str) -> bytes:
    if fmt == "atom":
        data: bytes = fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    else:
        data = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return data
