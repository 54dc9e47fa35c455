"""What the publishing exporters (Markdown, RSS/Atom, email) share.

Cleaning text that came from anywhere (PDF text, hand typing, a fuzzer), stable
identifiers, the fixed publication time, and links into the site.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from urllib.parse import quote, urlsplit

from ..errors import UsageError
from ..model import Article, Issue, Newsletter, split_paragraphs
from ..textwrap_cjk import join_lines

# Issues carry a date, not a time: every timestamp derived from one (RSS pubDate, Atom
# updated, the email's Date header) is this time of day in the newsletter's timezone, so
# the same issue always yields the same bytes.
PUBLISH_TIME = dt.time(8, 0)

# XML 1.0 forbids C0 controls except TAB, LF and CR, lone surrogates, U+FFFE and U+FFFF.
# C1 controls are allowed by XML but are always debris of a bad conversion in this text.
# The other noncharacters (U+FDD0-U+FDEF, the last two code points of every plane) are
# parse errors in HTML (the web pages, the email's HTML part) and never text.
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(1, 17)
)
_FORBIDDEN = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff{_NONCHARACTERS}]")
# Line breaks and tabs (with the blanks around them), and runs of ASCII spaces. Other
# spaces (U+3000, no-break space) are content and stay.
_BLANKS = re.compile(r"[ \t]*[\t\n\r\v\f\x1c-\x1f\x85\u2028\u2029][\s]*| {2,}")
# Used with fullmatch: `$` would let a trailing newline into every GUID.
_TAG_AUTHORITY = re.compile(r"(?:[a-z0-9._-]+@)?[a-z0-9.-]+")
_TAG_DATE = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?")
# RFC 3986 reserved and unreserved characters (but '[]', only valid around IPv6 hosts),
# plus '%' for escapes already there.
_URI_SAFE = ":/?#@!$&'()*+,;=-._~%"


def clean(text: str) -> str:
    """`text` without the characters XML 1.0 (and so feeds and mail) cannot carry.

    A CR LF or lone CR becomes LF: line structure survives, the byte form does not matter.
    A printable text is returned as it is (every character removed or replaced here is one
    `str.isprintable` refuses), without a pass of the pattern.
    """
    if text.isprintable():
        return text
    return _FORBIDDEN.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def one_line(text: str) -> str:
    """A single-line field (title, source, section): cleaned, every run of blanks and
    line breaks one space, trimmed. A title with CR/LF in it can never start a new line.
    A printable text without two spaces in a row is only trimmed (see paragraph_text)."""
    if text.isprintable() and "  " not in text:
        return text.strip()
    if len(text) <= _SHORT:
        return _one_line_short(text)
    return _BLANKS.sub(" ", clean(text)).strip()


# A build asks for the same titles, sections, sources and links again and again (the issue
# page, each share page, the feeds, the Markdown page, the search index: ~1 million calls
# in a cold build at 1,000 issues, two regular expressions each): short ones are kept.
_SHORT = 256


@lru_cache(maxsize=8192)
def _one_line_short(text: str) -> str:
    return _BLANKS.sub(" ", clean(text)).strip()


def paragraph_text(paragraph: str) -> str:
    """A paragraph as one line: cleaned, hard line breaks joined (none between two
    Chinese characters, one space elsewhere).

    `one_line(join_lines(clean(paragraph)))` without its second `clean` (joining lines
    adds nothing it would remove) and outside `one_line`'s cache: a paragraph is read once
    per build, and ~100,000 of them in a worker of a cold build pushed the titles and
    sections, asked for again and again, out of it.

    A printable paragraph without two spaces in a row (nearly all of them) is only
    stripped: clean removes, join_lines joins and _BLANKS replaces only characters
    `str.isprintable` refuses (controls, line and paragraph separators, surrogates,
    noncharacters, every space but the ASCII one), or runs of spaces; three regular
    expressions over each of ~100,000 paragraphs of a cold build's worker at 1,000 issues
    were a C pass each (tests/test_site.py holds both ways to the same line)."""
    if paragraph.isprintable() and "  " not in paragraph:
        return paragraph.strip()
    return _BLANKS.sub(" ", join_lines(clean(paragraph))).strip()


def paragraphs(article: Article) -> list[str]:
    return list(_paragraphs(article.body))


@lru_cache(maxsize=1024)
def _paragraphs(body: str) -> tuple[str, ...]:
    """A body's paragraphs as lines, made once per body: the issue page, its share pages,
    the feeds, the Markdown page and the search index of a build all ask for them."""
    return tuple(text for p in split_paragraphs(body) if (text := paragraph_text(p)))


def title_of(article: Article) -> str:
    return one_line(article.title) or article.id


def section_anchors(names: Iterable[str], taken: Iterable[str]) -> dict[str, str]:
    """The anchor of each section of an issue page, the Markdown's and the web page's alike:
    `section-N`, skipping any id already `taken` (an article's id is its anchor)."""
    anchors: dict[str, str] = {}
    used = set(taken)
    for number, name in enumerate(names, start=1):
        anchor = f"section-{number}"
        while anchor in used:
            anchor += "-s"
        used.add(anchor)
        anchors[name] = anchor
    return anchors


def issue_title(issue: Issue, settings: Newsletter) -> str:
    return one_line(issue.title) or f"{one_line(settings.title)} {issue.id}"


def attribution(article: Article, settings: Newsletter | None = None) -> str:
    """The attribution line as printed, one line (labels in the settings' edition)."""
    from .text import attribution_of

    return one_line(attribution_of(article, settings))


def label(settings: Newsletter, text: str) -> str:
    """An exporter's own fixed text (目录, 原文链接, …) in the settings' edition."""
    from ..editions import label as edition_label

    return edition_label(settings, text)


def published_at(date: dt.date, settings: Newsletter) -> dt.datetime:
    """The issue's date at PUBLISH_TIME in the newsletter's timezone (aware, with its offset)."""
    from ..dates import zone

    return dt.datetime.combine(date, PUBLISH_TIME, tzinfo=zone(settings.timezone))


def require_date(issue: Issue) -> dt.date:
    if issue.date is None:
        raise UsageError(
            f"issue {issue.id} has no date", hint="set one with `ecdigest publish ISSUE --date YYYY-MM-DD`"
        )
    return issue.date


@lru_cache(maxsize=4096)  # an article's link is shown by every page and feed that lists it
def uri(url: str) -> str:
    """An IRI as a URI that feed validators accept: non-ASCII, blanks and the few ASCII
    characters URIs forbid are percent-encoded, a non-ASCII host becomes IDNA. Reserved
    characters and existing `%XX` escapes are kept, so a valid URI comes back unchanged."""
    url = one_line(url)
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    if host and not host.isascii():
        with contextlib.suppress(UnicodeError):
            url = url.replace(host, host.encode("idna").decode("ascii"), 1)
    return quote(url, safe=_URI_SAFE)


def issue_link(settings: Newsletter, issue_id: str, article_id: str | None = None) -> str:
    """The issue's page on the site (setting `issue_url`), optionally at an article's anchor."""
    template = settings.issue_url or "{link}{issue}.html"
    # str.replace, not str.format: the template comes from a settings file.
    url = template.replace("{link}", settings.link).replace("{issue}", issue_id)
    if article_id is not None:
        url += "#" + article_id
    return uri(url)


@lru_cache(maxsize=4096)  # every feed asks for it twice per item (its link, its 原文链接)
def web_url(url: str | None) -> str | None:
    """`url` as a URI if it is an http(s) link, else None. An article's url comes from the
    article's text: a `javascript:` or `data:` url must never become a link a reader follows."""
    if not url:
        return None
    from ..urls import clean_url

    value = uri(clean_url(one_line(url)))
    return value if re.match(r"(?i)^https?://[^/?#\s]", value) else None


def article_link(settings: Newsletter, issue: Issue, article: Article) -> str:
    """The article's own (web) url, else its anchor on the issue page."""
    return web_url(article.url) or issue_link(settings, issue.id, article.id)


def _tag_base(settings: Newsletter) -> str:
    if not _TAG_AUTHORITY.fullmatch(settings.tag_authority):
        raise UsageError(
            f"[newsletter] tag_authority {settings.tag_authority!r} is not a lower-case domain or email",
            hint='e.g. tag_authority = "example.org" in ecdigest.toml; set it once, never change it',
        )
    if not _TAG_DATE.fullmatch(settings.tag_date):
        raise UsageError(
            f"[newsletter] tag_date {settings.tag_date!r} is not YYYY, YYYY-MM or YYYY-MM-DD",
            hint='e.g. tag_date = "2023" in ecdigest.toml; set it once, never change it',
        )
    # An edition's items are other items (editions.py): `ecd/{edition}/…` never collides
    # with an article id (no '/') or `issue/…` (edition names are zh-Hant-XX).
    edition = f"{settings.edition}/" if settings.edition else ""
    return f"tag:{settings.tag_authority},{settings.tag_date}:ecd/{edition}"


def article_guid(settings: Newsletter, article_id: str) -> str:
    """The article's permanent id (RFC 4151 tag URI): from the article id and two fixed
    settings only, so editing the article, adding issues or re-importing never changes it."""
    return _tag_base(settings) + article_id


def issue_guid(settings: Newsletter, issue_id: str) -> str:
    # Article ids never contain '/', so `issue/…` cannot collide with an article's guid.
    return _tag_base(settings) + "issue/" + issue_id


def feed_guid(settings: Newsletter) -> str:
    return _tag_base(settings) + "feed"


def atom_url(settings: Newsletter) -> str:
    """Where atom.xml is served: setting `atom_url`, else next to `feed_url`."""
    if settings.atom_url:
        return uri(settings.atom_url)
    base = settings.feed_url.rsplit("/", 1)[0] if "/" in settings.feed_url else settings.feed_url
    return uri(base + "/atom.xml")


def published_newest_first(issues: Sequence[Issue]) -> list[Issue]:
    """Published issues, newest first (by date, then id); each must have a date."""
    chosen = [i for i in issues if i.is_published]
    for issue in chosen:
        require_date(issue)
    return sorted(chosen, key=lambda i: (i.date or dt.date.min, i.id), reverse=True)
