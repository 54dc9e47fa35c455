"""RSS 2.0 and Atom feeds, over the published issues, newest first.

Byte-stable by construction: nothing depends on the clock or the feedgen version.
- guid / atom:id: `tag:{tag_authority},{tag_date}:ecd/{article id}`, isPermaLink="false";
- pubDate: the issue's date at 08:00 in the newsletter's timezone, with its offset;
- lastBuildDate / atom:updated: the newest published issue's pubDate, never "now";
- generator: "ecdigest" without a version.

What feedgen did, kept (its bytes are the reference): items in the issues' order; the
lastBuildDate and every entry's atom:updated set from the issue's date, never the clock;
no RSS `author` (sources go to dc:creator); the channel `<link>` is the site's link, the
self link an atom:link; an Atom entry's link has no rel (feedgen 1.0 drops it); lxml
refuses control characters, which `common.clean` removes before anything reaches it.

The feeds were made with feedgen 1.0; they are now the same lxml elements, built here as
feedgen builds them for what this module sets (`_head`, `_Entries`), serialized as its
`rss_str`/`atom_str` do: feedgen's per-item setters, checks and copies were ~60 % of a
feed's time (a one-issue build renders feeds of 10 issues, ~600 items) and its import ~20
ms. tests/test_build_fastpaths.py holds every feed's bytes to feedgen's (a test dependency).

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


DC_NS = "http://purl.org/dc/elements/1.1/"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
RSS_DOCS = "http://www.rssboard.org/rss-specification"  # feedgen's default <docs>


def _head(
    settings: Newsletter, newest: dt.datetime, fmt: str, links: Sequence[tuple[str, str]], archive: bool
) -> tuple[Any, Any]:
    """(the document's root, the element items go in): the feed's head as feedgen 1.0's
    `_create_rss()` / `_create_atom()` make it for what this module sets (its dc extension
    for RSS, and a history extension adding RFC 5005's links), without importing feedgen
    (its modules and dateutil's, ~20 ms of every build that writes a feed)."""
    from lxml import etree

    sub = etree.SubElement
    title = one_line(settings.title) or "ecdigest"
    description = one_line(settings.description) or title
    language = one_line(settings.language) or "zh-CN"
    history = bool(links or archive)
    if fmt == "atom":
        nsmap = {"fh": HISTORY_NS} if history else {}
        root = etree.Element("feed", xmlns=ATOM_NS, nsmap=nsmap)
        root.attrib["{http://www.w3.org/XML/1998/namespace}lang"] = language
        sub(root, "id").text = feed_guid(settings)
        sub(root, "title").text = title
        sub(root, "updated").text = newest.isoformat()
        sub(sub(root, "author"), "name").text = one_line(settings.editor) or title
        for href, rel, media in (
            (atom_url(settings), "self", ATOM_MEDIA_TYPE),
            (uri(settings.link), "alternate", "text/html"),
        ):
            link = sub(root, "link", href=href)
            link.attrib["rel"] = rel
            link.attrib["type"] = media
        sub(root, "generator").text = "ecdigest"
        sub(root, "subtitle").text = description
        parent = root
    else:
        nsmap = {
            "dc": DC_NS,
            **({"fh": HISTORY_NS} if history else {}),
            "atom": ATOM_NS,
            "content": CONTENT_NS,
        }
        channel_link = uri(settings.link)  # RSS's <link>: feedgen's last link()
        if not channel_link:
            raise ValueError("Required fields not set (link)")
        root = etree.Element("rss", version="2.0", nsmap=nsmap)
        parent = sub(root, "channel")
        sub(parent, "title").text = title
        sub(parent, "link").text = channel_link
        sub(parent, "description").text = description
        self_link = sub(parent, f"{{{ATOM_NS}}}link", href=uri(settings.feed_url), rel="self")
        self_link.attrib["type"] = MEDIA_TYPE
        sub(parent, "docs").text = RSS_DOCS
        sub(parent, "generator").text = "ecdigest"
        sub(parent, "language").text = language
        sub(parent, "lastBuildDate").text = _rfc2822(newest)
    if history:  # RFC 5005: after the head, before the first item
        if archive:
            sub(parent, f"{{{HISTORY_NS}}}archive")
        media = ATOM_MEDIA_TYPE if fmt == "atom" else MEDIA_TYPE
        tag = "link" if fmt == "atom" else f"{{{ATOM_NS}}}link"  # Atom's: no namespace, as feedgen's
        for rel, href in links:
            sub(parent, tag, {"rel": rel, "href": href, "type": media})
    return root, parent


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _rfc2822(when: dt.datetime) -> str:
    """feedgen's formatRFC2822 (strftime's in the C locale): English day and month names
    whatever the locale, without setting it twice per call."""
    day = _DAYS[when.weekday()]
    month = _MONTHS[when.month - 1]
    return when.strftime(f"{day}, %d {month} %Y %H:%M:%S %z")


class _Entries:
    """A feed's items as lxml elements, built as feedgen's `rss_entry()` / `atom_entry()`
    build them for the fields `render` sets (same elements, order, attributes and text),
    then appended to the tree feedgen makes for the feed's head: the same bytes as
    `add_entry` for each item, without feedgen's per-item setters, checks and copies
    (~60 % of a feed's time; tests/test_build_fastpaths.py holds it to feedgen's output)."""

    def __init__(self, fmt: str) -> None:
        from lxml import etree

        self.fmt = fmt
        self.elements: list[Any] = []
        self._element = etree.Element
        self._sub = etree.SubElement
        self._when: tuple[object, str, str] | None = None

    def _dates(self, when: dt.datetime) -> tuple[str, str]:
        """(RFC 2822, ISO 8601) of `when`: the same for every item of an issue."""
        if self._when is None or self._when[0] is not when:  # one object per issue
            self._when = (when, _rfc2822(when), when.isoformat())
        return self._when[1], self._when[2]

    def add(
        self,
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
        sub = self._sub
        rfc2822, iso = self._dates(when)
        if self.fmt == "atom":
            if not (guid and title):
                raise ValueError("Required fields not set")
            entry = self._element("entry")
            sub(entry, "id").text = guid
            sub(entry, "title").text = title
            sub(entry, "updated").text = iso
            if creator:
                sub(sub(entry, "author"), "name").text = creator
            if content is not None:
                element = sub(entry, "content")
                if content:
                    element.text = content
                element.attrib["type"] = "html"
            # href only: feedgen 1.0's loop rebinds `link` to the element before it asks
            # for the rel (so an entry's atom:link never carries one)
            sub(entry, "link", href=link)
            element = sub(entry, "summary")
            if summary:
                element.text = summary
            if category:
                sub(entry, "category", term=category)
            sub(entry, "published").text = iso
        else:
            description = html.escape(summary, quote=False)
            # feedgen keeps the content as {"content": ..., "type": "html"}: there even when empty
            if not (title or description or content is not None):
                raise ValueError("Required fields not set")
            entry = self._element("item")
            if title:
                sub(entry, "title").text = title
            if link:
                sub(entry, "link").text = link
            if description and content is not None:
                sub(entry, "description").text = description
                sub(entry, "{http://purl.org/rss/1.0/modules/content/}encoded").text = content
            elif description:
                sub(entry, "description").text = description
            elif content is not None:
                sub(entry, "description").text = content
            if guid:
                element = sub(entry, "guid")
                element.text = guid
                element.attrib["isPermaLink"] = "false"
            if category:
                sub(entry, "category").text = category
            sub(entry, "pubDate").text = rfc2822
            if creator:  # feedgen's dc extension
                sub(entry, "{http://purl.org/dc/elements/1.1/}creator").text = creator
        self.elements.append(entry)

    def feed(self, root: Any, parent: Any) -> bytes:
        """The whole feed: the head (`_head`), then the items, serialized as feedgen's
        `rss_str(pretty=True)` / `atom_str(pretty=True)` do."""
        from lxml import etree

        for element in self.elements:
            parent.append(element)
        data: bytes = etree.tostring(
            etree.ElementTree(root), pretty_print=True, encoding="UTF-8", xml_declaration=True
        )
        return data


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
) -> bytes:
    """The feed over the `limit` newest published issues of `issues` (None: all).

    `per="article"`: one item per article; `per="issue"`: one item per issue.
    `links`: (rel, href) of RFC 5005 links to add (the site's archived feed pages);
    `archive`: mark the document as an archive document (`<fh:archive/>`).
    `content=False`: items carry their summary and link, not the whole article (the
    site's archive pages: the articles are on the site; the feed stays a third the size).
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
    root, parent = _head(settings, newest, format, links, archive)
    entries = _Entries(format)
    for issue in chosen:
        when = published_at(require_date(issue), settings)
        if per == "issue":
            entries.add(
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
                entries.add(
                    guid=article_guid(settings, article.id),
                    title=title_of(article),
                    link=article_link(settings, issue, article),
                    summary=_summary(article, texts),
                    content=article_html(article, settings, issue, texts) if content else None,
                    when=when,
                    creator=one_line(article.source),
                    category=one_line(article.section) or None,
                )
    return entries.feed(root, parent)
