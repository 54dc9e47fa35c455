"""`validate --fix` and `--fix --dry-run`: exact rewrites, untouched files, the lock."""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from pathlib import Path

import pytest
from conftest import DATA, Invoke, run_cli

from ecdigest.archive import STATE_DIR
from ecdigest.fileio import FileLock
from ecdigest.operations import init_archive

INVALID = DATA / "invalid"

MESSY_BODY = "商务部表示,2023年将推动跨境电商  高质量发展(含中亚)。\n\n第二段： 鼓励企业用5G建设海外仓。"
FIXED_BODY = "商务部表示，2023 年将推动跨境电商 高质量发展（含中亚）。\n\n第二段：鼓励企业用 5G 建设海外仓。"


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    """An archive with one issue file written the way ecdigest writes it, full of fixable text."""
    root = tmp_path / "case"
    init_archive(root)
    issue = root / "2023" / "2023-06.toml"
    issue.parent.mkdir()
    issue.write_text(
        'id = "2023-06"\ntitle = "电子商务动态 2023 年 6 月"\ndate = 2023-06-05\nstatus = "draft"\n'
        "last_article_number = 1\n\n"
        '[[articles]]\nid = "2023-06-001"\nsection = "行业资讯"\n'
        'title = "淘宝天猫发布商家AI生态伙伴计划"\nsource = "《人民日报》"\n'
        'compiled_by = "《电子商务动态》编辑部"\ndate = 2023-05-29\n'
        f'body = """\n{MESSY_BODY}"""\n',
        "utf-8",
    )
    return root


def issue_path(root: Path) -> Path:
    return root / "2023" / "2023-06.toml"


def load(root: Path) -> dict[str, object]:
    return tomllib.loads(issue_path(root).read_text("utf-8"))


def test_fix_rewrites_only_the_fixable_text(messy: Path, invoke: Invoke) -> None:
    before = load(messy)
    original_lines = issue_path(messy).read_text("utf-8").splitlines()
    result = invoke("validate", "--fix", archive=messy)
    assert result.exit_code == 0, result.output
    after = load(messy)
    article = after["articles"][0]  # type: ignore[index]
    assert article["body"] == FIXED_BODY
    assert article["title"] == "淘宝天猫发布商家 AI 生态伙伴计划"
    # Everything else is byte for byte what it was.
    new_lines = issue_path(messy).read_text("utf-8").splitlines()
    changed = [i for i, (a, b) in enumerate(zip(original_lines, new_lines, strict=True)) if a != b]
    assert [original_lines[i].split(" = ")[0] for i in changed if " = " in original_lines[i]] == ["title"]
    assert {k: v for k, v in after.items() if k != "articles"} == {
        k: v for k, v in before.items() if k != "articles"
    }
    # What changed is printed, one line per fix, then the report of what is left.
    out = result.stdout
    assert f"{issue_path(messy)}:10: W802 fixed [2023-06-001 title]" in out
    assert "W801 fixed [2023-06-001 body] '商务部表示,2023年将' -> '商务部表示，2023年将'" in out
    assert "fixed 9 problems in 1 file" in out
    assert out.rstrip().endswith("0 errors, 0 warnings in 1 issue")
    # A second run finds nothing to do and leaves the file alone.
    mtime = issue_path(messy).stat().st_mtime_ns
    again = invoke("validate", "--fix", archive=messy)
    assert "nothing to fix" in again.stdout
    assert issue_path(messy).stat().st_mtime_ns == mtime


def test_dry_run_prints_a_unified_diff_and_changes_nothing(messy: Path, invoke: Invoke) -> None:
    original = issue_path(messy).read_bytes()
    result = invoke("validate", "--fix", "--dry-run", archive=messy)
    assert issue_path(messy).read_bytes() == original
    diff = result.stdout
    path = issue_path(messy)
    assert diff.startswith(f"--- a/{path}\n+++ b/{path}\n@@ ")
    assert f"-{MESSY_BODY.splitlines()[0]}\n" in diff
    assert f"+{FIXED_BODY.splitlines()[0]}\n" in diff
    assert '-title = "淘宝天猫发布商家AI生态伙伴计划"\n+title = "淘宝天猫发布商家 AI 生态伙伴计划"\n' in diff
    # Only the diff: no report, no summary.
    assert all(line[:1] in "-+@ " for line in diff.splitlines())
    # Warnings only: exit 0, or 1 with --strict (the archive is as it was).
    assert result.exit_code == 0
    assert invoke("validate", "--fix", "--dry-run", "--strict", archive=messy).exit_code == 1
    # Applying the diff's intent gives the same bytes as --fix.
    assert invoke("validate", "--fix", archive=messy).exit_code == 0
    assert issue_path(messy).read_text("utf-8").count("\n") == original.decode("utf-8").count("\n")


def test_dry_run_diff_applies_with_patch(messy: Path, invoke: Invoke, tmp_path: Path) -> None:
    patch = shutil.which("patch")
    if patch is None:
        pytest.skip("patch(1) is not installed")
    diff = invoke("validate", "--fix", "--dry-run", archive=messy).stdout
    copy = tmp_path / "copy"
    shutil.copytree(messy, copy)
    import subprocess

    done = subprocess.run(
        [patch, "-p1", "-d", "/", "--dry-run"], input=diff.encode(), capture_output=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_fix_keeps_comments_of_a_hand_edited_file(tmp_path: Path, invoke: Invoke) -> None:
    root = tmp_path / "case"
    init_archive(root)
    shutil.copy(INVALID / "W802.toml", root / "W802.toml")  # starts with a comment line
    text = (root / "W802.toml").read_text("utf-8")
    assert text.startswith("# W802")
    result = invoke("validate", "--fix", archive=root)
    assert result.exit_code == 0, result.output
    new = (root / "W802.toml").read_text("utf-8")
    assert new == text.replace("2023年将", "2023 年将").replace("用5G建设", "用 5G 建设")
    assert json.loads(invoke("validate", "--format", "json", archive=root).stdout) == []


def test_fix_leaves_files_with_structural_errors_alone(tmp_path: Path, invoke: Invoke) -> None:
    root = tmp_path / "case"
    init_archive(root)
    path = root / "E005.toml"
    text = (INVALID / "E005.toml").read_text("utf-8").replace("高质量发展。", "高质量发展(含中亚)。")
    path.write_text(text, "utf-8")
    result = invoke("validate", "--fix", archive=root)
    assert path.read_text("utf-8") == text
    assert "not fixed" in result.stderr and "structural errors" in result.stderr
    assert result.exit_code == 1
    assert sorted({p["code"] for p in json.loads(invoke("validate", "-f", "json", archive=root).stdout)}) == [
        "E005",
        "W801",
    ]


def test_fix_only_touches_the_named_issues(messy: Path, invoke: Invoke) -> None:
    other = messy / "W803.toml"
    shutil.copy(INVALID / "W803.toml", other)
    before = other.read_bytes()
    result = invoke("validate", "2023-06", "--fix", archive=messy)
    assert result.exit_code == 0, result.output
    assert other.read_bytes() == before
    assert load(messy)["articles"][0]["body"] == FIXED_BODY  # type: ignore[index]


def test_fix_waits_for_the_archive_lock(messy: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    original = issue_path(messy).read_bytes()
    monkeypatch.setenv("ECDIGEST_LOCK_TIMEOUT", "0.3")
    lock = FileLock(messy / STATE_DIR / "lock", timeout=1)
    with lock.held():
        result = invoke("validate", "--fix", archive=messy)
    assert result.exit_code == 2, result.output
    assert "lock" in result.stderr
    assert issue_path(messy).read_bytes() == original
    assert not [name for name in os.listdir(issue_path(messy).parent) if name.endswith(".tmp")]


def test_fix_json_keeps_stdout_for_the_report(messy: Path, invoke: Invoke) -> None:
    result = invoke("validate", "--fix", "--format", "json", archive=messy)
    assert json.loads(result.stdout) == []
    assert "fixed 9 problems in 1 file" in result.stderr


def test_fix_through_the_installed_command(messy: Path) -> None:
    env = {"ECDIGEST_NOW": "2023-07-10T09:00:00+08:00"}
    dry = run_cli(["--archive", str(messy), "validate", "--fix", "--dry-run"], env=env)
    assert dry.returncode == 0 and dry.stdout.startswith(b"--- a/")
    done = run_cli(["--archive", str(messy), "validate", "--fix"], env=env)
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr
    assert load(messy)["articles"][0]["body"] == FIXED_BODY  # type: ignore[index]
