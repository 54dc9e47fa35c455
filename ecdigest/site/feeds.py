"""The site's feeds: what a feed reader expects from a newsletter's website.

- `feed.xml` (RSS 2.0), `atom.xml` and `feed.json` (JSON Feed 1.1): the newest FEED_ISSUES
  published issues, one item per article (the GUIDs of `ecdigest export rss`).
- RFC 5005 archived feeds, so that no reader ever has to fetch twenty years (readers
  refuse feeds over 5-15 MB) and nothing is lost: the published issues, oldest first, cut
  into pages of FEED_ISSUES issues; page k (`archive/feed-k.xml`, `archive/atom-k.xml`)
  is written once it is full and holds an issue the main feed no longer carries. Pages
  never change unless an issue in them does (an issue inserted with an old date moves
  later ones: readers key items on GUIDs, so that costs nothing). The main feed links the
  newest page (`prev-archive`); each page links `current`, its neighbours and says
  `<fh:archive/>`. Archive pages carry each item's title, link, summary, date, source
  and section, not the whole article: the article is on the site (a page with the whole
  text made the feeds two thirds of the site's bytes).
- Per section: `section/NAME.xml` and `section/NAME.atom.xml`, that section's articles of
  the newest FEED_ISSUES issues that have any.
Every feed renders through export/rss.py, the one feed implementation; the JSON Feed reuses
its item HTML, GUIDs and links.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

from ..export import rss
from ..export.common import (
    article_guid,
    article_link,
    atom_url,
    issue_title,
    one_line,
    paragraphs,
    published_at,
    published_newest_first,
    require_date,
    title_of,
    uri,
)
from ..model import Issue, Newsletter

FEED_ISSUES = rss.DEFAULT_LIMIT
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


def absolute(settings: Newsletter, path: str) -> str:
    link = settings.link if settings.link.endswith("/") else settings.link + "/"
    return uri(link + path)


def archive_pages(count: int, size: int = FEED_ISSUES) -> list[tuple[int, int]]:
    """(start, end) indexes into the oldest-first issues of each archive page."""
    pages = []
    number = 0
    while (number + 1) * size <= count and number * size < count - size:
        pages.append((number * size, (number + 1) * size))
        number += 1
    return pages


def archive_path(fmt: str, number: int) -> str:
    """`archive/feed-3.xml` (RSS) or `archive/atom-3.xml`; pages count from 1."""
    return f"archive/{'feed' if fmt == 'rss' else 'atom'}-{number}.xml"


def main_feed(
    issues: Sequence[Issue],
    settings: Newsletter,
    fmt: str,
    pages: int,
    shared: rss.SharedEntries | None = None,
) -> bytes:
    """The newest issues' feed, linking the newest archive page when there is one
    (`shared`: its items made once for the rss and the atom document)."""
    links = [("prev-archive", absolute(settings, archive_path(fmt, pages)))] if pages else []
    return rss.render(issues, settings, format=fmt, limit=FEED_ISSUES, links=links, shared=shared)


def archive_feed(issues: Sequence[Issue], settings: Newsletter, fmt: str, number: int, pages: int) -> bytes:
    """Archive page `number` (1-based) of `pages`: exactly `issues`."""
    own = absolute(settings, archive_path(fmt, number))
    current = settings.feed_url if fmt == "rss" else atom_url(settings)
    page_settings = replace(settings, feed_url=own) if fmt == "rss" else replace(settings, atom_url=own)
    links = [("current", uri(current))]
    if number > 1:
        links.append(("prev-archive", absolute(settings, archive_path(fmt, number - 1))))
    if number < pages:
        links.append(("next-archive", absolute(settings, archive_path(fmt, number + 1))))
    return rss.render(issues, page_settings, format=fmt, limit=None, links=links, archive=True, content=False)


def section_feed(issues: Sequence[Issue], settings: Newsletter, section: str, path: str, fmt: str) -> bytes:
    """A section's feed: its articles in the newest issues that have any (`issues`)."""
    name = one_line(section)
    own = absolute(settings, path)
    chosen = [
        replace(issue, articles=tuple(a for a in issue.articles if a.section == section)) for issue in issues
    ]
    page_settings = replace(
        settings,
        title=f"{settings.title} · {name}",
        feed_url=own,
        atom_url=own,
        sections=(section,),
    )
    return rss.render(chosen, page_settings, format=fmt, limit=FEED_ISSUES)


def json_feed(issues: Sequence[Issue], settings: Newsletter) -> bytes:
    """JSON Feed 1.1 of the newest issues, the same items as the RSS feed."""
    chosen = published_newest_first(issues)[:FEED_ISSUES]
    items = []
    for issue in chosen:
        when = published_at(require_date(issue), settings).isoformat()
        for _, articles in issue.by_section(settings.sections):
            for article in articles:
                found = paragraphs(article)
                item: dict[str, object] = {
                    "id": article_guid(settings, article.id),
                    "url": article_link(settings, issue, article),
                    "title": title_of(article),
                    "content_html": rss.article_html(article, settings, issue),
                    "summary": found[0] if found else title_of(article),
                    "date_published": when,
                }
                source = one_line(article.source)
                if source:
                    item["authors"] = [{"name": source}]
                tags = [one_line(t) for t in (article.section, *article.tags) if one_line(t)]
                if tags:
                    item["tags"] = list(dict.fromkeys(tags))
                items.append(item)
    feed: dict[str, object] = {
        "version": JSON_FEED_VERSION,
        "title": one_line(settings.title),
        "home_page_url": uri(settings.link),
        "feed_url": absolute(settings, "feed.json"),
        "description": one_line(settings.description),
        "language": one_line(settings.language) or "zh-CN",
        "authors": [{"name": one_line(settings.editor)}],
        "items": items,
    }
    if chosen:
        feed["title"] = one_line(settings.title) or issue_title(chosen[0], settings)
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
