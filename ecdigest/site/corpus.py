"""What the site shows, from the catalog: every issue and article without their bodies.

The index, year, section, source and tag pages, the stats, the feeds' choice of issues and
the build's plan of which pages changed all need a little from every issue; the catalog
(catalog.py) keeps exactly that, so a build reads only the issue files whose pages it
renders. `Corpus` is one consistent snapshot of it (one read transaction), restricted to
what the site publishes (published issues; drafts too in `serve`'s preview).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..archive import Archive
    from ..errors import InputError


@dataclass(frozen=True)
class ArticleInfo:
    id: str
    section: str
    title: str
    source: str
    compiled_by: str | None
    date: dt.date | None
    url: str | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class IssueInfo:
    id: str
    title: str
    date: dt.date | None
    status: str
    path: Path
    digest: str
    articles: tuple[ArticleInfo, ...]

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
    `articles=False`: the issues alone, what a no-change check needs)."""
    with archive.catalog() as catalog:
        entries = catalog.issues()
        fields = catalog.article_fields() if articles else {}
    by_path: dict[Path, list[ArticleInfo]] = {
        path: [
            ArticleInfo(
                id=row[0],
                section=row[1],
                title=row[2],
                source=row[3],
                compiled_by=row[4],
                date=row[5],
                url=row[6],
                tags=row[7],
            )
            for row in rows
        ]
        for path, rows in fields.items()
    }
    issues: list[IssueInfo] = []
    broken: list[InputError] = []
    digests: dict[str, str] = {}
    for entry in entries:
        if entry.error is not None and (not entry.readable or entry.is_published):
            broken.append(entry.error)
            continue
        if entry.id is None or entry.error is not None:
            continue  # a draft that does not read: the preview leaves it out
        if not (entry.is_published or drafts):
            continue
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
                articles=tuple(by_path.get(entry.path, ())),
            )
        )
    issues.sort(key=lambda i: (i.date.isoformat() if i.date else "", i.id))
    return Corpus(issues, broken, digests)
