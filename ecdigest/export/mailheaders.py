"""Header values for the email (export/email.py): addresses, RFC 2047 free text, list headers.

Every value is one line by construction (`one_line`): a title with CR/LF in it cannot add
a header. Free text (the subject, display names, the List-Id phrase) is written as RFC 2047
encoded words and folded here (`_Folded`), because Python's own folder (3.11) can emit an
empty line inside a long header, ending the header block, and drops the quotes of a long
quoted display name. Addresses must be plain ASCII (no SMTPUTF8 needed anywhere).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..model import Newsletter
from .common import one_line, uri, web_url

if TYPE_CHECKING:
    from email.policy import Policy


def addresses(value: str, where: str) -> list[tuple[str, str]]:
    """(display name, address) pairs; UsageError unless every one is a plain ASCII address
    (the message stays 7-bit: no SMTPUTF8 needed anywhere)."""
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
        if where.startswith("--"):
            raise UsageError(
                f"{where} {value!r} is not an email address", hint="e.g. --to editor@example.org"
            )
        raise UsageError(
            f"[email] {where} = {value!r} is not a list of email addresses",
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
    `folded` separates its lines with LF; the policy's line separator replaces it.
    """

    name: str
    folded: str

    def __new__(cls, name: str, value: str, folded: str) -> _Folded:
        self = super().__new__(cls, value)
        self.name = name
        self.folded = folded
        return self

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: {self.folded}".replace("\n", policy.linesep or "\n") + (policy.linesep or "\n")


def _encoded(text: str, name: str) -> str:
    from email.header import Header

    return Header(text, "utf-8", header_name=name).encode(linesep="\n")


def text_header(name: str, text: str) -> _Folded:
    return _Folded(name, text, _encoded(text, name))


def address_header(name: str, addresses: list[tuple[str, str]]) -> _Folded:
    parts = []
    for display, addr in addresses:
        if not display:
            parts.append(addr)
            continue
        encoded = _encoded(display, name)
        last = encoded.rsplit("\n", 1)[-1]
        room = 78 - (len(name) + 2 if "\n" not in encoded else 0)
        glue = " " if len(last) + len(addr) + 3 <= room else "\n "
        parts.append(f"{encoded}{glue}<{addr}>")
    value = ", ".join(f"{d} <{a}>" if d else a for d, a in addresses)
    return _Folded(name, value, ",\n ".join(parts))


def list_header(name: str, urls: list[str]) -> _Folded:
    """`<url>, <url>`, one URL a line when they do not fit on one (RFC 2369 allows folding)."""
    items = [f"<{url}>" for url in urls]
    one = ", ".join(items)
    folded = one if len(name) + 2 + len(one) <= 78 else ",\n ".join(items)
    return _Folded(name, one, folded)


# RFC 5322 dot-atom-text: what a List-Id (RFC 2919) is made of.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LIST_ID = re.compile(rf"^{_ATEXT}(?:\.{_ATEXT})+$")


def list_id(settings: Newsletter) -> str | None:
    """`[email] list_id`, else `list.host` from the first `to` address; None if neither
    gives a valid id (several recipients, a quoted local part)."""
    if settings.list_id:
        value = one_line(settings.list_id).strip("<>")
        if not _LIST_ID.match(value) or len(value) > 255:
            raise UsageError(
                f"[email] list_id = {settings.list_id!r} is not a list id (letters, digits, dots: list.example.org)",
                path="ecdigest.toml",
            )
        return value
    derived = addresses(settings.email_to, "to")[0][1].replace("@", ".", 1)
    return derived if _LIST_ID.match(derived) else None


def unsubscribe_urls(settings: Newsletter) -> list[str]:
    """The List-Unsubscribe URLs: mailto: first, then http(s) (RFC 2369 order of preference
    is the sender's; most clients take the https one for a one-click button)."""
    urls = []
    if settings.unsubscribe_mailto:
        value = one_line(settings.unsubscribe_mailto)
        address, _, query = value.removeprefix("mailto:").partition("?")
        addresses(address, "unsubscribe_mailto")
        urls.append(uri(f"mailto:{address}" + (f"?{query}" if query else "")))
    if settings.unsubscribe_url:
        url = web_url(settings.unsubscribe_url)
        if url is None:
            raise UsageError(
                f"[email] unsubscribe_url = {settings.unsubscribe_url!r} is not an http(s) URL",
                path="ecdigest.toml",
                hint='e.g. unsubscribe_url = "https://example.org/ecd/unsubscribe"',
            )
        urls.append(url)
    return urls
