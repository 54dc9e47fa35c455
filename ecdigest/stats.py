"""The archive's figures: articles per month, per section over the years, the top sources.

One computation for `ecdigest stats` (terminal bars, JSON) and the site's stats page
(charts): both ask `compute()` over the catalog (no issue file is parsed). Only published
issues count; an article counts in its issue's month (the issue's date).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .archive import Archive
    from .site.corpus import IssueInfo

TOP_SOURCES = 20


@dataclass
class Stats:
    issues: int = 0
    articles: int = 0
    first: dt.date | None = None
    last: dt.date | None = None
    months: dict[str, int] = field(default_factory=dict)  # "2023-06" -> articles, every month in range
    sections: list[str] = field(default_factory=list)
    years: dict[str, dict[str, int]] = field(default_factory=dict)  # "2023" -> section -> articles
    sources: list[tuple[str, int]] = field(default_factory=list)  # top sources, most first

    def to_dict(self) -> dict[str, object]:
        return {
            "issues": self.issues,
            "articles": self.articles,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "per_month": self.months,
            "per_section_per_year": self.years,
            "sections": self.sections,
            "top_sources": [{"source": s, "articles": n} for s, n in self.sources],
        }


def compute(
    issues: Iterable[IssueInfo],
    section_order: Sequence[str],
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    sections: Sequence[str] = (),
    top: int = TOP_SOURCES,
) -> Stats:
    """Figures over the published `issues` dated within [since, until], counting only the
    articles of `sections` when given."""
    from .export.common import one_line
    from .site.names import key

    stats = Stats()
    months: Counter[str] = Counter()
    years: dict[str, Counter[str]] = {}
    sources: Counter[str] = Counter()
    spelled: dict[str, Counter[str]] = {}
    seen_sections: dict[str, None] = {}
    wanted = set(sections)
    names: dict[str, tuple[str, str]] = {}  # source as stored -> (as shown, key)
    for info in issues:
        if info.is_draft or info.date is None:
            continue
        if (since and info.date < since) or (until and info.date > until):
            continue
        chosen = [a for a in info.articles if not wanted or a.section in wanted]
        if not chosen and wanted:
            continue
        stats.issues += 1
        stats.first = info.date if stats.first is None else min(stats.first, info.date)
        stats.last = info.date if stats.last is None else max(stats.last, info.date)
        month = f"{info.date.year:04d}-{info.date.month:02d}"
        year = f"{info.date.year:04d}"
        months[month] += len(chosen)
        per_year = years.setdefault(year, Counter())
        for article in chosen:
            stats.articles += 1
            section = one_line(article.section) or "—"
            seen_sections.setdefault(section, None)
            per_year[section] += 1
            found = names.get(article.source)
            if found is None:
                shown = one_line(article.source)
                found = names[article.source] = (shown, key(shown) if shown else "")
            source, name = found
            if source:
                sources[name] += 1
                spelled.setdefault(name, Counter())[source] += 1
    if stats.first and stats.last:
        at_year, at_month = stats.first.year, stats.first.month
        while (at_year, at_month) <= (stats.last.year, stats.last.month):
            label = f"{at_year:04d}-{at_month:02d}"
            stats.months[label] = months.get(label, 0)
            at_month += 1
            if at_month == 13:
                at_year, at_month = at_year + 1, 1
    order = [s for s in section_order if s in seen_sections] + [
        s for s in seen_sections if s not in section_order
    ]
    stats.sections = order
    stats.years = {y: {s: years[y].get(s, 0) for s in order} for y in sorted(years)}
    ranked = sorted(sources.items(), key=lambda item: (-item[1], item[0]))[:top]
    # A source's most frequent spelling names it (《人民日报》 over a stray “人民日报”).
    stats.sources = [(sorted(spelled[k].items(), key=lambda i: (-i[1], i[0]))[0][0], n) for k, n in ranked]
    return stats


def archive_stats(
    archive: Archive,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    sections: Sequence[str] = (),
    top: int = TOP_SOURCES,
) -> Stats:
    from .site.corpus import load

    corpus = load(archive)
    return compute(
        corpus.issues, archive.settings.sections, since=since, until=until, sections=sections, top=top
    )
