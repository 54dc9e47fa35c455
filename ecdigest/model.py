"""The data model: newsletter settings, issues and articles. Pure: no I/O, no printing."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator

# `dataclasses` costs ~7 ms of start-up: records.py makes the same classes without it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from dataclasses import dataclass as record
else:
    from .records import record

DEFAULT_SECTIONS: tuple[str, ...] = ("行业资讯", "政策法规", "数据观察", "专家视点")
DEFAULT_TITLE = "电子商务动态"
DEFAULT_EDITOR = "《电子商务动态》编辑部"
STATUSES: tuple[str, ...] = ("draft", "published")
EMAIL_FORMATS: tuple[str, ...] = ("flowed", "fixed")
SMTP_SECURITY: tuple[str, ...] = ("starttls", "ssl", "none")

# The one id rule, shared by everything that writes an id (new, add, import) and everything
# that reads one (the codec, validate, build). Matched with fullmatch: `$` would also accept
# a trailing newline (`"2023-08\n"`), which then reached file names, feed GUIDs and email.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_ID_LENGTH = 100
# An issue id is the prefix of its articles' ids (`{issue id}-{NNN}`): capped so that every
# article number up to MAX_ARTICLE_NUMBER still gives an id within MAX_ID_LENGTH.
MAX_ISSUE_ID_LENGTH = 64
MAX_ARTICLE_NUMBER = 10**30 - 1
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\u3000]*\n")


def is_valid_id(value: str, *, max_length: int = MAX_ID_LENGTH) -> bool:
    """Article ids (and, with `is_valid_issue_id`, issue ids): `[A-Za-z0-9][A-Za-z0-9._-]*`,
    at most `max_length` characters, so they are safe file names too."""
    return len(value) <= max_length and ID_PATTERN.fullmatch(value) is not None


def is_valid_issue_id(value: str) -> bool:
    """Issue ids: the article id rule, at most MAX_ISSUE_ID_LENGTH characters."""
    return is_valid_id(value, max_length=MAX_ISSUE_ID_LENGTH)


ID_RULE = "letters, digits, '.', '_' and '-', starting with a letter or digit"


@record(frozen=True)
class Newsletter:
    """The archive's settings (`ecdigest.toml`)."""

    title: str = DEFAULT_TITLE
    editor: str = DEFAULT_EDITOR
    language: str = "zh-CN"
    timezone: str = "Asia/Shanghai"
    description: str = "《电子商务动态》：电子商务行业资讯、政策法规、数据观察与专家视点。"
    link: str = "https://example.org/ecd/"
    feed_url: str = "https://example.org/ecd/feed.xml"
    sections: tuple[str, ...] = DEFAULT_SECTIONS
    email_from: str = "《电子商务动态》编辑部 <editor@example.org>"
    email_to: str = "subscribers@example.org"
    max_article_age_days: int = 31
    known_sources: tuple[str, ...] = ()
    # Publishing (export/build). `issue_url` is a template: {link} and {issue} are replaced.
    issue_url: str = "{link}{issue}.html"
    # Where atom.xml is served; empty: next to feed_url.
    atom_url: str = ""
    # RSS guids / Atom ids are `tag:{tag_authority},{tag_date}:ecd/{article id}` (RFC 4151).
    # Set once before the first publication and never change: readers key items on them.
    tag_authority: str = "example.org"
    tag_date: str = "2023"
    # Traditional Chinese editions published besides the archive's own text, by name
    # (zhconv.EDITIONS: "zh-Hant-TW", "zh-Hant-HK").
    editions: tuple[str, ...] = ()
    # Names, brands, outlets the editions print as given: "TERM" or "TERM=繁體" (zhconv).
    protected_terms: tuple[str, ...] = ()
    # Not a setting: the edition these settings render ("" = the archive's own text);
    # set by editions.for_edition, read by the exporters (GUIDs, labels).
    edition: str = ""
    # Email (`export email`, `send`): "flowed" is text/plain; format=flowed; DelSp=yes
    # (RFC 3676), "fixed" the same lines without soft line breaks.
    email_format: str = "flowed"
    # List-Id (RFC 2919) `<list_id>`; empty: from the first `to` address (list@host -> list.host).
    list_id: str = ""
    # List-Unsubscribe (RFC 2369): an address (or mailto: URL) and/or an https URL; the
    # https one also gets List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058).
    unsubscribe_mailto: str = ""
    unsubscribe_url: str = ""
    # An email carries the first N articles and links to the rest on the web; 0: all.
    max_articles: int = 0
    # SMTP for `send`. The password is never a setting: $ECDIGEST_SMTP_PASSWORD or ~/.netrc.
    smtp_host: str = ""
    smtp_port: int = 0  # 0: 587 for starttls, 465 for ssl, 25 for none
    smtp_security: str = "starttls"  # starttls | ssl | none
    smtp_user: str = ""
    smtp_timeout: int = 60  # seconds, for each wait on the server
    # `[history] git = true`: every change ecdigest makes to the archive is a commit in the
    # git repository that holds it (history.py: `ecdigest log`, `ecdigest undo`). Off by default.
    history_git: bool = False


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_paragraphs(body: str) -> tuple[str, ...]:
    """Paragraphs are separated by one blank line; surrounding whitespace is not content."""
    text = normalize_newlines(body)
    return tuple(p.strip() for p in _PARAGRAPH_BREAK.split(text) if p.strip())


def join_paragraphs(paragraphs: Iterable[str]) -> str:
    return "\n\n".join(p.strip() for p in paragraphs if p.strip())


@record(frozen=True)
class Article:
    """One article. `body` is kept exactly as stored; `paragraphs` is derived from it."""

    id: str
    section: str = ""
    title: str = ""
    source: str = ""
    date: dt.date | None = None
    compiled_by: str | None = None
    url: str | None = None
    tags: tuple[str, ...] = ()
    body: str = ""

    def __post_init__(self) -> None:
        # A CR LF pair is a line ending, not content: TOML stores bodies with LF only.
        if "\r" in self.body:
            object.__setattr__(self, "body", normalize_newlines(self.body))
        object.__setattr__(self, "tags", tuple(self.tags))

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return split_paragraphs(self.body)


@record(frozen=True)
class Issue:
    id: str
    title: str = ""
    date: dt.date | None = None
    status: str = "draft"
    articles: tuple[Article, ...] = ()
    # Highest article number ever handed out in this issue, so a deleted article's id
    # (and with it its RSS guid) is never given to another article.
    last_article_number: int = 0

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    def by_section(self, sections: Iterable[str]) -> Iterator[tuple[str, list[Article]]]:
        """Articles grouped by section: configured order first, then unknown sections."""
        order = list(sections)
        for article in self.articles:
            if article.section not in order:
                order.append(article.section)
        for name in order:
            group = [a for a in self.articles if a.section == name]
            if group:
                yield name, group

    def section_counts(self, sections: Iterable[str]) -> dict[str, int]:
        return {name: len(group) for name, group in self.by_section(sections)}

    def with_article(self, article: Article, number: int) -> Issue:
        from .records import replace

        return replace(
            self,
            articles=(*self.articles, article),
            last_article_number=max(self.last_article_number, number),
        )


def article_number(issue_id: str, article_id: str) -> int | None:
    """The NNN of `{issue_id}-{NNN}`, or None when the id is not of that form."""
    prefix = f"{issue_id}-"
    if article_id.startswith(prefix) and article_id[len(prefix) :].isdigit():
        return int(article_id[len(prefix) :])
    return None


def next_article_id(issue: Issue, taken: Iterable[str] = ()) -> tuple[str, int]:
    """The next `{issue id}-{NNN}`: above every number used now or before, in any issue."""
    numbers = [issue.last_article_number]
    for article_id in (*(a.id for a in issue.articles), *taken):
        number = article_number(issue.id, article_id)
        if number is not None:
            numbers.append(number)
    number = max(numbers) + 1
    article_id = f"{issue.id}-{number:03d}"
    if number > MAX_ARTICLE_NUMBER or not is_valid_id(article_id):
        from .errors import ConflictError

        raise ConflictError(
            f"issue {issue.id!r} has no article id left: the next one would be {article_id[:60]!r}…",
            hint="start a new issue; article numbers are never reused",
        )
    return article_id, number
