"""What `show` prints besides a whole issue: one article, the contents (`--toc`), a section.

Articles are numbered as `show` numbers them in the whole issue (by section, in the
configured order, then file order), so `3.` is the same article in every view. Text and
JSON are pure functions of the issue and the settings; the CLI decides where they go.
"""

from __future__ import annotations

from .counting import count_article, count_issue
from .errors import UsageError
from .export.text import head_lines, render_article
from .model import Article, Issue, Newsletter

TYPE_CHECKING = False  # not `typing`'s: show never imports typing
if TYPE_CHECKING:
    from typing import Any

    from .archive import Archive
    from .catalog import Catalog


def printed_order(issue: Issue, settings: Newsletter) -> list[tuple[int, str, Article]]:
    """(number, section, article) in the order `show` and the exports print them."""
    found = []
    number = 0
    for section, articles in issue.by_section(settings.sections):
        for article in articles:
            number += 1
            found.append((number, section, article))
    return found


def check_section(issue: Issue, settings: Newsletter, section: str) -> str:
    """`section` if the issue has it or the settings name it, else a UsageError listing them."""
    known = list(dict.fromkeys([*settings.sections, *(a.section for a in issue.articles)]))
    if section not in known:
        raise UsageError(f"unknown section {section!r}", hint=f"choose one of: {', '.join(known)}")
    return section


def toc_text(issue: Issue, settings: Newsletter, *, section: str | None = None) -> str:
    """The contents: each section with its article count, then `N. ID  title` lines."""
    lines = head_lines(issue)
    rows = printed_order(issue, settings)
    for name in dict.fromkeys(s for _, s, _ in rows):
        if section is not None and name != section:
            continue
        group = [(n, a) for n, s, a in rows if s == name]
        lines += ["", f"【{name or '(no section)'}】 {len(group)} article{'s' if len(group) != 1 else ''}"]
        width = len(str(rows[-1][0]))
        lines += [f"{n:>{width}}. {a.id}  {' '.join(a.title.split()) or '(untitled)'}" for n, a in group]
    if not rows:
        lines += ["", "(no articles yet: add one with `ecdigest add`)"]
    elif section is not None and all(s != section for _, s, _ in rows):
        lines += ["", f"(no articles in {section})"]
    return "\n".join(lines) + "\n"


def section_text(issue: Issue, settings: Newsletter, section: str, *, width: int) -> str:
    """One section of the issue as `show` prints the whole issue (same numbers)."""
    lines = head_lines(issue)
    rows = [(n, a) for n, s, a in printed_order(issue, settings) if s == section]
    lines += ["", f"【{section}】"]
    for number, article in rows:
        lines.append("")
        lines += render_article(article, width, number=f"{number}. ")
    if not rows:
        lines += ["", f"(no articles in {section})"]
    return "\n".join(lines) + "\n"


def article_text(issue: Issue, article: Article, settings: Newsletter, *, width: int) -> str:
    """One article, under a line naming its issue, section and place."""
    number = next(n for n, _, a in printed_order(issue, settings) if a is article)
    head = f"{issue.id} · {article.section or '(no section)'} · {number} of {len(issue.articles)}"
    head += f" · {issue.title}" if issue.title else ""
    return "\n".join([head, "", *render_article(article, width)]) + "\n"


def _words(article: Article) -> dict[str, int]:
    count = count_article(article)
    return {"words": count.words, "reading_minutes": count.minutes}


def article_json(issue: Issue, article: Article) -> dict[str, Any]:
    from .export.jsonout import article_dict

    return {"issue": issue.id, **article_dict(article), **_words(article)}


def toc_json(issue: Issue, settings: Newsletter, *, section: str | None = None) -> dict[str, Any]:
    count = count_issue(issue)
    return {
        "id": issue.id,
        "title": issue.title,
        "date": issue.date.isoformat() if issue.date else None,
        "status": issue.status,
        "words": count.words,
        "reading_minutes": count.minutes,
        "articles": [
            {"number": n, "id": a.id, "section": s, "title": a.title, **_words(a)}
            for n, s, a in printed_order(issue, settings)
            if section is None or s == section
        ],
    }


def section_json(issue: Issue, settings: Newsletter, section: str) -> dict[str, Any]:
    from .export.jsonout import issue_dict

    value = issue_dict(issue)
    rows = [(n, a) for n, s, a in printed_order(issue, settings) if s == section]
    value["articles"] = [{"number": n, **article_json(issue, a)} for n, a in rows]
    for entry in value["articles"]:
        del entry["issue"]
    return value


# --------------------------------------------------------------------------- show, both ways in


def show(
    archive: Archive,
    target: str | None,
    *,
    toc: bool = False,
    section: str | None = None,
    json: bool = False,
    width: int | None = None,
    catalog: Catalog | None = None,
) -> str:
    """What `ecdigest show` prints, from the Typer command and the launcher's fast path
    alike: the newest issue or TARGET (an issue id, else an article id), whole, as its
    contents (`toc`), one `section`, or one article; text wrapped at `width` (default:
    the terminal's, at most 100, else 80), or JSON. `catalog`: one the caller holds open
    (archive.StaleCatalog when the file changed since its answer)."""
    from .terminal import default_width, printable

    if target is None:
        item, index = archive.latest(catalog=catalog), None
    else:
        # editing.find_target, with editing.py imported only for an article's id.
        from .errors import NotFoundError

        try:
            item, index = archive.get(target, catalog=catalog), None
        except NotFoundError as not_issue:
            from .editing import find_article

            item, index = find_article(archive, target, not_issue)
    issue, settings = item.issue, archive.settings
    if width is None:
        width = default_width()
    if index is not None:
        if toc or section is not None:
            raise UsageError(f"{target} is an article; --toc and --section show an issue")
        article = issue.articles[index]
        if json:
            return _dumps(article_json(issue, article))
        return printable(article_text(issue, article, settings, width=width))
    if section is not None:
        check_section(issue, settings, section)
    if toc:
        return (
            _dumps(toc_json(issue, settings, section=section))
            if json
            else printable(toc_text(issue, settings, section=section))
        )
    if section is not None:
        return (
            _dumps(section_json(issue, settings, section))
            if json
            else printable(section_text(issue, settings, section, width=width))
        )
    if json:
        from .export.text import show_json

        return _dumps(show_json(issue))
    from .export import text

    return printable(text.render([issue], settings, width=width))


def _dumps(value: object) -> str:
    from .export.jsonout import dumps

    return dumps(value)
