"""WeChat Official Account (公众号) edition: one HTML document whose body pastes into the
公众号 editor intact.

The body is one `<section>` holding the issue (or, `article=`, one article): title and
date, the contents by section (plain text: in-article anchors do not work in WeChat),
then each article with its attribution line, and a 参考资料 list at the end. WeChat opens
no outside link in an article, so every article url becomes a numbered reference
`[n]` after the attribution line and a line `[n] 标题：URL` in 参考资料 (one number per
distinct URL, in order of appearance); links to WeChat articles themselves
(mp.weixin.qq.com) stay clickable there. URLs are printed cleaned (urls.clean_url).

Everything is built from the tags and inline `style` declarations in `EDITOR_TAGS` and
`EDITOR_CSS` below, the subset the editor keeps; `editor_findings(document)` checks a
document against them (the tests run it over the shipped issue and the hostile corpus).
All text is HTML-escaped: no markup from an article ever reaches the document.

Where the allow-list comes from (read from the projects, not guessed):
- The 公众号 editor is built on Baidu's UEditor (mdnice's "和微信公众号编辑器战斗的日子",
  product.mdnice.com/article/intro/battle-with-wechat/); UEditor's paste filter is a
  tag -> attributes white list (`whitList` in ueditor.config.js, fex-team/ueditor, taken
  from leizongmin/js-xss): every tag below is in it. WeChat keeps `style` on `section`,
  which UEditor's default list does not: doocs/md and mdnice both render on `section`
  with inline styles (doocs/md packages/core/src/renderer/renderer-impl.ts).
- No `<style>`, no classes: doocs/md and mdnice inline every rule into `style`
  attributes with juice before copying (doocs/md apps/web/src/services/export/clipboard.ts,
  mdnice src/utils/converter.js `solveHtml`). No ids, no `defs`, no `href` to `#…`:
  doocs/md drops `href` from in-page links before copying, and its WeChat SVG notes say
  the editor strips `id`/`class`/`defs` (.agents/skills/wechat-svg/SKILL.md).
- Links: "微信公众号仅支持公众号文章链接，即域名为 https://mp.weixin.qq.com/ 的合法链接"
  (mdnice src/template/content.md); doocs/md keeps `<a href>` only for mp.weixin.qq.com
  and turns other links into numbered footnotes (renderer-impl.ts `link`).
- Positioning is dropped (doocs/md rewrites `top:` into a transform before copying), and
  lists lose their markers or nesting (ufologist/wechat-mp-article#2, mdx-notes#64):
  this document numbers its items in the text and uses no `ul`/`ol`, no positioning.
- No external fonts or images: nothing here loads anything (no `url(`, no `<img>`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from html.parser import HTMLParser
from urllib.parse import urlsplit

from ..dates import format_cn
from ..errors import NotFoundError
from ..model import Article, Issue, Newsletter
from ..urls import clean_url
from .common import attribution, issue_title, label, one_line, paragraphs, title_of, web_url

NAME = "wechat"
EXTENSION = ".html"
MEDIA_TYPE = "text/html; charset=utf-8"

# The pasted part: tag -> attributes the editor keeps (sources in the module docstring).
EDITOR_TAGS: dict[str, frozenset[str]] = {
    "section": frozenset({"style"}),
    "p": frozenset({"style"}),
    "span": frozenset({"style"}),
    "strong": frozenset({"style"}),
    "em": frozenset({"style"}),
    "sup": frozenset({"style"}),
    "br": frozenset(),
    "a": frozenset({"href", "style"}),  # href only to LINK_HOSTS
}
# CSS properties in `style` that the editor keeps and doocs/md's and mdnice's themes use.
EDITOR_CSS: frozenset[str] = frozenset(
    {
        "margin", "margin-top", "margin-bottom", "padding", "padding-left",
        "font-size", "font-weight", "line-height", "letter-spacing", "color",
        "background-color", "text-align", "border-left", "border-radius", "word-break",
    }
)  # fmt: skip
LINK_HOSTS: frozenset[str] = frozenset({"mp.weixin.qq.com"})
# The file around the pasted part: what a browser shows and copies nothing of.
DOCUMENT_TAGS: dict[str, frozenset[str]] = {
    "html": frozenset({"lang"}),
    "head": frozenset(),
    "meta": frozenset({"charset"}),
    "title": frozenset(),
    "body": frozenset(),
}
_CSS_VALUE = re.compile(r"^[#a-z0-9 .%-]+$")

ACCENT = "#b5302a"
LINK_COLOR = "#576b95"  # WeChat's own link blue
STYLE = {
    "wrap": "margin: 0; padding: 0 8px; font-size: 16px; line-height: 1.75; color: #333333; "
    "letter-spacing: 0.5px; text-align: left",
    "title": "margin: 24px 0 8px; font-size: 22px; font-weight: bold; line-height: 1.4; "
    "color: #1a1a1a; text-align: center",
    "meta": "margin: 0 0 24px; font-size: 14px; color: #888888; text-align: center",
    "h2": f"margin: 32px 0 16px; padding-left: 10px; border-left: 4px solid {ACCENT}; "
    "font-size: 18px; font-weight: bold; line-height: 1.5; color: #1a1a1a",
    "toc-section": f"margin: 12px 0 4px; font-size: 15px; font-weight: bold; color: {ACCENT}",
    "toc-item": "margin: 0 0 4px; font-size: 15px; line-height: 1.6; color: #333333",
    "article": "margin: 28px 0 12px; font-size: 17px; font-weight: bold; line-height: 1.5; color: #1a1a1a",
    "p": "margin: 0 0 12px; font-size: 16px; line-height: 1.75; color: #333333; text-align: justify",
    "attribution": "margin: 0 0 16px; font-size: 14px; line-height: 1.6; color: #888888",
    "mark": f"font-size: 12px; color: {ACCENT}",
    "ref": "margin: 0 0 8px; font-size: 13px; line-height: 1.6; color: #666666; word-break: break-all",
    "link": f"color: {LINK_COLOR}",
}


def _text(value: str) -> str:
    return html.escape(value, quote=False)


def _p(style: str, inner: str) -> str:
    return f'<p style="{STYLE[style]}">{inner}</p>'


def _is_wechat_link(url: str) -> bool:
    try:
        return (urlsplit(url).hostname or "").lower() in LINK_HOSTS
    except ValueError:
        return False


class _References:
    """Numbered references, one number per distinct URL, in order of first appearance."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, str, str, str]] = []  # number, title, URI, as shown
        self._numbers: dict[str, int] = {}

    def mark(self, url: str, shown: str, title: str) -> int:
        if url not in self._numbers:
            self._numbers[url] = len(self.entries) + 1
            self.entries.append((self._numbers[url], title, url, shown))
        return self._numbers[url]

    def html(self, settings: Newsletter) -> list[str]:
        if not self.entries:
            return []
        parts = [_p("h2", _text(label(settings, "参考资料")))]
        for number, title, url, text in self.entries:
            shown = _text(text)
            if _is_wechat_link(url):
                shown = f'<a href="{html.escape(url)}" style="{STYLE["link"]}">{shown}</a>'
            parts.append(_p("ref", f"[{number}] {_text(title)}：{shown}"))
        return parts


def _article(
    article: Article, settings: Newsletter, refs: _References, *, number: int | None, style: str = "article"
) -> list[str]:
    prefix = f"{number}. " if number is not None else ""
    title = title_of(article)
    parts = [_p(style, f"<strong>{_text(prefix + title)}</strong>")]
    parts += [_p("p", _text(text)) for text in paragraphs(article)]
    line = _text(attribution(article, settings))
    url = web_url(article.url)
    if url and article.url:
        # A reader reads the reference: the cleaned IRI (新闻, not %E6%96%B0%E9%97%BB);
        # the href of a WeChat link is the URI.
        shown = clean_url(one_line(article.url))
        line += f' <sup style="{STYLE["mark"]}">[{refs.mark(url, shown, title)}]</sup>'
    parts.append(_p("attribution", line))
    return parts


def _section_name(name: str, settings: Newsletter) -> str:
    return one_line(name) or label(settings, "未分类")


def fragment(issue: Issue, settings: Newsletter, *, article: str | None = None) -> str:
    """The part that is pasted: one `<section>` with the issue, or one of its articles."""
    refs = _References()
    parts: list[str] = []
    if article is not None:
        chosen = next((a for a in issue.articles if a.id == article), None)
        if chosen is None:
            raise NotFoundError(
                f"no article {article} in issue {issue.id}", hint=f"see `ecdigest show {issue.id}`"
            )
        parts += _article(chosen, settings, refs, number=None, style="title")
    else:
        groups = list(issue.by_section(settings.sections))
        meta = [format_cn(issue.date)] if issue.date else []
        meta.append(f"共 {len(issue.articles)} 篇")
        parts += [_p("title", _text(issue_title(issue, settings))), _p("meta", _text(" · ".join(meta)))]
        if groups:
            parts.append(_p("h2", _text(label(settings, "目录"))))
            number = 0
            for name, articles in groups:
                parts.append(_p("toc-section", _text(f"【{_section_name(name, settings)}】")))
                for item in articles:
                    number += 1
                    parts.append(_p("toc-item", _text(f"{number}. {title_of(item)}")))
        number = 0
        for name, articles in groups:
            parts.append(_p("h2", _text(_section_name(name, settings))))
            for item in articles:
                number += 1
                parts += _article(item, settings, refs, number=number)
    parts += refs.html(settings)
    body = "\n".join(parts)
    return f'<section style="{STYLE["wrap"]}">\n{body}\n</section>'


def clipboard_html(document: str) -> str:
    """What goes on the clipboard as text/html: the body of a document `render` made,
    its encoding stated (as a browser's copy does)."""
    body = document[document.index("<body>\n") + len("<body>\n") : document.rindex("\n</body>")]
    return f'<meta charset="utf-8">{body}'


def render(issues: Sequence[Issue], settings: Newsletter, *, article: str | None = None) -> str:
    """One issue (or one of its articles) as a complete HTML document."""
    (issue,) = issues
    body = fragment(issue, settings, article=article)
    if article is not None:
        title = next(title_of(a) for a in issue.articles if a.id == article)
    else:
        title = issue_title(issue, settings)
    language = html.escape(one_line(settings.language) or "zh-CN")
    return (
        f'<!DOCTYPE html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_text(title)}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


# --------------------------------------------------------------------------- the check


class _Findings(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.in_body = True
        allowed = EDITOR_TAGS if self.in_body and tag != "body" else DOCUMENT_TAGS
        if tag not in allowed:
            self.found.append(f"<{tag}> is not kept")
            return
        for name, value in attrs:
            if name not in allowed[tag]:
                self.found.append(f"<{tag} {name}=…> is not kept")
            elif name == "style":
                self.found += [f"<{tag} style> {problem}" for problem in css_findings(value or "")]
            elif name == "href" and not (
                re.match(r"^https?://", value or "") and _is_wechat_link(value or "")
            ):
                self.found.append(f"<a href={value!r}>: WeChat opens only mp.weixin.qq.com links")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "body":
            self.in_body = False

    def handle_comment(self, data: str) -> None:
        self.found.append("a comment")

    def handle_pi(self, data: str) -> None:
        self.found.append("a processing instruction")

    def unknown_decl(self, data: str) -> None:
        self.found.append(f"a declaration {data[:20]!r}")


def css_findings(style: str) -> list[str]:
    """What the editor would drop from one `style` attribute."""
    found = []
    for declaration in filter(None, (d.strip() for d in style.split(";"))):
        prop, sep, value = declaration.partition(":")
        prop, value = prop.strip().lower(), value.strip().lower()
        if not sep or prop not in EDITOR_CSS:
            found.append(f"property {prop!r} is not kept")
        elif not _CSS_VALUE.match(value) or "url" in value or "expression" in value:
            found.append(f"value {value!r} of {prop} is not a plain length, colour or keyword")
    return found


def editor_findings(document: str) -> list[str]:
    """Everything in `document` that the 公众号 editor would strip (empty: nothing)."""
    parser = _Findings()
    parser.feed(document)
    parser.close()
    return parser.found
