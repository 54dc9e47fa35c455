"""`ecdigest list`: the issues of an archive as rows (text) or objects (JSON), from the catalog.

Free of Typer, so the launcher can answer a plain `ecdigest list` off a terminal (cron,
scripts) without loading the CLI framework; the Typer command uses the same functions.
Nothing here parses an issue file: the catalog (catalog.py) knows what `list` shows and
reads only the files changed since the last command.

A file that a strict read refuses, or a second file with an issue id already listed, is
reported in one warning line naming the file (and line) and left out; the other issues are
listed and the command exits 1 (an overview must not hide twenty years behind one file).
"""

from __future__ import annotations

from typing import Any

from .archive import Archive
from .catalog import IssueEntry

HEADERS = ("id", "date", "status", "articles", "sections")


class Listing:
    """The issues to list, oldest first, and one warning line for each file left out."""

    __slots__ = ("entries", "warnings")

    def __init__(self, entries: list[IssueEntry], warnings: list[str]) -> None:
        self.entries = entries
        self.warnings = warnings

    @property
    def exit_code(self) -> int:
        return 1 if self.warnings else 0


def read_listing(archive: Archive) -> Listing:
    from .archive import duplicate_id_error

    with archive.catalog() as catalog:
        everything = catalog.issues()
    warnings: list[str] = []
    first_file: dict[str, IssueEntry] = {}
    for entry in sorted(everything, key=lambda e: e.path.parts):
        if entry.error is not None:
            warnings.append(str(entry.error))
        elif entry.id in first_file:
            warnings.append(str(duplicate_id_error(entry.id, first_file[entry.id].path, entry.path)))
        else:
            first_file[entry.id or ""] = entry
    listed = {id(entry) for entry in first_file.values()}
    entries = [entry for entry in everything if id(entry) in listed]
    return Listing(entries, warnings)


def warning_text(listing: Listing) -> str:
    """The warnings as stderr lines: `ecdigest: warning: FILE:LINE: what is wrong (hint)`."""
    from .terminal import printable

    return "".join(f"ecdigest: warning: {printable(w, one_line=True)}\n" for w in listing.warnings)


def issue_objects(archive: Archive, listing: Listing) -> list[dict[str, Any]]:
    """`list --format json`: one object per issue, oldest first."""
    sections = archive.settings.sections
    return [
        {
            "id": entry.id,
            "title": entry.title,
            "date": entry.date.isoformat() if entry.date else None,
            "status": entry.status,
            "path": str(entry.path),
            "articles": entry.article_count,
            "sections": entry.section_counts(sections),
        }
        for entry in listing.entries
    ]


def issue_rows(archive: Archive, listing: Listing) -> list[list[str]]:
    """`list`: one row per issue (HEADERS), oldest first."""
    sections = archive.settings.sections
    return [
        [
            entry.id or "",
            entry.date.isoformat() if entry.date else "-",
            entry.status or "",
            str(entry.article_count),
            " ".join(f"{name} {count}" for name, count in entry.section_counts(sections).items()),
        ]
        for entry in listing.entries
    ]


def empty_note(archive: Archive) -> str:
    return f"no issues in {archive.root} yet; create one with `ecdigest new`"
