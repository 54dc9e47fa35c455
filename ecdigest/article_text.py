"""One article as the newsletter prints it, for `ecdigest edit ARTICLE`.

The editor sees the article the way readers do (its title, its paragraphs, its attribution
line `来源：… 编选：… YYYY 年 MM 月 DD 日`), read back by the same parser as `add --from-text`
(importer.parse_article), under a short header for what the printed form does not show:

    # Edit 2023-07-002 …             ('#' lines above the header are instructions)
    section: 行业资讯
    url: https://…
    tags: 跨境电商, 海外仓

    商务部：把握跨境电商发展机遇
    …

The id is not in the text: an article keeps its id (its feed GUID) whatever is edited.
An article whose printed form would not read back exactly (a paragraph that looks like a
section header or an attribution line, say) is opened in `add --edit`'s field form
instead (operations.edit_template), which holds any text: `form_for` decides, so an edit
never changes what the editor did not touch.
"""

from __future__ import annotations

import re

from .attribution import format_line
from .errors import EcdigestError, InputError, UsageError
from .model import Article, Newsletter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .operations import ArticleDraft

HEADER_FIELDS = ("section", "url", "tags")
PRINTED = "printed"
FIELDS = "fields"


def render(article: Article, settings: Newsletter, *, where: str) -> str:
    """The printed form of `article` under its header; `where` names it in the first line."""
    lines = [
        f"# {where}: edit, save and quit.",
        "# Quit without saving, or save it unchanged, to change nothing.",
        "# Header: section, url, tags. After the first blank line, the article as printed: its",
        "# title, its paragraphs (a blank line between them) and its attribution line",
        "# 来源：《报刊》 编选：… YYYY 年 MM 月 DD 日 (without 编选：…, nobody compiled it).",
        f"# Sections: {' '.join(settings.sections)}. These '#' lines are ignored.",
        f"section: {article.section}",
        f"url: {article.url or ''}",
        f"tags: {', '.join(article.tags)}",
        "",
        article.title,
    ]
    for paragraph in article.paragraphs:
        lines += ["", paragraph]
    attribution = format_line(article.source, article.date, article.compiled_by) if article.date else ""
    lines += ["", attribution]
    return "\n".join(lines) + "\n"


def parse(text: str, settings: Newsletter, article_id: str) -> Article:
    """The article in an edited printed form; DraftInvalid lists every mistake (the editor
    loop writes them on top and reopens it), EditCancelled when the article was emptied."""
    from .editor import DraftInvalid
    from .importer import parse_article
    from .operations import ArticleDraft, EditCancelled, build_article, draft_problems

    lines = text.replace("\r\n", "\n").split("\n")
    header: dict[str, str] = {}
    problems: list[EcdigestError] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if line.startswith("#") and not header:
            continue
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep or key not in HEADER_FIELDS:
            problems.append(
                UsageError(
                    f"line {index}: expected 'field: value' in the header, got {line[:40]!r}",
                    hint=f"header fields: {', '.join(HEADER_FIELDS)}; a blank line ends the header",
                )
            )
            continue
        header[key] = value.strip()
    body_start = index
    printed = "\n".join(lines[body_start:])
    if not printed.strip():
        raise EditCancelled("the article is empty; nothing was changed")
    try:
        pasted = parse_article(printed.encode("utf-8"), sections=settings.sections, path="")
    except InputError as exc:
        where = f"line {exc.line + body_start}: " if exc.line else ""
        raise DraftInvalid([*problems, UsageError(f"{where}{exc.message}", hint=exc.hint)]) from None
    section = header.get("section", "")
    if pasted.section and section and pasted.section != section:
        problems.append(
            UsageError(
                f"the header says section {section!r}, the text 【{pasted.section}】",
                hint="keep one of them",
            )
        )
    found = pasted.attribution
    draft = ArticleDraft(
        title=pasted.title,
        section=section or pasted.section,
        source=found.source if found else None,
        compiled_by=(found.compiled_by or "") if found else None,
        date=found.date.isoformat() if found else None,
        url=header.get("url") or None,
        tags=[t.strip() for t in re.split(r"[,，、]", header.get("tags", "")) if t.strip()],
        body=pasted.body or None,
    )
    missing = draft.missing()
    if "title" in missing:
        problems.append(
            UsageError("the title is missing", hint="write it on the first line after the header")
        )
    if "section" in missing:
        problems.append(UsageError("the section is missing", hint=f"one of: {' '.join(settings.sections)}"))
    if "body" in missing:
        problems.append(UsageError("the article has no paragraphs", hint="write them below the title"))
    if found is None:
        problems.append(
            UsageError(
                "the attribution line is missing",
                hint="end the article with 来源：… YYYY 年 MM 月 DD 日 (编选：… when someone compiled it)",
            )
        )
    # draft_problems names what is missing first (said above in the editor's words).
    problems += draft_problems(draft, settings)[1 if missing else 0 :]
    if problems:
        raise DraftInvalid(problems)
    return build_article(draft, settings, article_id)


def round_trips(article: Article, settings: Newsletter) -> bool:
    """Whether the printed form of `article` reads back as the very same article."""
    try:
        return parse(render(article, settings, where=article.id), settings, article.id) == article
    except EcdigestError:
        return False


def form_for(article: Article, settings: Newsletter) -> str:
    """PRINTED when the article's printed form reads back exactly, else FIELDS."""
    return PRINTED if round_trips(article, settings) else FIELDS


def draft_of(article: Article) -> ArticleDraft:
    """The article's values as `add --edit`'s template and the field options take them
    (compiled_by "" is nobody, as `--compiled-by ''`)."""
    from .operations import ArticleDraft

    return ArticleDraft(
        title=article.title,
        section=article.section,
        source=article.source,
        compiled_by=article.compiled_by if article.compiled_by is not None else "",
        date=article.date.isoformat() if article.date else None,
        url=article.url,
        tags=list(article.tags),
        body=article.body,
    )
