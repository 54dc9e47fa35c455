"""The email's HTML part: the issue page's content, rendered by the web archive's own
templates, in a frame that mail clients render, with every style inlined.

One rendering of an issue: the template `email.html` (site/templates/, overridable from
`ARCHIVE/templates/` like every page's) imports `partials/issue.html`, the macros the
issue's web page is made of, with the same views (`site.render.fragment_context`: links
absolute). Around it: a hidden preheader (the preview text a client shows after the
subject: the first titles), the proof mark of a draft, a "view in browser" link to the
issue's page (`issue_url`), the "more on the web" sentence when `max_articles` cut the
issue, and the signature of the text part (editor, unsubscribe, feed).

Then, for mail clients. What Gmail, Outlook and Apple Mail keep is from caniemail.com's
data (hteumeuleu/caniemail `_features/*.md`: html-style, html-semantics, html-anchor-links,
css-display, css-max-width, css-padding, css-word-break, ...). caniemail has no entry for
QQ Mail, Foxmail or NetEase's clients; Chinese developers' write-ups (a Tencent engineer's
on QQ Mail and Foxmail, others on NetEase 邮箱大师) agree on the same rules: inline styles,
no media-query layouts, Outlook's ghost table, and QQ Mail's mobile app as the weakest
renderer, which a single fluid column with nothing positioned asks least of:
- the stylesheet (`email.css`) is inlined into `style` attributes by css-inline, and the
  `<style>` element removed: Gmail drops `<style>` in the body and for non-Google
  accounts, and a 16 KB one; nothing of the look depends on it;
- `nav`, `article`, `section`, `header`, `footer`, `main` become `div` and `time` a
  `span`: Gmail replaces `nav`/`main` by `<u>` (underlining the contents), Outlook for
  Windows, Yahoo and AOL strip the semantic elements together with their style;
- `class`, `id` and the `aria-*` references to ids go (Gmail rewrites classes and drops
  ids, and they only cost bytes once the styles are inline); an in-message link target
  (the contents' `#article-id`) becomes `<a id="X" name="X">`, since Gmail's webmail and
  Outlook for Windows follow only `name` anchors;
- the layout is one fluid column, max-width 640 px inside a full-width table cell, and a
  640 px "ghost" table in an Outlook-only conditional comment (Word's engine ignores
  max-width outside tables); no flex, grid, position, floats, pseudo-elements or media
  queries: phones (390 px) get the same column, full width;
- nothing is loaded from anywhere: no images, fonts or stylesheets (the inliner's remote
  loading is off; the tests check every message for `src`, `url(`, `@import`, `<link`).

Size: Gmail clips a message whose HTML is over 102 KB, and inlining repeats a rule on every
element it matches. So the stylesheet sets what is inherited (fonts, colour, line-height,
the paragraphs' indent and justification) once on a container rather than on each of some
250 paragraphs, the inliner minifies, and the mail-safe pass drops the classes and ids: the
shipped issue's 53 articles come to 103,151 bytes (the first draft, indent and colours on
every paragraph and link, was 113,515). `export email --eml` and `send` report the size.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from ..model import Issue, Newsletter
from .common import issue_title, one_line

if TYPE_CHECKING:
    import css_inline

TEMPLATE = "email.html"
PREHEADER_TITLES = 3
PREHEADER_CHARS = 140

# Elements mail clients strip or rename, and what they become here.
RENAMED = {
    "nav": "div",
    "article": "div",
    "section": "div",
    "header": "div",
    "footer": "div",
    "main": "div",
    "aside": "div",
    "time": "span",
}
# Attributes that mean nothing once the styles are inline (or point at ids that go).
DROPPED = frozenset({"class", "id", "aria-labelledby", "aria-describedby", "datetime"})
_HANT = re.compile(r"(?i)^zh-(hant|tw|hk|mo)")


@dataclass(frozen=True)
class Frame:
    """What the email puts around the issue's content (the sentences are the text part's)."""

    subject: str
    web_page: str  # the issue's page: "view in browser" and the "more on the web" link
    proof: str | None  # the proof mark of a draft
    in_the_email: str | None  # "the email holds the first N", when cut
    more: str | None  # the sentence before the link to the rest, when cut
    footer: tuple[tuple[str, str | None], ...]  # the signature: (text, URL or None)


def render(
    issue: Issue, shown: Issue, settings: Newsletter, frame: Frame, *, archive_root: Path | None = None
) -> str:
    """The HTML part's text: `shown` (the articles the email holds) of `issue`, as the
    edition `settings` prints it, inlined and made mail-safe."""
    page = mail_safe(inliner().inline(document(issue, shown, settings, frame, archive_root=archive_root)))
    return page.rstrip("\n") + "\n"


def document(
    issue: Issue, shown: Issue, settings: Newsletter, frame: Frame, *, archive_root: Path | None = None
) -> str:
    """The template's output, before inlining (its stylesheet in a `<style>` element)."""
    from ..site.render import environment, fragment_context

    context = fragment_context(shown, settings)
    view = context["issue"]
    if shown is not issue:  # the header counts the issue, not the cut
        view.summary = fragment_context(issue, settings)["issue"].summary
    if frame.in_the_email:
        view.summary += f" · {frame.in_the_email}"
    language = settings.language or "zh-CN"
    context["mail"] = {
        "subject": frame.subject,
        "lang": language,
        "hant": bool(_HANT.match(language)),
        "preheader": preheader(shown, settings),
        "web_page": frame.web_page,
        "proof": frame.proof,
        "more": frame.more,
        "footer": frame.footer,
    }
    return environment(archive_root).get_template(TEMPLATE).render(context)


def preheader(issue: Issue, settings: Newsletter) -> str:
    """The preview text: the first titles, ` · ` between them, at most PREHEADER_CHARS."""
    titles = [one_line(a.title) for _, group in issue.by_section(settings.sections) for a in group]
    text = " · ".join(t for t in titles[:PREHEADER_TITLES] if t) or issue_title(issue, settings)
    return text if len(text) <= PREHEADER_CHARS else text[: PREHEADER_CHARS - 1] + "…"


_INLINER: css_inline.CSSInliner | None = None


def inliner() -> css_inline.CSSInliner:
    """css-inline, configured to load nothing: no remote stylesheets, no `<link>` kept."""
    global _INLINER
    if _INLINER is None:
        import css_inline

        _INLINER = css_inline.CSSInliner(
            inline_style_tags=True,
            keep_style_tags=False,
            keep_link_tags=False,
            keep_at_rules=False,
            load_remote_stylesheets=False,
            minify_css=True,
        )
    return _INLINER


# --------------------------------------------------------------------------- mail-safe markup


class _MailSafe(HTMLParser):
    """Re-writes inlined HTML token by token (see the module docstring). The input is the
    inliner's serialisation of our own template's output: well formed, text escaped."""

    def __init__(self, targets: set[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.targets = targets
        self.out: list[str] = []

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], close: str) -> None:
        kept = []
        anchor = None
        for name, value in attrs:
            if name == "id" and value in self.targets:
                anchor = value
            if name in DROPPED:
                continue
            kept.append(name if value is None else f'{name}="{_attribute(value)}"')
        self.out.append(f"<{' '.join([RENAMED.get(tag, tag), *kept])}{close}>")
        if anchor is not None:
            self.out.append(f'<a id="{_attribute(anchor)}" name="{_attribute(anchor)}"></a>')

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, "")

    def handle_endtag(self, tag: str) -> None:
        self.out.append(f"</{RENAMED.get(tag, tag)}>")

    def handle_data(self, data: str) -> None:
        self.out.append(html.escape(data, quote=False))

    def handle_comment(self, data: str) -> None:
        self.out.append(f"<!--{data}-->")  # Outlook's conditional comments, from the template

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")


class _Targets(HTMLParser):
    """The ids that in-page links (`href="#id"`) point at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "href" and value and value.startswith("#") and len(value) > 1:
                self.found.add(value[1:])


def _attribute(value: str) -> str:
    """An attribute value for double quotes (a font name's single quotes stay as they are)."""
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def mail_safe(page: str) -> str:
    """`page` with the elements and attributes mail clients mangle rewritten."""
    targets = _Targets()
    targets.feed(page)
    targets.close()
    safe = _MailSafe(targets.found)
    safe.feed(page)
    safe.close()
    return "".join(safe.out)
