"""`ecdigest list`: the issues of an archive as rows (text) or objects (JSON), from the catalog.

Free of Typer, and of the modules that read issue files, so the launcher can answer a
plain `ecdigest list` off a terminal (cron, scripts) quickly; the Typer command uses the
same functions. Nothing here parses an issue file, nor even ecdigest.toml: the catalog
(catalog.py) knows what `list` shows, the configured sections included, and reads only
the files changed since the last command.

A file that a strict read refuses, or a second file with an issue id already listed, is
reported in one warning line naming the file (and line) and left out; the other issues are
listed and the command exits 1 (an overview must not hide twenty years behind one file).
"""

from __future__ import annotations

import os

from .catalog import IssueEntry, duplicate_id_error, full_path, open_catalog

# `typing` costs milliseconds to import and `list` runs through this module.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .catalog import Catalog

HEADERS = ("id", "date", "status", "articles", "sections")


class Listing:
    """The issues to list, oldest first, one warning line for each file left out, and the
    configured sections (their order orders the counts)."""

    __slots__ = ("entries", "root", "sections", "warnings")

    def __init__(
        self, root: str, entries: list[IssueEntry], warnings: list[str], sections: list[str]
    ) -> None:
        self.root = root
        self.entries = entries
        self.warnings = warnings
        self.sections = sections

    @property
    def exit_code(self) -> int:
        return 1 if self.warnings else 0


def read_listing(root: str, *, catalog: Catalog | None = None) -> Listing:
    """What `list` shows for the archive in the folder `root` (`catalog`: one already open)."""
    if catalog is not None:
        everything, sections = catalog.issues(), catalog.settings_sections()
    else:
        with open_catalog(root) as opened:
            everything, sections = opened.issues(), opened.settings_sections()
    warnings: list[str] = []
    first_file: dict[str, IssueEntry] = {}
    for entry in sorted(everything, key=lambda e: e.relative.split("/")):
        if entry.error is not None:
            warnings.append(str(entry.error))
        elif (entry.id or "") in first_file:
            first = full_path(root, first_file[entry.id or ""].relative)
            warnings.append(str(duplicate_id_error(entry.id or "", first, full_path(root, entry.relative))))
        else:
            first_file[entry.id or ""] = entry
    listed = {id(entry) for entry in first_file.values()}
    entries = [entry for entry in everything if id(entry) in listed]
    return Listing(root, entries, warnings, sections)


def warning_text(listing: Listing) -> str:
    """The warnings as stderr lines: `ecdigest: warning: FILE:LINE: what is wrong (hint)`."""
    from .terminal import printable

    return "".join(f"ecdigest: warning: {printable(w, one_line=True)}\n" for w in listing.warnings)


def issue_objects(listing: Listing) -> list[dict[str, Any]]:
    """`list --format json`: one object per issue, oldest first."""
    return [
        {
            "id": entry.id,
            "title": entry.title,
            "date": entry.date.isoformat() if entry.date else None,
            "status": entry.status,
            "path": full_path(listing.root, entry.relative),
            "articles": entry.article_count,
            "sections": entry.section_counts(listing.sections),
        }
        for entry in listing.entries
    ]


def issue_rows(listing: Listing) -> list[list[str]]:
    """`list`: one row per issue (HEADERS), oldest first."""
    return [
        [
            entry.id or "",
            entry.date.isoformat() if entry.date else "-",
            entry.status or "",
            str(entry.article_count),
            " ".join(f"{name} {count}" for name, count in entry.section_counts(listing.sections).items()),
        ]
        for entry in listing.entries
    ]


def dumps(value: object) -> str:
    """JSON as every command writes it (export.jsonout.dumps) without importing the model."""
    import json

    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def empty_note(root: str) -> str:
    return f"no issues in {_root_shown(root)} yet; create one with `ecdigest new`"


def _root_shown(root: str) -> str:
    """The archive's folder as `Path(root)` shows it, without importing pathlib if clean."""
    if root != "." and root == os.path.normpath(root):
        return root
    from pathlib import Path

    return str(Path(root))
