"""Plain text: an issue as an editor reads it (`ecdigest show`), wrapped by display width."""

from __future__ import annotations

from collections.abc import Sequence

from ..attribution import format_line
from ..model import Article, Issue, Newsletter
from ..textwrap_cjk import wrap

NAME = "text"
EXTENSION = ".txt"
MEDIA_TYPE = "text/plain"


def attribution_of(article: Article) -> str:
    """The article's attribution line, or what is missing from it."""
    if article.date is None:
        return (
            f"来源：{article.source or '?'}"
            + (f" 编选：{article.compiled_by}" if article.compiled_by else "")
            + " (no date)"
        )
    return format_line(article.source or "?", article.date, article.compiled_by)


def render_article(article: Article, width: int, *, number: str = "") -> list[str]:
    head = f"{number}{article.title or '(untitled)'}"
    lines = wrap(head, width, subsequent_indent=" " * len(number))
    lines.append(f"{' ' * len(number)}[{article.id}]")
    for paragraph in article.paragraphs:
        lines.append("")
        lines += wrap(paragraph, width, indent="  ")
    lines.append("")
    lines += wrap(attribution_of(article), width, indent="  ")
    return lines


def render(issues: Sequence[Issue], settings: Newsletter, *, width: int = 80) -> str:
    (issue,) = issues
    width = max(width, 20)
    date = issue.date.isoformat() if issue.date else "no date"
    lines = [
        issue.title or issue.id,
        f"{issue.id} · {date} · {issue.status} · {len(issue.articles)} articles",
    ]
    number = 0
    for section, articles in issue.by_section(settings.sections):
        lines += ["", f"【{section or '(no section)'}】"]
        for article in articles:
            number += 1
            lines.append("")
            lines += render_article(article, width, number=f"{number}. ")
    if not issue.articles:
        lines += ["", "(no articles yet: add one with `ecdigest add`)"]
    return "\n".join(lines) + "\n"
