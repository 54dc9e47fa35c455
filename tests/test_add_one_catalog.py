"""add looks at the archive once: one catalog finds the target issue and the article ids
taken elsewhere (then the guard rails' catalog takes in the written file); a file that
changes while that catalog looks is read again the usual way, and nothing is lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecdigest import catalog as catalog_module
from ecdigest.archive import Archive, StaleCatalog
from ecdigest.operations import ArticleDraft, add_article, new_issue

DRAFT = ArticleDraft(
    title="一篇稿件",
    section="行业资讯",
    source="《人民日报》",
    date="2023-07-02",
    body="正文第一段。\n\n第二段。",
)


def _archive(root: Path) -> Archive:
    archive = Archive.open(root)
    new_issue(archive, issue_id="2023-07", date="2023-07-05")
    new_issue(archive, issue_id="2023-08", date="2023-08-05")
    return Archive.open(root)


def _count_opens(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    opened: list[object] = []
    real = catalog_module.open_catalog

    def counting(archive: object) -> catalog_module.Catalog:
        opened.append(archive)
        return real(archive)  # type: ignore[arg-type]

    monkeypatch.setattr(catalog_module, "open_catalog", counting)
    return opened


@pytest.mark.parametrize("issue_id", ["2023-07", None])
def test_add_opens_one_catalog(
    archive_dir: Path, monkeypatch: pytest.MonkeyPatch, issue_id: str | None
) -> None:
    archive = _archive(archive_dir)
    opened = _count_opens(monkeypatch)
    updated, article = add_article(archive, issue_id, DRAFT)
    assert len(opened) == 1  # was 2 (the target issue, then the taken ids)
    assert article.id == f"{issue_id or '2023-08'}-001"
    assert Archive.open(archive_dir).get(updated.issue.id).issue == updated.issue


def test_a_file_changed_while_the_catalog_looked(archive_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The newest draft's date moves (an outside editor) between the catalog's answer and
    the read: the open catalog's answer is stale, add asks again and adds to what is there."""
    archive = _archive(archive_dir)
    target = archive_dir / "2023" / "2023-08.toml"
    real_read = Archive.read
    stale: list[Path] = []

    def read_after_an_edit(self: Archive, path: Path) -> object:
        if not stale and path == target:
            text = target.read_text("utf-8")
            target.write_text(text.replace("2023-08-05", "2023-08-06"), "utf-8")
            stale.append(path)
        return real_read(self, path)

    monkeypatch.setattr(Archive, "read", read_after_an_edit)
    opened = _count_opens(monkeypatch)
    updated, article = add_article(archive, None, DRAFT)
    assert stale == [target]
    assert len(opened) == 3  # the stale one, then the usual two
    assert (updated.issue.id, str(updated.issue.date), article.id) == ("2023-08", "2023-08-06", "2023-08-001")
    assert Archive.open(archive_dir).get("2023-08").issue == updated.issue


def test_get_given_an_open_catalog_says_when_it_is_stale(archive_dir: Path) -> None:
    archive = _archive(archive_dir)
    target = archive_dir / "2023" / "2023-07.toml"
    with archive.catalog() as catalog:
        assert archive.get("2023-07", catalog=catalog).issue.id == "2023-07"
        target.write_text(target.read_text("utf-8").replace('id = "2023-07"', 'id = "2023-09"'), "utf-8")
        with pytest.raises(StaleCatalog):
            archive.get("2023-07", catalog=catalog)
        assert catalog.issue_ids()  # still open: the caller closes it
    assert archive.get("2023-09").path == target  # without one: a fresh look
