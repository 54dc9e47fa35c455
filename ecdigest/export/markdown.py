"""Markdown (CommonMark): an issue as a page of the web archive.

Title and date, a table of contents by section linking to explicit anchors, then each
article as a heading with its paragraphs and attribution line. Anchors are `<a id>`
elements inside the headings, named after the article id (so a feed item's link
`ISSUE.html#ARTICLE-ID` lands on it) and `section-N` for sections: they do not depend
on any renderer's heading-slug rules.

Every piece of article text is escaped so that it renders literally: the characters
that can start inline markup anywhere (`\\ * _ [ ] < > & ` ~ | #`) are backslash-escaped
everywhere, and those that only matter at the start of a line (`- + = 1. 1)`, and leading
blanks that would make an indented code block) are neutralised there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..dates import format_cn
from ..model import Article, Issue, Newsletter
from .common import attribution, issue_title, label, one_line, paragraphs, section_anchors, title_of

NAME = "markdown"
EXTENSION = ".md"
MEDIA_TYPE = "text/markdown; charset=utf-8"

# ASCII punctuation that opens inline constructs (emphasis, links, code, HTML, entities,
# GFM strikethrough/tables) or closes an ATX heading: escaped wherever it appears.
_INLINE = re.compile(r"([\\`*_\[\]<>&~|#])")
# Block starts that survive inline escaping: list bullets, setext underlines, ordered
# list markers ("1." / "1)") and thematic breaks made of '-'.
_BLOCK_START = re.compile(r"^([-+=])|^(\d{1,9})([.)])")


def escape(text: str) -> str:
    """Text that renders as itself under CommonMark, on one line."""
    return escape_line(one_line(text))


def escape_line(line: str) -> str:
    """`escape` of a text that is one line already (`one_line(line) == line`: a paragraph
    from `paragraphs()`): no second pass of one_line's two regular expressions over every
    paragraph (~100,000 in a cold build's worker at 1,000 issues, each one a miss of its
    cache). tests/test_site.py holds `one_line` to answer a paragraph's text unchanged."""
    text = _INLINE.sub(r"\\\1", line)
    return _BLOCK_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", text)


def _anchor(anchor_id: str) -> str:
    return f'<a id="{anchor_id}"></a>'


def _article(article: Article, settings: Newsletter) -> list[str]:
    lines = [f"### {_anchor(article.id)}{escape(title_of(article))}", ""]
    for paragraph in paragraphs(article):
        lines += [escape_line(paragraph), ""]
    lines += [escape(attribution(article, settings)), ""]
    return lines


def render_issue(issue: Issue, settings: Newsletter) -> str:
    sections = settings.sections
    anchors = section_anchors(
        [name for name, _ in issue.by_section(sections)], (a.id for a in issue.articles)
    )
    groups = list(issue.by_section(sections))
    meta = [format_cn(issue.date)] if issue.date else []
    meta.append(f"共 {len(issue.articles)} 篇")
    lines = [f"# {escape(issue_title(issue, settings))}", "", escape(" · ".join(meta)), ""]
    if groups:
        lines += [f"## {label(settings, '目录')}", ""]
        number = 0
        for name, articles in groups:
            lines.append(f"- [{escape(one_line(name) or label(settings, '未分类'))}](#{anchors[name]})")
            lines.append("")
            for article in articles:
                number += 1
                # Continuous numbering across sections, as in the printed newsletter.
                lines.append(f"   {number}. [{escape(title_of(article))}](#{article.id})")
            lines.append("")
    for name, articles in groups:
        lines += [f"## {_anchor(anchors[name])}{escape(one_line(name) or label(settings, '未分类'))}", ""]
        for article in articles:
            lines += _article(article, settings)
    return "\n".join(lines).rstrip("\n") + "\n"


def render(issues: Sequence[Issue], settings: Newsletter) -> str:
    """One issue as a CommonMark page."""
    (issue,) = issues
    return render_issue(issue, settings)
