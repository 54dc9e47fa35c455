"""What every generated email must be, checked from the outside with Python's `email`
package and html5lib: two alternatives (flowed text, then HTML) that decode, carry the
same articles in the same order, and an HTML part that parses without an error, loads
nothing and has no markup that did not come from the template."""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from _flowed import unflow_part

from ecdigest.export import common
from ecdigest.model import Issue, Newsletter

# What the email template (and the partial it imports) writes, after the mail-safe pass:
# tag -> attributes. Article text can only ever be text: any other element or attribute
# means markup got through.
TAGS: dict[str, frozenset[str]] = {
    "html": frozenset({"lang"}),
    "head": frozenset(),
    "meta": frozenset({"charset", "name", "content"}),
    "title": frozenset(),
    "body": frozenset({"style"}),
    "table": frozenset({"role", "border", "width", "cellpadding", "cellspacing", "style"}),
    "tbody": frozenset(),
    "tr": frozenset(),
    "td": frozenset({"align", "style"}),
    "div": frozenset({"lang", "style", "aria-label"}),
    "p": frozenset({"style"}),
    "h1": frozenset({"style"}),
    "h2": frozenset({"style"}),
    "h3": frozenset({"style"}),
    "ol": frozenset({"start", "style"}),
    "ul": frozenset({"style", "aria-label"}),
    "li": frozenset({"style"}),
    "a": frozenset({"href", "rel", "style", "id", "name"}),
    "span": frozenset({"style"}),
}
# In a style attribute, what would load something (an image, a font, a stylesheet): the
# elements and attributes that load (img, link, style, script, src) are not in TAGS at all.
REMOTE = re.compile(r"(?i)url\s*\(|@import|expression\s*\(|image-set\s*\(")
BLOCKS = ("h1", "h2", "h3", "p")


def parse(data: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def alternatives(message: EmailMessage) -> tuple[EmailMessage, EmailMessage]:
    """The text and the HTML part: multipart/alternative, text first (least preferred)."""
    assert message.get_content_type() == "multipart/alternative", message.get_content_type()
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    text, markup = parts
    assert isinstance(text, EmailMessage) and isinstance(markup, EmailMessage)
    assert message.get_body(("plain",)) is text and message.get_body(("html",)) is markup
    for part in parts:
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "base64"
        assert isinstance(part.get_content(), str)
    return text, markup


def header_problems(data: bytes) -> list[str]:
    """Every header of the message and its parts: one logical line each (folded lines
    start with a blank), 7-bit."""
    problems = []
    message = parse(data)
    for part in message.walk():
        for name, value in part.items():
            if "\n" in str(value) or "\r" in str(value):
                problems.append(f"{name} spans lines: {value!r}")
    head = data.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    for line in head.split(b"\n"):
        if not re.match(rb"^([A-Za-z-]+: |[ \t])", line):
            problems.append(f"header line {line!r}")
    if not data.isascii():
        problems.append("8-bit bytes in the message")
    return problems


def tree(html: str) -> Any:
    import html5lib

    return html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)


def html_problems(html: str) -> list[str]:
    """Parse errors, elements or attributes the template does not write, links that are
    not http(s), mailto or an anchor in the message, anything loaded from anywhere."""
    import html5lib

    parser = html5lib.HTMLParser(strict=False, namespaceHTMLElements=False)
    parser.parse(html)
    problems = [f"parse error {code} {info}" for _, code, info in parser.errors]
    root = tree(html)
    names = {e.get("name") for e in root.iter("a") if e.get("name")}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # comments: Outlook's conditional ones, from the template
        allowed = TAGS.get(element.tag)
        if allowed is None:
            problems.append(f"element <{element.tag}>")
            continue
        problems += [f"<{element.tag} {a}>" for a in element.attrib if a not in allowed]
        loads = REMOTE.search(element.get("style") or "")
        if loads:
            problems.append(f"<{element.tag} style> loads something: {loads.group()!r}")
        href = element.get("href")
        in_message = href is not None and href.startswith("#") and href[1:] in names
        if href is not None and not re.match(r"^(https?://|mailto:)", href) and not in_message:
            problems.append(f"link {href!r}")
    return problems


def _norm(text: str) -> str:
    """Text as both parts must show it: every run of blanks (U+3000 too) one space."""
    return " ".join(re.split(r"[\s\u3000]+", text)).strip()


def _hidden(element: Any) -> bool:
    return "display:none" in (element.get("style") or "").replace(" ", "")


def html_blocks(html: str) -> list[str]:
    """The visible headings and paragraphs of the HTML part, in order, as text."""
    found: list[str] = []

    def walk(element: Any) -> None:
        if not isinstance(element.tag, str) or _hidden(element):
            return
        if element.tag in BLOCKS:
            found.append(_norm("".join(element.itertext())))
            return
        for child in element:
            walk(child)

    walk(tree(html).find("body"))
    return found


def text_stream(message: EmailMessage) -> str:
    """The text part after the contents, as a reader of it sees it, every blank left out:
    un-flowed (RFC 3676) when flowed, the numbers of the titles (`N. `) dropped. Fixed
    text is wrapped by display width, so only the order of the characters is compared."""
    lines = unflow_part(message)
    rules = [i for i, line in enumerate(lines) if line and set(line) == {"="}]
    body = lines[rules[1] + 1 :] if len(rules) > 1 else lines
    kept = []
    title_next = False
    for line in body:
        if title_next and line:
            line = re.sub(r"^ *\d+\. ", "", line)  # a title: the first line after 【section】 or ----
            title_next = False
        elif line:
            title_next = bool(re.match(r"^【.*】$|^-+$", line))
        kept.append(line)
    return re.sub(r"[\s\u3000]+", "", "".join(kept))


def expected(issue: Issue, settings: Newsletter) -> list[str]:
    """What both parts must carry of the articles the email holds, in order: each title,
    paragraph and attribution line."""
    items = []
    for _, articles in issue.by_section(settings.sections):
        for article in articles:
            items.append(common.title_of(article))
            items += common.paragraphs(article)
            items.append(common.attribution(article, settings))
    return [_norm(item) for item in items]


def missing(items: list[str], blocks: list[str]) -> list[str]:
    """The items not found in `blocks` in order (each in a later block than the previous)."""
    gone = []
    position = 0
    for item in items:
        try:
            position = blocks.index(item, position) + 1
        except ValueError:
            gone.append(item)
    return gone


def missing_in_stream(items: list[str], stream: str) -> list[str]:
    """The items not found in `stream` in order (blanks left out of both)."""
    gone = []
    position = 0
    for item in items:
        found = stream.find(re.sub(r"[\s\u3000]+", "", item), position)
        if found < 0:
            gone.append(item)
        else:
            position = found + 1
    return gone


def check_message(
    data: bytes, issue: Issue | None = None, settings: Newsletter | None = None
) -> EmailMessage:
    """Everything above; with the issue (as shown: cut, converted) its content in both."""
    assert header_problems(data) == []
    message = parse(data)
    assert message.defects == []
    _text, markup = alternatives(message)
    html = markup.get_content()
    assert html_problems(html) == []
    if issue is not None and settings is not None:
        items = expected(issue, settings)
        assert missing(items, html_blocks(html)) == [], "the HTML part"
        assert missing_in_stream(items, text_stream(message)) == [], "the text part"
    return message
