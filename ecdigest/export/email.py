"""The issue as an email: the text (fixed or RFC 3676 flowed), and the whole message.

The text: a header block, a numbered table of contents by section, then the articles
with their attribution lines, wrapped by display width (`textwrap_cjk`: Chinese
characters and the marks Chinese fonts draw full-width take two columns, Latin words and
URLs are never split, no line starts with `。，、）》”` … or ends with `（《“` …), and a
signature (`-- `) with the editor, the unsubscribe link and the feed. `max_articles` cuts
a long issue after N articles with a line that links the rest on the web page.

Format=flowed (RFC 3676, `[email] format = "flowed"`, the default): the same lines, but
every break the wrapper made inside a paragraph is a soft line break (the line ends with
a space), so a client that understands flowed text re-joins the paragraph and re-wraps
it to its window. DelSp=yes says that trailing space is only a marker: a break between
two Chinese characters re-joins without a space, and a break the wrapper made at a space
is sent with two (one kept). Clients that ignore the format show today's 72-column lines.
The rest of RFC 3676, done here and tested with a decoder written from the RFC:
- hard breaks carry no trailing space (lines are trimmed);
- lines starting with `>` or `From ` are space-stuffed (else they would read as quoted,
  or be mangled to `>From` by mbox software); lines that start with spaces are the
  indentation of a numbered title, which is hard-broken: its first space is read as the
  stuffing, so a flowed reader sees the indentation one column shorter and every other
  reader sees exactly the fixed text;
- `-- ` (the signature separator) is neither fixed nor flowed, so a paragraph line that is
  exactly `--` is never followed by a soft break (it would read as a separator): it is
  joined with the next line instead, in both views (the wrapper breaks there only before
  a token too wide for the line, so the joined line is one unbreakable token).

The message (Python's `email` package) is built from the parts it is given (`build`):
the text, then the HTML part (export/mailhtml.py: the issue page's templates, CSS
inlined), as multipart/alternative, least preferred first (RFC 2046). Both hold the same
articles (`kept`: the `max_articles` cut) and the same fixed sentences (`footer`,
`more_on_the_web`, `in_the_email`, written once here). UTF-8 in base64 (safe through any
transport; trailing spaces survive). Headers: From/To from
`[email]`, Subject (【样稿】 first on a proof of a draft), Date, Message-ID, and what a
list needs: List-Id, List-Unsubscribe (+ List-Unsubscribe-Post for an https URL, RFC
8058) and List-Archive. No `Precedence: bulk`: it was never standardised (RFC 2076 lists
it as non-standard and discouraged), Google dropped it from its sender guidelines, and
what it was used for, keeping out-of-office replies away from list mail, autoresponders
now read from the List-* fields this message carries.

The message is byte-identical across runs:
- Date: the issue's date at 08:00 in the newsletter's timezone (not the time of the run);
- Message-ID: `<ecd.ISSUE.HASH@DOMAIN>`, HASH from the headers and the parts, DOMAIN from
  the From address: the same issue gives the same id, a corrected issue a new one;
- the MIME boundary: from the parts (Python's is random).

Size: Gmail clips a message whose HTML is over 102 KB; `Message.fits` is then the most
articles whose HTML part fits (a binary search that renders the part), for the warning.
Header values (mailheaders.py) are single-line by construction, so a title with CR/LF in
it cannot add headers.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from ..dates import format_cn
from ..errors import UsageError
from ..model import Article, Issue, Newsletter
from ..textwrap_cjk import wrap
from .common import (
    attribution,
    issue_link,
    issue_title,
    label,
    one_line,
    paragraphs,
    published_at,
    require_date,
    title_of,
    uri,
    web_url,
)
from .mailheaders import address_header, addresses, list_header, list_id, text_header, unsubscribe_urls

if TYPE_CHECKING:
    from . import mailhtml

NAME = "email"
EXTENSION = ".txt"
MEDIA_TYPE = "text/plain; charset=utf-8"
EML_EXTENSION = ".eml"
EML_MEDIA_TYPE = "message/rfc822"

DEFAULT_WIDTH = 72
MIN_WIDTH = 30
# Gmail shows the first 102 KB of a message's HTML and hides the rest behind "[Message
# clipped] View entire message". Measured on the decoded part that a client renders: the
# HTML part once there is one, the text part until then.
CLIP_BYTES = 102 * 1024
PROOF_MARK = "【样稿】"
SIGNATURE = "-- "  # the Usenet/email signature separator, trailing space included
FILE_LINESEP = "\n"  # the local convention `sendmail -t` reads
SMTP_LINESEP = "\r\n"  # the wire (RFC 5321); smtplib sends bytes as they are


# --------------------------------------------------------------------------- the text


@dataclass(frozen=True)
class Line:
    """One line of the text as a reader of fixed text sees it, and the break after it:
    None a hard break; "" a soft break inside a run of text; " " a soft break at a space."""

    text: str
    soft: str | None = None


# The blanks the wrapper breaks at and squeezes to one space (textwrap_cjk's rule).
_WRAP_BLANKS = " \t\u3000"


def _soft_breaks(text: str, lines: list[str]) -> list[str]:
    """What the wrapper took out at each break of `lines` (wrapped from `text`): "" or " ".

    The lines are the text in order, with each run of blanks one space and the blank at a
    break dropped; walking both tells which breaks fell on a blank.
    """
    position, end = 0, len(text)
    while position < end and text[position].isspace():  # wrap() strips the text first
        position += 1
    breaks: list[str] = []
    for index, line in enumerate(lines):
        i = 0
        while i < len(line):
            char = line[i]
            if char == " " and position < end and text[position] in _WRAP_BLANKS:
                while position < end and text[position] in _WRAP_BLANKS:
                    position += 1
                i += 1
                continue
            if position >= end or text[position] != char:
                raise RuntimeError(f"the wrapped line {line!r} is not a piece of {text!r}")
            position += 1
            i += 1
        if index < len(lines) - 1:
            start = position
            while position < end and text[position] in _WRAP_BLANKS:
                position += 1
            breaks.append(" " if position > start else "")
    return breaks


class _Text:
    """The email text, line by line, with what kind of break follows each line."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.lines: list[Line] = []

    def hard(self, *texts: str) -> None:
        self.lines += [Line(text) for text in texts]

    def paragraph(self, text: str) -> None:
        """Wrapped text whose breaks a flowed reader may undo."""
        lines = wrap(text, self.width)
        breaks = [*_soft_breaks(text, lines), None]
        rows = [Line(line, soft) for line, soft in zip(lines, breaks, strict=True)]
        # `--` + a soft break is `-- ` on the wire, the signature separator: join it with
        # the next line (one line over the width in this rare case, the text intact).
        index = 0
        while index < len(rows) - 1:
            if rows[index].text == "--" and rows[index].soft == "":
                following = rows.pop(index + 1)
                rows[index] = Line("--" + following.text, following.soft)
            else:
                index += 1
        self.lines += rows

    def numbered(self, number: int, digits: int, text: str) -> None:
        """A numbered title: hard breaks, continuation lines indented under the text."""
        prefix = f"{number:>{digits}}. "
        self.hard(*wrap(text, self.width, indent=prefix, subsequent_indent=" " * len(prefix)))

    def fixed(self) -> str:
        return "".join(f"{_trimmed(line)}\n" for line in self.lines)

    def flowed(self) -> str:
        """RFC 3676 text, DelSp=yes: soft breaks end in a space that readers delete."""
        out = []
        for line in self.lines:
            text = _trimmed(line)
            if line.soft is not None:
                text += line.soft + " "
            if text.startswith((">", "From ")):  # `From` + a soft break is `From ` too
                text = " " + text  # space-stuffing (lines starting with a space: see the top)
            out.append(text + "\n")
        return "".join(out)


def _trimmed(line: Line) -> str:
    return line.text if line.text == SIGNATURE else line.text.rstrip(" ")


def _section(name: str, settings: Newsletter) -> str:
    return f"【{one_line(name) or label(settings, '未分类')}】"


def _cut(issue: Issue, settings: Newsletter, max_articles: int) -> list[tuple[str, list[Article]]]:
    """The sections and articles that go in the email: the first `max_articles` (0: all)."""
    groups = list(issue.by_section(settings.sections))
    if not max_articles:
        return groups
    kept: list[tuple[str, list[Article]]] = []
    room = max_articles
    for name, articles in groups:
        if room <= 0:
            break
        kept.append((name, articles[:room]))
        room -= len(kept[-1][1])
    return kept


def footer(settings: Newsletter) -> list[tuple[str, str | None]]:
    """The signature's lines as (text, URL or None): the editor, the unsubscribe link, the
    feed. A line reads `text + URL`; the HTML part makes the URL a link."""
    lines: list[tuple[str, str | None]] = []
    editor = one_line(settings.editor)
    if editor:
        lines.append((editor, None))
    if settings.unsubscribe_url:
        lines.append((f"{label(settings, '退订')}：", uri(settings.unsubscribe_url)))
    elif settings.unsubscribe_mailto:
        address = one_line(settings.unsubscribe_mailto)
        lines.append((f"{label(settings, '退订')}：{address.removeprefix('mailto:').split('?', 1)[0]}", None))
    lines.append(("RSS：", uri(settings.feed_url)))
    return lines


def more_on_the_web(settings: Newsletter, total: int, shown: int) -> str | None:
    """The sentence before the issue page's URL when the email holds only `shown` articles."""
    if shown >= total:
        return None
    return label(settings, f"本期另有 {total - shown} 篇文章未收入邮件，请阅读网页版：")


def in_the_email(settings: Newsletter, total: int, shown: int) -> str | None:
    """How many articles the email holds, when not all of them."""
    return label(settings, f"本邮件收录前 {shown} 篇") if shown < total else None


def kept(issue: Issue, settings: Newsletter, max_articles: int | None) -> Issue:
    """The issue as the email holds it: its first `max_articles` articles in section order
    (None: `[email] max_articles`; 0: all)."""
    groups = _cut(issue, settings, _max_articles(settings, max_articles))
    articles = tuple(article for _, group in groups for article in group)
    return issue if len(articles) == len(issue.articles) else replace(issue, articles=articles)


def _max_articles(settings: Newsletter, max_articles: int | None) -> int:
    if max_articles is None:
        max_articles = settings.max_articles
    if max_articles < 0:
        raise UsageError("--max-articles must be 0 (all) or more")
    return max_articles


def _layout(issue: Issue, settings: Newsletter, width: int, max_articles: int | None) -> _Text:
    if width < MIN_WIDTH:
        raise UsageError(f"--width must be at least {MIN_WIDTH}")
    groups = _cut(issue, settings, _max_articles(settings, max_articles))
    total = len(issue.articles)
    shown = sum(len(articles) for _, articles in groups)
    digits = len(str(max(shown, 1)))
    rule, thin = "=" * width, "-" * width
    web_page = issue_link(settings, issue.id)
    out = _Text(width)

    out.paragraph(issue_title(issue, settings))
    meta = [format_cn(issue.date)] if issue.date else []
    cut = in_the_email(settings, total, shown)
    meta.append(label(settings, f"共 {total} 篇") + (f"，{cut}" if cut else ""))
    out.paragraph(" · ".join(meta))
    out.paragraph(f"{label(settings, '网页版')}：{web_page}")
    out.hard(rule, "", label(settings, "目录"))
    number = 0
    for name, articles in groups:
        out.hard("", _section(name, settings))
        for article in articles:
            number += 1
            out.numbered(number, digits, title_of(article))
    out.hard("", rule)

    number = 0
    for name, articles in groups:
        out.hard("", _section(name, settings))
        for index, article in enumerate(articles):
            number += 1
            if index:
                out.hard("", thin)
            out.hard("")
            out.numbered(number, digits, title_of(article))
            for text in paragraphs(article):
                out.hard("")
                out.paragraph(text)
            out.hard("")
            out.paragraph(attribution(article, settings))
            link = web_url(article.url)
            if link:
                out.paragraph(f"{label(settings, '原文')}：{link}")
        out.hard("", rule)
    if not groups:
        out.hard("", label(settings, "（本期暂无文章）"), "", rule)
    more = more_on_the_web(settings, total, shown)
    if more:
        out.hard("")
        out.paragraph(more + web_page)
        out.hard("", rule)

    out.hard("", SIGNATURE)
    for text, url in footer(settings):
        out.paragraph(text + (url or ""))
    return out


def render_text(
    issue: Issue, settings: Newsletter, *, width: int = DEFAULT_WIDTH, max_articles: int | None = None
) -> str:
    """The plain-text email body: fixed lines, as `ecdigest export email` prints it."""
    return _layout(issue, settings, width, max_articles).fixed()


def render_flowed(
    issue: Issue, settings: Newsletter, *, width: int = DEFAULT_WIDTH, max_articles: int | None = None
) -> str:
    """The same text as format=flowed; DelSp=yes (RFC 3676)."""
    return _layout(issue, settings, width, max_articles).flowed()


# --------------------------------------------------------------------------- parts


@dataclass(frozen=True)
class Part:
    """One form of the body: text/SUBTYPE with Content-Type parameters (besides charset).

    `text` has LF line ends; the message builder gives it the message's line separator.
    """

    subtype: str
    text: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def size(self) -> int:
        """Bytes of the decoded part (UTF-8), what a client renders."""
        return len(self.text.encode("utf-8"))

    @property
    def content_type(self) -> str:
        return "; ".join([f"text/{self.subtype}", "charset=utf-8", *(f"{k}={v}" for k, v in self.params)])


def text_part(
    issue: Issue,
    settings: Newsletter,
    *,
    width: int = DEFAULT_WIDTH,
    max_articles: int | None = None,
    layout: _Text | None = None,
) -> Part:
    """The text/plain part, flowed or fixed as `[email] format` says (`layout`: the
    issue's text as `_layout` lays it out for these arguments, when the caller has it)."""
    if layout is None:
        layout = _layout(issue, settings, width, max_articles)
    if settings.email_format == "fixed":
        return Part("plain", layout.fixed())
    return Part("plain", layout.flowed(), (("format", "flowed"), ("delsp", "yes")))


def html_part(
    issue: Issue, settings: Newsletter, *, max_articles: int | None = None, archive_root: Path | None = None
) -> Part:
    """The text/html part (export/mailhtml.py): the web page's content, styles inlined;
    the same articles, cut and fixed sentences as the text part."""
    from . import mailhtml

    shown = kept(issue, settings, max_articles)
    page = mailhtml.render(issue, shown, settings, frame(issue, settings, shown), archive_root=archive_root)
    return Part("html", page)


def frame(issue: Issue, settings: Newsletter, shown: Issue) -> mailhtml.Frame:
    """What the HTML part shows around the articles: the text part's sentences."""
    from . import mailhtml

    total, count = len(issue.articles), len(shown.articles)
    subject = issue_title(issue, settings)
    return mailhtml.Frame(
        subject=subject if issue.is_published else PROOF_MARK + subject,
        web_page=issue_link(settings, issue.id),
        proof=None if issue.is_published else PROOF_MARK + label(settings, "草稿未发布，仅供校对"),
        in_the_email=in_the_email(settings, total, count),
        more=more_on_the_web(settings, total, count),
        footer=tuple(footer(settings)),
    )


# --------------------------------------------------------------------------- the message


@dataclass(frozen=True)
class Message:
    """A rendered message: its bytes and what `send` and the size report need."""

    data: bytes
    message_id: str
    sender: str  # the From address: MAIL FROM
    recipients: tuple[str, ...]  # the envelope recipients: RCPT TO
    # (name, value) in order: each value reads as the decoded text and folds as it did here
    headers: tuple[tuple[str, str], ...]
    parts: tuple[Part, ...] = field(default=())
    # Finds the most articles that fit (the binary search that renders the HTML part again);
    # run only when someone asks for `fits` (`build` writes the message and never does).
    find_fit: Callable[[], int | None] | None = field(default=None, repr=False, compare=False)

    @cached_property
    def fits(self) -> int | None:
        """When the clipping part is over CLIP_BYTES: the most articles that fit (None: none
        fit, or the part is not clipped)."""
        if self.clip_part.size <= CLIP_BYTES or self.find_fit is None:
            return None
        return self.find_fit()

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def clip_part(self) -> Part:
        """The part Gmail's clipping applies to: the HTML one, else the text."""
        return next((p for p in self.parts if p.subtype == "html"), self.parts[0])

    def size_line(self) -> str:
        """One line: the message's size and the size of the part Gmail's clipping measures."""
        part = self.clip_part
        return (
            f"{self.size:,} bytes; text/{part.subtype} part {part.size:,} bytes "
            f"(Gmail clips above {CLIP_BYTES:,})"
        )

    def clip_warning(self) -> str | None:
        part = self.clip_part
        if part.size <= CLIP_BYTES:
            return None
        cut = (
            f"the first {self.fits} articles fit: --max-articles {self.fits} or [email] max_articles = {self.fits}"
            if self.fits
            else "cut the email with --max-articles N or [email] max_articles"
        )
        return (
            f"the text/{part.subtype} part is {part.size / 1024:.0f} KB: Gmail shows the first "
            f"{CLIP_BYTES // 1024} KB and hides the rest behind a link ({cut})"
        )


def message_id(issue: Issue, domain: str, digest_source: str) -> str:
    digest = hashlib.sha256(digest_source.encode("utf-8")).hexdigest()[:16]
    safe_id = re.sub(r"[^A-Za-z0-9-]+", "-", issue.id).strip("-") or "issue"
    return f"<ecd.{safe_id}.{digest}@{domain}>"


def build(headers: Sequence[tuple[str, str]], parts: Sequence[Part], *, linesep: str = FILE_LINESEP) -> bytes:
    """The message from its headers and the parts it is given: one part is the body
    itself, several are the alternatives of multipart/alternative, least preferred first
    (the text, then the HTML, as RFC 2046 orders them)."""
    from email import policy
    from email.message import EmailMessage

    if not parts:
        raise ValueError("a message needs at least one part")
    mail_policy = policy.default.clone(linesep=linesep)
    msg = EmailMessage(policy=mail_policy)
    for name, value in headers:
        msg[name] = value
    first, *others = parts
    msg.set_content(
        first.text, subtype=first.subtype, charset="utf-8", cte="base64", params=dict(first.params)
    )
    for part in others:  # the first call turns the message into multipart/alternative
        msg.add_alternative(
            part.text, subtype=part.subtype, charset="utf-8", cte="base64", params=dict(part.params)
        )
    if others:
        # The boundary from the parts, not random (the same issue gives the same bytes);
        # `-` never occurs in base64, so no line of a part can be mistaken for it.
        digest = hashlib.sha256("\0".join(f"{p.content_type}\n{p.text}" for p in parts).encode("utf-8"))
        msg.set_boundary(f"ecd-alternative-{digest.hexdigest()[:24]}")
    return msg.as_bytes(policy=mail_policy)


def compose(
    issue: Issue,
    settings: Newsletter,
    *,
    to: Sequence[str] = (),
    width: int = DEFAULT_WIDTH,
    max_articles: int | None = None,
    linesep: str = FILE_LINESEP,
    archive_root: Path | None = None,
    layout: _Text | None = None,
) -> Message:
    """The issue's message: to `[email] to`, or (a test send, a proof) to `to`.

    A draft is marked 【样稿】 in the subject: it can only go out as a proof.
    `layout`: the text as `_layout(issue, settings, width, max_articles)` lays it out.
    """
    from email.utils import format_datetime

    parts = [
        text_part(issue, settings, width=width, max_articles=max_articles, layout=layout),
        html_part(issue, settings, max_articles=max_articles, archive_root=archive_root),
    ]

    sender = addresses(settings.email_from, "from")[0]
    recipients = [pair for value in to for pair in addresses(value, "--to")] if to else None
    if recipients is None:
        recipients = addresses(settings.email_to, "to")
    subject = issue_title(issue, settings)
    if not issue.is_published:
        subject = PROOF_MARK + subject
    when = require_date(issue)
    if when.year < 1900:  # else the Date header comes out empty
        raise UsageError(
            f"issue {issue.id} is dated {when.isoformat()}: a mail's Date needs a year from 1900 on (RFC 5322)",
            hint="fix the issue's date",
        )
    headers: list[tuple[str, str]] = [
        ("From", address_header("From", [sender])),
        ("To", address_header("To", recipients)),
        ("Subject", text_header("Subject", subject)),
        ("Date", format_datetime(published_at(when, settings))),
    ]
    list_headers: list[tuple[str, str]] = []
    identifier = list_id(settings)
    if identifier:
        list_headers.append(("List-Id", address_header("List-Id", [(one_line(settings.title), identifier)])))
    unsubscribe = unsubscribe_urls(settings)
    if unsubscribe:
        list_headers.append(("List-Unsubscribe", list_header("List-Unsubscribe", unsubscribe)))
        if any(url.startswith("https://") for url in unsubscribe):
            list_headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    archive = web_url(settings.link)
    if archive:
        list_headers.append(("List-Archive", list_header("List-Archive", [archive])))

    digest_source = "\n".join(
        [
            repr(sender),
            repr(recipients),
            *(f"{name}: {value}" for name, value in headers[2:] + list_headers),
            *(f"{part.content_type}\n{part.text}" for part in parts),
        ]
    )
    identity = ("Message-ID", message_id(issue, sender[1].rsplit("@", 1)[1], digest_source))
    all_headers = [*headers, identity, *list_headers]
    return Message(
        data=build(all_headers, parts, linesep=linesep),
        message_id=identity[1],
        sender=sender[1],
        recipients=tuple(addr for _, addr in recipients),
        headers=tuple(all_headers),
        parts=tuple(parts),
        find_fit=lambda: _fitting(issue, settings, max_articles, archive_root),
    )


def _fitting(
    issue: Issue, settings: Newsletter, max_articles: int | None, archive_root: Path | None
) -> int | None:
    """The most articles whose HTML part Gmail shows whole (None: not even one): a binary
    search over `max_articles`, the part growing with every article kept."""
    low, high = 0, len(kept(issue, settings, max_articles).articles) - 1  # low fits (or is 0)
    while low < high:
        middle = (low + high + 1) // 2
        if html_part(issue, settings, max_articles=middle, archive_root=archive_root).size <= CLIP_BYTES:
            low = middle
        else:
            high = middle - 1
    return low or None


def render_eml(
    issue: Issue,
    settings: Newsletter,
    *,
    width: int = DEFAULT_WIDTH,
    max_articles: int | None = None,
    archive_root: Path | None = None,
) -> bytes:
    """A complete message for `sendmail -t` (LF line ends): headers + parts, deterministic.
    `archive_root`: whose `templates/` may override the HTML part's (as the site's)."""
    return compose(issue, settings, width=width, max_articles=max_articles, archive_root=archive_root).data


def render_text_and_eml(
    issue: Issue,
    settings: Newsletter,
    *,
    width: int = DEFAULT_WIDTH,
    max_articles: int | None = None,
    archive_root: Path | None = None,
) -> tuple[str, bytes]:
    """`render_text` and `render_eml` of the same arguments, the issue laid out once (the
    site's build writes both for the latest issue; the layout is ~40 % of the text)."""
    layout = _layout(issue, settings, width, max_articles)
    message = compose(
        issue, settings, width=width, max_articles=max_articles, archive_root=archive_root, layout=layout
    )
    return layout.fixed(), message.data


def render(
    issues: Sequence[Issue],
    settings: Newsletter,
    *,
    width: int = DEFAULT_WIDTH,
    eml: bool = False,
    max_articles: int | None = None,
) -> str | bytes:
    """One issue: the text body, or (`eml`) the whole message."""
    (issue,) = issues
    if eml:
        return render_eml(issue, settings, width=width, max_articles=max_articles)
    return render_text(issue, settings, width=width, max_articles=max_articles)
