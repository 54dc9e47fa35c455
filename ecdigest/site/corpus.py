"""What the site shows, from the catalog: every issue and article without their bodies.

The index, year, section, source and tag pages, the stats, the feeds' choice of issues and
the build's plan of which pages changed all need a little from every issue; the catalog
(catalog.py) keeps exactly that, so a build reads only the issue files whose pages it
renders. `Corpus` is one consistent snapshot of it (one read transaction), restricted to
what the site publishes (published issues; drafts too in `serve`'s preview). A build after
an edit loads the issues alone (`articles=False`: ids, titles, dates, digests, articles
per section) and asks for the articles of the few issues and names it renders
(`articles_of`, `with_value`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from ..archive import Archive
    from ..errors import InputError


LOAD_FILES = 256  # issue files whose articles are read from the catalog in one query


@dataclass(frozen=True, slots=True)
class ArticleInfo:
    id: str
    section: str
    title: str
    source: str
    date: dt.date | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class IssueInfo:
    id: str
    title: str
    date: dt.date | None
    status: str
    path: Path
    digest: str
    articles: tuple[ArticleInfo, ...]  # empty when not loaded (see `count`)
    sections: tuple[tuple[str, int], ...] = ()  # articles per section, in order of appearance
    count: int = 0  # articles

    @property
    def is_draft(self) -> bool:
        return self.status != "published"

    @property
    def year(self) -> int | None:
        return self.date.year if self.date else None


@dataclass
class Corpus:
    """The issues the site shows, oldest first (by date, then id), and what blocks a build."""

    issues: list[IssueInfo]
    # Files whose issue cannot be read strictly and might be published (status unknown, or
    # published): they stop `build`, as they always have.
    broken: list[InputError] = field(default_factory=list)
    # Every published issue file's digest by path (for the manifest: what to re-validate).
    digests: dict[str, str] = field(default_factory=dict)

    def by_id(self) -> dict[str, IssueInfo]:
        return {issue.id: issue for issue in self.issues}


def load(archive: Archive, *, drafts: bool = False, articles: bool = True) -> Corpus:
    """The catalog's snapshot of the issues the site shows (`drafts`: preview with drafts;
    `articles=False`: the issues alone)."""
    issues: list[IssueInfo] = []
    broken: list[InputError] = []
    digests: dict[str, str] = {}
    shared: dict[Any, Any] = {}  # one object per distinct section, source, date, tags
    with archive.catalog() as catalog:
        shown = []
        for entry in catalog.issues():
            if entry.error is not None and (not entry.readable or entry.is_published):
                broken.append(entry.error)
                continue
            if entry.id is None or entry.error is not None:
                continue  # a draft that does not read: the preview leaves it out
            if not (entry.is_published or drafts):
                continue
            shown.append(entry)
        # The articles asked for LOAD_FILES files at a time, in the same read transaction:
        # the catalog's rows for every article at once (and their tuples, and then these)
        # were a cold build's largest transient, ~130 MB at 3,000 issues for ~50 MB kept.
        for start in range(0, len(shown), LOAD_FILES):
            batch = shown[start : start + LOAD_FILES]
            fields = catalog.site_articles(paths=[e.path for e in batch]) if articles else {}
            for entry in batch:
                assert entry.id is not None
                digest = entry.digest or ""
                if entry.is_published:
                    digests[str(entry.path)] = digest
                issues.append(
                    IssueInfo(
                        id=entry.id,
                        title=entry.title or "",
                        date=entry.date,
                        status=entry.status or "draft",
                        path=entry.path,
                        digest=digest,
                        articles=_articles(fields.pop(entry.path, ()), shared),
                        sections=entry.sections,
                        count=entry.article_count,
                    )
                )
    issues.sort(key=lambda i: (i.date.isoformat() if i.date else "", i.id))
    return Corpus(issues, broken, digests)


def _articles(
    rows: Iterable[tuple[Any, ...]], shared: dict[Any, Any] | None = None
) -> tuple[ArticleInfo, ...]:
    """The rows as ArticleInfo; with `shared`, each distinct section, source, date and tag
    list is one object for every article that has it (the catalog makes new ones for each
    row: a whole archive's articles, 163,000 at 3,000 issues, held ~60 MB of copies)."""
    if shared is None:
        return tuple(ArticleInfo(*row) for row in rows)
    one = shared.setdefault
    return tuple(
        ArticleInfo(
            article,
            one(section, section),
            title,
            one(source, source),
            one(date, date),
            one(tags, tuple(one(tag, tag) for tag in tags)) if tags else (),
        )
        for article, section, title, source, date, tags in rows
    )


def articles_of(archive: Archive, infos: Iterable[IssueInfo]) -> list[IssueInfo]:
    """`infos` with their articles (those not loaded yet read from the catalog)."""
    from dataclasses import replace

    infos = list(infos)
    missing = [i.path for i in infos if not i.articles and i.count]
    fields: dict[Path, list[tuple[Any, ...]]] = {}
    if missing:
        with archive.catalog() as catalog:
            fields = catalog.site_articles(paths=missing)
    return [replace(i, articles=_articles(fields[i.path])) if i.path in fields else i for i in infos]


def with_value(archive: Archive, kind: str, values: Iterable[str]) -> dict[Path, tuple[ArticleInfo, ...]]:
    """The articles whose section, source or tag (`kind`) is one of `values`, by file."""
    with archive.catalog() as catalog:
        fields = catalog.site_articles(field=kind, values=values)
    return {path: _articles(rows) for path, rows in fields.items()}


def all_values(archive: Archive, kind: str) -> list[str]:
    """Every value of a section, source or tag in the archive (drafts' too)."""
    with archive.catalog() as catalog:
        return catalog.values(kind)


def value_counts(archive: Archive, kind: str, *, drafts: bool) -> dict[str, int]:
    """Articles per value of `kind` over the issues the site shows."""
    with archive.catalog() as catalog:
        return catalog.value_counts(kind, drafts=drafts)
