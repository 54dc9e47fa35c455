"""One parse of a just-edited file: the catalog takes it in from the bytes it hashed, and
the next read of that file finding the same bytes takes that parse (archive._HASHED)
instead of parsing again; what it answers is what a fresh parse answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecdigest import archive as archive_module
from ecdigest.archive import Archive, LoadResult
from ecdigest.contents import show


def _same(a: LoadResult, b: LoadResult) -> None:
    assert (a.path, a.issue, a.problems, a.text) == (b.path, b.issue, b.problems, b.text)
    assert (a.lines is None) == (b.lines is None)
    if a.lines is not None and b.lines is not None:
        assert a.lines.keys == b.lines.keys


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def _issue_file(root: Path) -> Path:
    (path,) = Archive.open(root).issue_paths()
    return path


def test_a_read_after_the_catalog_took_the_file_in_is_its_parse(
    shipped: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _issue_file(shipped)
    with Archive.open(shipped).catalog():
        pass  # built
    _edit(path, "电子商务", "电子商贸")
    parses: list[Path] = []
    real = archive_module.parse_toml

    def counted(text: str, where: Path, *rest: object) -> object:
        if Path(where) == path:
            parses.append(where)
        return real(text, where, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(archive_module, "parse_toml", counted)
    archive = Archive.open(shipped)
    with archive.catalog():
        pass  # takes the edited file in: one parse
    assert len(parses) == 1
    kept = archive.read_lenient(path)
    assert len(parses) == 1  # the catalog's parse, taken
    assert not archive_module._HASHED  # taken once
    fresh = archive.read_lenient(path)
    assert len(parses) == 2
    _same(kept, fresh)
    assert "电子商贸" in (kept.text or "")


def test_other_bytes_are_parsed(shipped: Path) -> None:
    """The file changed again after the catalog's parse: the read parses what it finds."""
    path = _issue_file(shipped)
    archive = Archive.open(shipped)
    with archive.catalog():
        pass
    _edit(path, "电子商务", "电子商贸")
    with archive.catalog():
        pass
    assert archive_module._HASHED
    _edit(path, "电子商贸", "电子商业")
    found = archive.read_lenient(path)
    assert "电子商业" in (found.text or "") and "电子商贸" not in (found.text or "")
    archive_module._HASHED.clear()
    _same(found, archive.read_lenient(path))


def test_show_after_an_edit_prints_what_a_fresh_read_prints(shipped: Path) -> None:
    path = _issue_file(shipped)
    archive = Archive.open(shipped)
    with archive.catalog():
        pass
    _edit(path, "电子商务", "电子商贸")
    with archive.catalog() as catalog:
        through = show(archive, "2023-06", width=72, catalog=catalog)
    archive_module._HASHED.clear()
    assert through == show(Archive.open(shipped), "2023-06", width=72)
    assert "电子商贸" in through
