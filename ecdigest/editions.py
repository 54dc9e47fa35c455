"""An issue and the settings as one edition renders them: the one conversion every
exporter (and the web archive) goes through.

`for_edition(issues, settings, script)` returns converted copies; the archive's own
objects are never touched. What is converted is text a reader reads: issue and article
titles, sections, sources, `compiled_by`, tags, bodies, and the newsletter's title,
editor, description, sections and the display name of `[email] from`. Never converted:
ids, dates, status, URLs, email addresses.

The edition's settings also say where it lives, so a feed or email of an edition points
at the edition's own pages and never at the original's:
- URLs get the edition's name as a folder before their last segment
  (`https://example.org/ecd/feed.xml` -> `https://example.org/ecd/zh-Hant-TW/feed.xml`,
  `link` -> `https://example.org/ecd/zh-Hant-TW/`); the web archive puts an edition's
  pages there;
- `language` is the edition's (`zh-TW`, `zh-HK`);
- `edition` is set, which gives its feed its own GUIDs (export/common.py): a reader
  subscribed to the original and to an edition gets two distinct items per article.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

from .model import Issue, Newsletter
from .zhconv import SOURCE_SCRIPT, converter, get_edition


def convert_issue(issue: Issue, convert: Callable[[str], str]) -> Issue:
    """A copy of `issue` with every text field a reader reads passed through `convert`."""
    articles = tuple(
        replace(
            article,
            section=convert(article.section),
            title=convert(article.title),
            source=convert(article.source),
            compiled_by=None if article.compiled_by is None else convert(article.compiled_by),
            tags=tuple(convert(tag) for tag in article.tags),
            body=convert(article.body),
        )
        for article in issue.articles
    )
    return replace(issue, title=convert(issue.title), articles=articles)


def edition_url(url: str, edition: str) -> str:
    """`url` with `edition/` inserted before its last path segment (an `issue_url`
    template with `{link}` is left alone: `link` itself moves)."""
    if not url or "{link}" in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    head, _, last = (parts.path or "/").rpartition("/")
    return urlunsplit(parts._replace(path=f"{head}/{edition}/{last}"))


def _display_name(address: str, convert: Callable[[str], str]) -> str:
    """`Name <addr>` with Name converted; the address part as it is."""
    name, sep, rest = address.partition("<")
    return convert(name) + sep + rest if sep else address


def convert_settings(settings: Newsletter, edition: str, convert: Callable[[str], str]) -> Newsletter:
    info = get_edition(edition)
    return replace(
        settings,
        title=convert(settings.title),
        editor=convert(settings.editor),
        description=convert(settings.description),
        sections=tuple(convert(s) for s in settings.sections),
        email_from=_display_name(settings.email_from, convert),
        link=edition_url(settings.link, edition),
        feed_url=edition_url(settings.feed_url, edition),
        atom_url=edition_url(settings.atom_url, edition),
        issue_url=edition_url(settings.issue_url, edition),
        language=info.language,
        edition=edition,
    )


def for_edition(
    issues: Sequence[Issue], settings: Newsletter, script: str | None
) -> tuple[list[Issue], Newsletter]:
    """The issues and settings as the edition `script` renders them (`None` or
    `zh-Hans`: the archive's own, unchanged). UsageError for an unknown edition."""
    if script in (None, SOURCE_SCRIPT):
        return list(issues), settings
    assert script is not None
    convert = converter(script, settings.protected_terms).convert
    return [convert_issue(i, convert) for i in issues], convert_settings(settings, script, convert)


def label(settings: Newsletter, text: str) -> str:
    """A fixed piece of an exporter's own text (目录, 来源：, 参考资料) in the settings'
    edition; as it is for the archive's own."""
    if not settings.edition:
        return text
    return converter(settings.edition, settings.protected_terms).convert(text)
