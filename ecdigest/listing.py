"""`ecdigest list`: the issues of an archive as rows (text) or objects (JSON).

Free of Typer, so the launcher can answer a plain `ecdigest list` off a terminal (cron,
scripts) without loading the CLI framework; the Typer command uses the same functions.
"""

from __future__ import annotations

from typing import Any

from .archive import Archive

HEADERS = ("id", "date", "status", "articles", "sections")


def issue_objects(archive: Archive) -> list[dict[str, Any]]:
    """`list --format json`: one object per issue, oldest first."""
    sections = archive.settings.sections
    return [
        {
            "id": item.issue.id,
            "title": item.issue.title,
            "date": item.issue.date.isoformat() if item.issue.date else None,
            "status": item.issue.status,
            "path": str(item.path),
            "articles": len(item.issue.articles),
            "sections": item.issue.section_counts(sections),
        }
        for item in archive.issues()
    ]


def issue_rows(archive: Archive) -> list[list[str]]:
    """`list`: one row per issue (HEADERS), oldest first."""
    sections = archive.settings.sections
    return [
        [
            item.issue.id,
            item.issue.date.isoformat() if item.issue.date else "-",
            item.issue.status,
            str(len(item.issue.articles)),
            " ".join(f"{name} {count}" for name, count in item.issue.section_counts(sections).items()),
        ]
        for item in archive.issues()
    ]


def empty_note(archive: Archive) -> str:
    return f"no issues in {archive.root} yet; create one with `ecdigest new`"
