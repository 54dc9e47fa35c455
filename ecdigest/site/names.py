"""Where things live on the site: page paths for names (sections, sources, tags), issue
pages from the `issue_url` setting, and links between pages.

Names are Chinese, and readers share links: a page's path is the name itself, so a link
reads as `tag/跨境电商.html` in the address bar (and goes over the wire percent-encoded
UTF-8, as every browser sends it). The alternative, pinyin slugs, needs a dictionary,
reads worse to the readers it is for, and makes homophones collide (电商 / 店商).

The rule (`slug`) is a pure function of the name, so a page's URL never depends on which
other names exist:
- The name is folded the way search folds text (NFKC, case folding): `５Ｇ` and `5G`,
  `AI` and `ai` are one page. The marks that frame an outlet (《》“”「」"' …) are not part
  of the key, so 《人民日报》 and “人民日报” (a typo) share one page: the page of that outlet.
  Names with the same key are one page by design: nothing else can collide.
- Letters, digits and marks (Unicode L*, N*, M*) are kept; every other run of characters
  (`/ ? # % & \\ :` spaces, punctuation, controls) becomes one `-`; `-` never starts or ends
  a slug, so `..` and hidden files cannot come out.
- A key longer than MAX_CHARS characters (or MAX_BYTES bytes of UTF-8: file systems allow 255
  bytes per name) is cut, and `~` plus 8 hex digits of the whole key's BLAKE2 digest is added;
  `~` appears in no other slug, so a cut key never meets an uncut one. A name with no letter
  or digit at all (`？？`) is `~` plus its digest.
- Windows device names (`con`, `nul`, `com1` …) get a `-` added.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import unicodedata
from functools import lru_cache
from urllib.parse import quote, urlsplit

from ..model import Newsletter

MAX_CHARS = 40
MAX_BYTES = 120
# Marks that frame a name (book titles, quotes) and carry no meaning of their own.
_FRAME = "《》〈〉“”‘’「」『』\"'【】〔〕[]()（）"
_DEVICE = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])$")

KINDS = ("section", "source", "tag")


def _keep(char: str) -> bool:
    return unicodedata.category(char)[0] in "LNM"


@lru_cache(maxsize=65536)
def key(name: str) -> str:
    """The folded form names are compared in: names with one key are one page."""
    from ..search import fold

    return fold(name).strip(_FRAME + " ")


@lru_cache(maxsize=65536)
def slug(name: str) -> str:
    """The file name (without `.html`) of a name's page: see the module's rules."""
    folded = key(name)
    parts: list[str] = []
    run = False
    for char in folded:
        if _keep(char):
            parts.append(char)
            run = False
        elif not run:
            parts.append("-")
            run = True
    text = "".join(parts).strip("-")
    digest = hashlib.blake2b(folded.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()
    if not text:
        return "~" + digest
    if len(text) > MAX_CHARS or len(text.encode("utf-8")) > MAX_BYTES:
        cut = text[:MAX_CHARS]
        while len(cut.encode("utf-8")) > MAX_BYTES:
            cut = cut[:-1]
        return cut.rstrip("-") + "~" + digest
    if _DEVICE.match(text):
        text += "-"
    return text


def name_path(kind: str, name: str) -> str:
    """`section/行业资讯.html`, `source/人民日报.html`, `tag/跨境电商.html`."""
    return f"{kind}/{slug(name)}.html"


def href(from_page: str, to_page: str, fragment: str = "") -> str:
    """A relative link from one page to another (both site paths), percent-encoded: works
    under any base URL, from a web server and from the files opened off a disk. (Site paths
    are normalised by construction: no `.`, `..` or empty parts.)"""
    if to_page == from_page and fragment:
        return "#" + _quote_fragment(fragment)
    link = _relative(from_page, to_page)
    return link + ("#" + _quote_fragment(fragment) if fragment else "")


@lru_cache(maxsize=4096)  # a page's links; 65,536 held ~25 MB per build process
def _relative(from_page: str, to_page: str) -> str:
    here = from_page.split("/")[:-1]
    there = to_page.split("/")
    common = 0
    while common < len(here) and common < len(there) - 1 and here[common] == there[common]:
        common += 1
    parts = [".."] * (len(here) - common) + there[common:]
    return quote("/".join(parts), safe="/-._~")


@lru_cache(maxsize=4096)  # a page's links; 65,536 held ~25 MB per build process
def _quote_fragment(fragment: str) -> str:
    return quote(fragment, safe="")


def site_path(url: str, settings: Newsletter, fallback: str) -> str:
    """The site path of a URL under the site's `link` (`https://x/ecd/2023-06.html` ->
    `2023-06.html`; a URL ending in `/` -> its `index.html`), else `fallback`: pages the
    settings place elsewhere are still written, at their default place."""
    link = settings.link
    if not link or not url.startswith(link):
        return fallback
    rest = url[len(link) :]
    try:
        parts = urlsplit(rest)
    except ValueError:
        return fallback
    if parts.scheme or parts.netloc or parts.query or parts.fragment:
        return fallback
    path = parts.path
    if path == "" or path.endswith("/"):
        path += "index.html"
    clean = posixpath.normpath(path)
    if clean.startswith(("../", "/")) or clean in ("..", ".") or "\\" in clean:
        return fallback
    return clean


def issue_path(settings: Newsletter, issue_id: str) -> str:
    """Where an issue's page is written: the path of its `issue_url` under `link`."""
    template = settings.issue_url or "{link}{issue}.html"
    url = template.replace("{link}", settings.link).replace("{issue}", issue_id)
    return site_path(url, settings, f"{issue_id}.html")
