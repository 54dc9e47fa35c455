"""Shared by the publishing tests: the fixed tricky archive, and the checks each output
format must pass (W3C Feed Validation Service rules for RSS 2.0, display-width and
kinsoku rules for the email, CommonMark structure for the Markdown)."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path

from ecdigest.textwrap_cjk import NO_START, display_width

TESTS = Path(__file__).parent
GOLDEN = TESTS / "golden"
FIXTURE_ARCHIVE = GOLDEN / "archive"

FORBIDDEN_START = set("。，、；：？！）》」』】”’")
FORBIDDEN_END = set("（《「『【“‘")


def copy_fixture(tmp_path: Path) -> Path:
    """A private copy of the fixed tricky archive (tests may edit it)."""
    target = tmp_path / "tricky-archive"
    shutil.copytree(FIXTURE_ARCHIVE, target)
    return target


# --------------------------------------------------------------------------- email


def email_problems(text: str, width: int) -> list[str]:
    """Lines breaking the email rules: wider than `width` display columns unless the line is
    one unbreakable token (no space inside, after any numbering indent), starting with a
    closing mark or ending with an opening one."""
    problems = []
    for number, line in enumerate(text.split("\n"), start=1):
        body = line.strip()
        # a mark that may not start a line is glued to the token before it, space or not
        token = "".join(c for i, c in enumerate(body) if not (c == " " and body[i + 1 : i + 2] in NO_START))
        if display_width(line) > width and (" " in token and not re.fullmatch(r"\d+\. \S+", token)):
            problems.append(f"line {number} is {display_width(line)} columns: {line!r}")
        if body and body[0] in FORBIDDEN_START:
            problems.append(f"line {number} starts with {body[0]!r}: {line!r}")
        if body and body[-1] in FORBIDDEN_END:
            problems.append(f"line {number} ends with {body[-1]!r}: {line!r}")
    return problems


# --------------------------------------------------------------------------- markdown


class HtmlOutline(HTMLParser):
    """What a CommonMark rendering contains: headings, ids, links, paragraphs, tags."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.headings: list[tuple[str, str]] = []  # (tag, text)
        self.paragraphs: list[str] = []
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self._open: list[tuple[str, list[str]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(values["id"] or "")
        if tag == "a" and values.get("href") is not None:
            self.hrefs.append(values["href"] or "")
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6", "p"):
            self._open.append((tag, []))

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            name, parts = self._open.pop()
            text = "".join(parts)
            if name == "p":
                self.paragraphs.append(text)
            else:
                self.headings.append((name, text))

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][1].append(data)


def render_commonmark(text: str) -> HtmlOutline:
    from markdown_it import MarkdownIt

    return HtmlOutline(MarkdownIt("commonmark").render(text))


# --------------------------------------------------------------------------- RSS: W3C rules

RSS_NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
}
# The validator's own expressions (feedvalidator validators.py): RFC 2822 dates as it
# accepts them without a warning, full URIs, tag: URIs.
RFC2822 = re.compile(
    r"(((Mon)|(Tue)|(Wed)|(Thu)|(Fri)|(Sat)|(Sun)), )?\d\d? ((Jan)|(Feb)|(Mar)|(Apr)|(May)|(Jun)|(Jul)"
    r"|(Aug)|(Sep)|(Oct)|(Nov)|(Dec)) \d\d\d\d \d\d:\d\d(:\d\d)? (([+-]?\d\d[03]0)|(UT)|(GMT)|(EST)"
    r"|(EDT)|(CST)|(CDT)|(MST)|(MDT)|(PST)|(PDT)|Z)$"
)
FULL_URI = re.compile(r"[a-zA-Z][0-9a-zA-Z+\-.]*:(//)?[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,#]+$")
TAG_URI = re.compile(
    r"^tag:([a-z0-9\-._]+?@)?[a-z0-9.\-]+?,\d{4}(-\d{2}(-\d{2})?)?:[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,#]+$"
)
HTML_END_TAG = re.compile(r"</(\w+)>")
HTML_ENTITY = re.compile(r"&(#?\w+);")
UNSAFE_HTML = re.compile(r"<(script|meta|embed|object)[>\s]|<[^>]*\son\w+\s*=", re.IGNORECASE)
HREF = re.compile(r"""(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
HTML_TAGS = {"a", "b", "i", "em", "strong", "p", "div", "span", "script", "br", "h1", "h2", "h3", "ul", "li"}
ISO639 = {"zh", "en", "ja", "ko", "fr", "de"}
CHANNEL_ELEMENTS = {
    "title", "link", "description", "language", "copyright", "managingEditor", "webMaster",
    "pubDate", "lastBuildDate", "category", "generator", "docs", "cloud", "ttl", "image",
    "rating", "textInput", "skipHours", "skipDays", "{http://www.w3.org/2005/Atom}link", "item",
}  # fmt: skip
ITEM_ELEMENTS = {
    "title", "link", "description", "author", "category", "comments", "enclosure", "guid",
    "pubDate", "source", "{http://purl.org/rss/1.0/modules/content/}encoded",
    "{http://purl.org/dc/elements/1.1/}creator",
}  # fmt: skip


def _date_problems(where: str, value: str) -> list[str]:
    if not RFC2822.match(value):
        return [f"{where}: {value!r} is not an RFC 2822 date"]
    parsed = email.utils.parsedate_to_datetime(value)
    problems = []
    if parsed.strftime("%a") != value[:3]:
        problems.append(f"{where}: wrong day of the week in {value!r}")
    tomorrow = dt.datetime.fromtimestamp(time.time() + 86400, dt.UTC)
    if parsed > tomorrow or parsed.year < 1970:
        problems.append(f"{where}: implausible date {value!r}")
    return problems


def _html_problems(where: str, value: str) -> list[str]:
    problems = []
    if UNSAFE_HTML.search(value):
        problems.append(f"{where}: unsafe HTML {UNSAFE_HTML.search(value)[0]!r}")  # type: ignore[index]
    for match in HREF.finditer(value):
        ref = match[1] if match[1] is not None else match[2]
        if not re.match(r"\w+:", ref):
            problems.append(f"{where}: relative URL {ref!r}")
    return problems


def w3c_rss_problems(data: bytes, feed_url: str) -> list[str]:
    """The W3C Feed Validation Service's RSS 2.0 errors and warnings, as far as they can
    apply to what we generate (rules read from its source, feedvalidator)."""
    from lxml import etree

    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False))
    problems: list[str] = []
    if root.tag != "rss" or root.get("version") != "2.0":
        problems.append('root is not <rss version="2.0">')
    for prefix, uri in RSS_NS.items():
        if prefix in root.nsmap and root.nsmap[prefix] != uri:
            problems.append(f"namespace {prefix} is {root.nsmap[prefix]!r}, not {uri!r}")
    channels = root.findall("channel")
    if len(channels) != 1:
        return [*problems, f"{len(channels)} channel elements"]
    channel = channels[0]
    for child in channel:
        if child.tag not in CHANNEL_ELEMENTS:
            problems.append(f"channel: undefined element {child.tag}")
    for name in ("title", "link", "description"):
        found = channel.findall(name)
        if len(found) != 1 or not (found[0].text or "").strip():
            problems.append(f"channel: missing or repeated {name}")
    link = channel.findtext("link") or ""
    if not FULL_URI.match(link):
        problems.append(f"channel link {link!r} is not a full URI")
    selfs = [a for a in channel.findall("atom:link", RSS_NS) if a.get("rel") == "self"]
    if len(selfs) != 1:
        problems.append("missing atom:link rel=self")
    else:
        if selfs[0].get("href") != feed_url:
            problems.append(
                f"self link {selfs[0].get('href')!r} does not match the feed's location {feed_url!r}"
            )
        if selfs[0].get("type") != "application/rss+xml":
            problems.append("self link without type application/rss+xml")
    language = channel.findtext("language")
    if language is not None and language.split("-")[0].lower() not in ISO639:
        problems.append(f"invalid language {language!r}")
    for name in ("lastBuildDate", "pubDate"):
        value = channel.findtext(name)
        if value is not None:
            problems += _date_problems(f"channel {name}", value)
    guids: set[str] = set()
    for index, item in enumerate(channel.findall("item"), start=1):
        where = f"item {index}"
        tags = [child.tag for child in item]
        for tag in set(tags):
            if tag not in ITEM_ELEMENTS:
                problems.append(f"{where}: undefined element {tag}")
            if tags.count(tag) > 1 and tag != "category":
                problems.append(f"{where}: duplicate {tag}")
        title = item.findtext("title")
        if title is None:
            problems.append(f"{where}: missing title")
        else:
            html_tags = [t for t in HTML_END_TAG.findall(title) if t.lower() in HTML_TAGS]
            if html_tags or HTML_ENTITY.search(title):
                problems.append(f"{where}: title contains HTML: {title!r}")
        item_link = item.findtext("link")
        if item_link is None or not FULL_URI.match(item_link):
            problems.append(f"{where}: missing or invalid link {item_link!r}")
        description = item.findtext("description")
        if description is None and title is None:
            problems.append(f"{where}: needs a title or a description")
        if description is not None:
            problems += _html_problems(f"{where} description", description)
        content = item.findtext("content:encoded", namespaces=RSS_NS)
        if content is not None:
            problems += _html_problems(f"{where} content:encoded", content)
            if "description" not in tags or tags.index("description") > tags.index(
                "{http://purl.org/rss/1.0/modules/content/}encoded"
            ):
                problems.append(f"{where}: description must come before content:encoded")
        guid = item.find("guid")
        if guid is None:
            problems.append(f"{where}: missing guid")
        else:
            permalink = guid.get("isPermaLink", "true")
            if permalink not in ("true", "false"):
                problems.append(f"{where}: isPermaLink must be true or false")
            value = guid.text or ""
            if permalink == "true" and not FULL_URI.match(value):
                problems.append(f"{where}: permalink guid {value!r} is not a URL")
            if value.startswith("tag:") and not TAG_URI.match(value):
                problems.append(f"{where}: invalid tag: URI {value!r}")
            if value in guids:
                problems.append(f"{where}: duplicate guid {value!r}")
            guids.add(value)
        if "author" in tags and "{http://purl.org/dc/elements/1.1/}creator" in tags:
            problems.append(f"{where}: both author and dc:creator")
        pub = item.findtext("pubDate")
        if pub is not None:
            problems += _date_problems(f"{where} pubDate", pub)
    return problems
