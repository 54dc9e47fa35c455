"""`ecdigest publish`: validates first, writes under the archive lock, exit codes."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from _publishing import copy_fixture
from conftest import Invoke

from ecdigest.archive import Archive
from ecdigest.fileio import FileLock


def _status(path: Path) -> tuple[str, str]:
    data = tomllib.loads(path.read_text("utf-8"))
    return data["status"], data["date"].isoformat()


def _draft(invoke: Invoke, root: Path, issue: str = "2023-08", date: str = "2023-07-08") -> Path:
    assert invoke("new", "--id", issue, "--date", date, archive=root).exit_code == 0
    added = invoke(
        "add", issue, "--title", "新文章", "--section", "行业资讯", "--source", "《人民日报》",
        "--date", "2023-07-07", "--body", "正文。", archive=root,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    return root / "2023" / f"{issue}.toml"


def test_publish_sets_status_and_keeps_the_date(invoke: Invoke, tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    path = _draft(invoke, root)
    assert _status(path) == ("draft", "2023-07-08")
    result = invoke("publish", "2023-08", archive=root)
    assert result.exit_code == 0, result.output
    assert result.stdout == "published 2023-08 (2023-07-08, 1 article)\n"
    assert _status(path) == ("published", "2023-07-08")
    again = invoke("publish", "2023-08", archive=root)
    assert again.exit_code == 0
    assert "already published" in again.stdout


def test_publish_with_date(invoke: Invoke, tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    path = _draft(invoke, root)
    assert invoke("publish", "2023-08", "--date", "2023 年 07 月 09 日", archive=root).exit_code == 0
    assert _status(path) == ("published", "2023-07-09")
    assert invoke("publish", "2023-08", "--date", "today", archive=root).exit_code == 0
    assert _status(path) == ("published", "2023-07-10")  # ECDIGEST_NOW in conftest


def test_publish_refuses_on_validation_errors(invoke: Invoke, tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    path = _draft(invoke, root)
    text = path.read_text("utf-8").replace('title = "新文章"', 'title = ""')
    path.write_text(text, "utf-8")
    before = path.read_bytes()
    result = invoke("publish", "2023-08", archive=root)
    assert result.exit_code == 1
    assert "E204" in result.stderr  # validate's code for a missing title
    assert "not published" in result.stderr and "--force" in result.stderr
    assert path.read_bytes() == before
    forced = invoke("publish", "2023-08", "--force", archive=root)
    assert forced.exit_code == 0, forced.output
    assert "E204" in forced.stderr  # still reported
    assert _status(path)[0] == "published"


def test_publish_refuses_a_date_before_its_articles_and_in_the_future(invoke: Invoke, tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    path = _draft(invoke, root)
    before = path.read_bytes()
    early = invoke("publish", "2023-08", "--date", "2023-07-01", archive=root)
    assert early.exit_code == 1
    assert "E303" in early.stderr and "2023-08-001" in early.stderr
    future = invoke("publish", "2023-08", "--date", "2023-07-11", archive=root)
    assert future.exit_code == 2
    assert "in the future" in future.stderr
    assert path.read_bytes() == before


def test_publish_refuses_an_empty_issue(invoke: Invoke, tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    assert invoke("new", "--id", "2023-09", "--date", "2023-07-09", archive=root).exit_code == 0
    result = invoke("publish", "2023-09", archive=root)
    assert result.exit_code == 1
    assert "has no articles" in result.stderr


def test_publish_unknown_issue(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("publish", "1999-01", archive=copy_fixture(tmp_path))
    assert result.exit_code == 2
    assert "no issue '1999-01'" in result.stderr


def test_publish_waits_for_the_archive_lock(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_fixture(tmp_path)
    path = _draft(invoke, root)
    monkeypatch.setenv("ECDIGEST_LOCK_TIMEOUT", "0.3")
    other = FileLock(root / ".ecdigest" / "lock", timeout=1)
    with other.held():
        result = invoke("publish", "2023-08", archive=root)
    assert result.exit_code == 2
    assert "held the lock" in result.stderr
    assert _status(path)[0] == "draft"
    assert invoke("publish", "2023-08", archive=root).exit_code == 0


def test_publish_rereads_the_file_inside_the_lock(tmp_path: Path, invoke: Invoke) -> None:
    """An article added after the command opened the archive is not lost."""
    from ecdigest.publish import publish_issue

    root = copy_fixture(tmp_path)
    _draft(invoke, root)
    archive = Archive.open(root)
    archive.get("2023-08")  # a stale view, as a slow command would have
    added = invoke(
        "add", "2023-08", "--title", "后来加的", "--section", "行业资讯", "--source", "《人民日报》",
        "--date", "2023-07-07", "--body", "正文。", archive=root,
    )  # fmt: skip
    assert added.exit_code == 0
    result = publish_issue(archive, "2023-08")
    assert [a.title for a in result.issue.articles] == ["新文章", "后来加的"]
    assert len(Archive.open(root).get("2023-08").issue.articles) == 2
