"""The issue as a plain-text email, and as a complete RFC 5322 message (`--eml`).

The text: a header block, a numbered table of contents by section, then the articles
with their attribution lines, wrapped by display width (`textwrap_cjk`: Chinese
characters and the marks Chinese fonts draw full-width take two columns, Latin words and
URLs are never split, no line starts with `。，、）》”` … or ends with `（《“` …).

The message (built with Python's `email` package): UTF-8 text/plain in base64 (safe
through any mail transport), From/To from `[email]` in ecdigest.toml, Subject = the issue
title, LF line endings as `sendmail -t` expects. It is byte-identical across runs:
- Date: the issue's date at 08:00 in the newsletter's timezone (not the time of the run);
- Message-ID: `<ecd.ISSUE.HASH@DOMAIN>`, HASH from the headers and the text, DOMAIN from
  the From address: the same issue gives the same id, a corrected issue a new one.
Header values are single-line by construction (`one_line`), so a title with CR/LF in it
cannot add headers.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..dates import format_cn
from ..errors import UsageError
from ..model import Issue, Newsletter
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

if TYPE_CHECKING:
    from email.policy import Policy

NAME = "email"
EXTENSION = ".txt"
MEDIA_TYPE = "text/plain; charset=utf-8"
EML_EXTENSION = ".eml"
EML_MEDIA_TYPE = "message/rfc822"

DEFAULT_WIDTH = 72
MIN_WIDTH = 30


def _numbered(number: int, digits: int, text: str, width: int) -> list[str]:
    prefix = f"{number:>{digits}}. "
    return wrap(text, width, indent=prefix, subsequent_indent=" " * len(prefix))


def render_text(issue: Issue, settings: Newsletter, *, width: int = DEFAULT_WIDTH) -> str:
    """The plain-text email body."""
    if width < MIN_WIDTH:
        raise UsageError(f"--width must be at least {MIN_WIDTH}")
    groups = list(issue.by_section(settings.sections))
    digits = len(str(max(len(issue.articles), 1)))
    rule, thin = "=" * width, "-" * width

    lines = wrap(issue_title(issue, settings), width)
    meta = [format_cn(issue.date)] if issue.date else []
    meta.append(f"共 {len(issue.articles)} 篇")
    lines += wrap(" · ".join(meta), width)
    lines += wrap(f"{label(settings, '网页版')}：{issue_link(settings, issue.id)}", width)
    lines += [rule, "", label(settings, "目录")]
    number = 0
    for name, articles in groups:
        lines += ["", f"【{one_line(name) or label(settings, '未分类')}】"]
        for article in articles:
            number += 1
            lines += _numbered(number, digits, title_of(article), width)
    lines += ["", rule]

    number = 0
    for name, articles in groups:
        lines += ["", f"【{one_line(name) or label(settings, '未分类')}】"]
        for index, article in enumerate(articles):
            number += 1
            if index:
                lines += ["", thin]
            lines.append("")
            lines += _numbered(number, digits, title_of(article), width)
            for text in paragraphs(article):
                lines.append("")
                lines += wrap(text, width)
            lines.append("")
            lines += wrap(attribution(article, settings), width)
            link = web_url(article.url)
            if link:
                lines += wrap(f"{label(settings, '原文')}：{link}", width)
        lines += ["", rule]
    if not groups:
        lines += ["", label(settings, "（本期暂无文章）"), "", rule]

    footer = [one_line(settings.editor), f"RSS：{uri(settings.feed_url)}"]
    for item in footer:
        if item:
            lines += wrap(item, width)
    return "\n".join(line.rstrip() for line in lines) + "\n"


# --------------------------------------------------------------------------- the message


def _addresses(value: str, key: str) -> list[tuple[str, str]]:
    """(display name, address) pairs from a setting; UsageError unless every one is a
    plain ASCII address (the message stays 7-bit: no SMTPUTF8 needed anywhere)."""
    from email.errors import HeaderParseError
    from email.headerregistry import Address
    from email.utils import getaddresses

    value = one_line(value)
    found: list[tuple[str, str]] = []
    try:
        for name, addr in getaddresses([value]):
            parsed = Address(addr_spec=addr)
            if not (parsed.username and parsed.domain and addr.isascii()):
                raise ValueError(addr)
            found.append((one_line(name), parsed.addr_spec))
    except (ValueError, IndexError, HeaderParseError):
        found = []
    if not found:
        raise UsageError(
            f"[email] {key} = {value!r} is not a list of email addresses",
            path="ecdigest.toml",
            hint='e.g. from = "《电子商务动态》编辑部 <editor@example.org>"',
        )
    return found


class _Folded(str):
    """A header value folded here, which the `email` package writes out as it is.

    Python's own folder (3.11) can emit an empty line inside a long header, ending the
    header block, and drops the quotes of a long quoted display name, turning it into a
    group: free text (subject, display names) is therefore always written as RFC 2047
    encoded words by `email.header.Header`, pure ASCII, at most 78 columns a line.
    """

    name: str
    folded: str

    def __new__(cls, name: str, value: str, folded: str) -> _Folded:
        self = super().__new__(cls, value)
        self.name = name
        self.folded = folded
        return self

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: {self.folded}{policy.linesep}"


def _encoded(text: str, name: str) -> str:
    from email.header import Header

    return Header(text, "utf-8", header_name=name).encode(linesep="\n")


def _text_header(name: str, text: str) -> _Folded:
    return _Folded(name, text, _encoded(text, name).replace("\n", LINESEP))


def _address_header(name: str, addresses: list[tuple[str, str]]) -> _Folded:
    parts = []
    for display, addr in addresses:
        if not display:
            parts.append(addr)
            continue
        encoded = _encoded(display, name)
        last = encoded.rsplit("\n", 1)[-1]
        glue = (
            " " if len(last) + len(addr) + 3 <= 78 - (len(name) + 2 if "\n" not in encoded else 0) else "\n "
        )
        parts.append(f"{encoded}{glue}<{addr}>")
    folded = ",\n ".join(parts).replace("\n", LINESEP)
    value = ", ".join(f"{d} <{a}>" if d else a for d, a in addresses)
    return _Folded(name, value, folded)


LINESEP = "\n"  # the local convention `sendmail -t` reads


def message_id(issue: Issue, domain: str, digest_source: str) -> str:
    digest = hashlib.sha256(digest_source.encode("utf-8")).hexdigest()[:16]
    safe_id = re.sub(r"[^A-Za-z0-9-]+", "-", issue.id).strip("-") or "issue"
    return f"<ecd.{safe_id}.{digest}@{domain}>"


def render_eml(issue: Issue, settings: Newsletter, *, width: int = DEFAULT_WIDTH) -> bytes:
    """A complete message for `sendmail -t`: headers + the text body, deterministic."""
    from email import policy
    from email.message import EmailMessage
    from email.utils import format_datetime

    text = render_text(issue, settings, width=width)
    sender = _addresses(settings.email_from, "from")[0]
    recipients = _addresses(settings.email_to, "to")
    subject = issue_title(issue, settings)
    when = require_date(issue)
    if when.year < 1900:  # else the Date header comes out empty
        raise UsageError(
            f"issue {issue.id} is dated {when.isoformat()}: a mail's Date needs a year from 1900 on (RFC 5322)",
            hint="fix the issue's date",
        )
    date = format_datetime(published_at(when, settings))
    digest_source = "\n".join([repr(sender), repr(recipients), subject, date, text])

    mail_policy = policy.default.clone(linesep=LINESEP)
    msg = EmailMessage(policy=mail_policy)
    msg["From"] = _address_header("From", [sender])
    msg["To"] = _address_header("To", recipients)
    msg["Subject"] = _text_header("Subject", subject)
    msg["Date"] = date
    msg["Message-ID"] = message_id(issue, sender[1].rsplit("@", 1)[1], digest_source)
    msg.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    return msg.as_bytes(policy=mail_policy)


def render(
    issues: Sequence[Issue], settings: Newsletter, *, width: int = DEFAULT_WIDTH, eml: bool = False
) -> str | bytes:
    """One issue: the text body, or (`eml`) the whole message."""
    (issue,) = issues
    if eml:
        return render_eml(issue, settings, width=width)
    return render_text(issue, settings, width=width)
