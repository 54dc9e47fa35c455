"""JSON: the stable machine interface (schema in DESIGN.md)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..lazyre import lazy
from ..model import Article, Issue, Newsletter

NAME = "json"
EXTENSION = ".json"
MEDIA_TYPE = "application/json"


def article_dict(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "section": article.section,
        "title": article.title,
        "source": article.source,
        "compiled_by": article.compiled_by,
        "date": article.date.isoformat() if article.date else None,
        "url": article.url,
        "tags": list(article.tags),
        "paragraphs": list(article.paragraphs),
    }


def issue_dict(issue: Issue) -> dict[str, Any]:
    return {
        "id": issue.id,
        "title": issue.title,
        "date": issue.date.isoformat() if issue.date else None,
        "status": issue.status,
        "articles": [article_dict(a) for a in issue.articles],
    }


# json.dumps escapes C0 controls but leaves DEL and the C1 controls (U+0080..U+009F, CSI
# among them) raw: escaped here too, so JSON on a terminal cannot drive it. The parsed
# value is the same.
_C1 = {code: f"\\u{code:04x}" for code in range(0x7F, 0xA0)}
# translate() with a table is ~50 ns a character once the text holds any Chinese (a
# build's `-f json`, 61,000 names at 1,000 issues: ~90 ms); searching for the characters
# it replaces is ~100 times faster, and they are rarely there.
_C1_CHARS = lazy("[\x7f-\x9f]")


def dumps(value: object) -> str:
    """Pretty, UTF-8 (never \\u escapes for Chinese), newline-terminated."""
    text = json.dumps(value, ensure_ascii=False, indent=2)
    if _C1_CHARS.search(text) is not None:
        text = text.translate(_C1)
    return text + "\n"


def render(issues: Sequence[Issue], settings: Newsletter, *, as_list: bool = False) -> str:
    """One issue as an object, or (`as_list`) every issue as an array."""
    if as_list:
        return dumps([issue_dict(i) for i in issues])
    (issue,) = issues
    return dumps(issue_dict(issue))
