"""Plain text: an issue as an editor reads it (`ecdigest show`), wrapped by display width.

Each article shows its id, its word count and reading time (counting.py: a Chinese
character is a word), and its url as the exports print it (urls.clean_url); the issue's
header line has the totals.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..attribution import format_line
from ..counting import Count, count_article, count_issue
from ..model import Article, Issue, Newsletter
from ..textwrap_cjk import wrap
from ..urls import clean_url

NAME = "text"
EXTENSION = ".txt"
MEDIA_TYPE = "text/plain"


def attribution_of(article: Article, settings: Newsletter | None = None) -> str:
    """The article's attribution line, or what is missing from it; its labels in the
    settings' edition."""
    labels = ("来源", "编选")
    if settings is not None and settings.edition:
        from ..editions import label

        labels = (label(settings, labels[0]), label(settings, labels[1]))
    # As the web page and the email's HTML part print them (site/render.article_view): a
    # source of blanks or control characters is missing ("?"), such a compiler absent.
    source = one_line(article.source) or "?"
    compiled_by = one_line(article.compiled_by or "") or None
    if article.date is None:
        return (
            f"{labels[0]}：{source}" + (f" {labels[1]}：{compiled_by}" if compiled_by else "") + " (no date)"
        )
    return format_line(source, article.date, compiled_by, labels=labels)


def one_line(text: str) -> str:
    """common.one_line: a printable field without two spaces in a row is only trimmed (its
    own first answer), asked here without importing common (its patterns and URL quoting:
    `show` right after an edit imported it for the attribution lines alone)."""
    if text.isprintable() and "  " not in text:
        return text.strip()
    from .common import one_line as cleaned  # common's attribution() imports this module

    return cleaned(text)


def counted(count: Count) -> str:
    """`352 words · 2 min`: what `show` says about a text's length."""
    return f"{count.words:,} word{'s' if count.words != 1 else ''} · {count.minutes} min"


def render_article(
    article: Article, width: int, *, number: str = "", count: Count | None = None
) -> list[str]:
    head = f"{number}{article.title or '(untitled)'}"
    lines = wrap(head, width, subsequent_indent=" " * len(number))
    count = count_article(article) if count is None else count
    lines.append(f"{' ' * len(number)}[{article.id}] {counted(count)}")
    for paragraph in article.paragraphs:
        lines.append("")
        lines += wrap(paragraph, width, indent="  ")
    lines.append("")
    lines += wrap(attribution_of(article), width, indent="  ")
    if article.url:
        lines += wrap(f"原文：{clean_url(article.url)}", width, indent="  ")
    return lines


def head_lines(issue: Issue, total: Count | None = None) -> list[str]:
    """The issue's title, then `ID · DATE · STATUS · N articles · WORDS · MINUTES`: how
    `show` opens an issue and its contents (`total`: the issue's count, if made already)."""
    date = issue.date.isoformat() if issue.date else "no date"
    n = len(issue.articles)
    count = counted(total if total is not None else count_issue(issue))
    return [
        issue.title or issue.id,
        f"{issue.id} · {date} · {issue.status} · {n} article{'' if n == 1 else 's'} · {count}",
    ]


def render(issues: Sequence[Issue], settings: Newsletter, *, width: int = 80) -> str:
    (issue,) = issues
    width = max(width, 20)
    # Each article counted once (the total is their sum, as count_issue's).
    counts = {id(article): count_article(article) for article in issue.articles}
    lines = head_lines(issue, sum(counts.values(), Count()))
    number = 0
    for section, articles in issue.by_section(settings.sections):
        lines += ["", f"【{section or '(no section)'}】"]
        for article in articles:
            number += 1
            lines.append("")
            lines += render_article(article, width, number=f"{number}. ", count=counts[id(article)])
    if not issue.articles:
        lines += ["", "(no articles yet: add one with `ecdigest add`)"]
    return "\n".join(lines) + "\n"


def show_json(issue: Issue) -> dict[str, object]:
    """`show --format json`: the issue as `export json` gives it, with `words` and
    `reading_minutes` for the issue and each article (one definition for both of show's
    entry paths: the launcher's and the Typer command's)."""
    from .jsonout import issue_dict

    value = issue_dict(issue)
    articles: list[dict[str, object]] = value["articles"]
    for entry, count in (
        (value, count_issue(issue)),
        *zip(articles, map(count_article, issue.articles), strict=True),
    ):
        entry["words"], entry["reading_minutes"] = count.words, count.minutes
    return value
