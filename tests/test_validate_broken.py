"""A corpus of broken files never yields a traceback: each is a problem, the others are checked."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import DATA, SAMPLE, Invoke, run_cli

from ecdigest.archive import Archive
from ecdigest.operations import init_archive
from ecdigest.validate import validate_archive

BROKEN = DATA / "broken"
FILES = sorted(p.name for p in BROKEN.iterdir())
ENV = {"ECDIGEST_NOW": "2023-07-10T09:00:00+08:00"}


def corpus_archive(root: Path) -> Path:
    init_archive(root)
    for name in FILES:
        shutil.copy(BROKEN / name, root / name)
    # One good file with one known warning: it must still be checked.
    shutil.copy(DATA / "invalid" / "W803.toml", root / "W803.toml")
    return root


def ten_megabyte_issue(path: Path) -> None:
    """10 MB of the sample's own text, hard-wrapped, with four fixable slips per page."""
    sample = " ".join(line.strip() for line in SAMPLE.read_text("utf-8").splitlines() if line.strip())
    page = sample[:1500] + "商务部表示,将推动跨境电商高质量发展2023年。  第二句(含中亚)。\n"
    body = (page * (10 * 1024 * 1024 // len(page.encode("utf-8")) + 1)).rstrip("\n")
    path.write_text(
        'id = "huge"\ntitle = "电子商务动态 2023 年 6 月"\ndate = 2023-06-05\nstatus = "draft"\n\n'
        '[[articles]]\nid = "huge-001"\nsection = "行业资讯"\ntitle = "十兆字节的正文"\n'
        f'source = "《人民日报》"\ndate = 2023-05-29\nbody = """\n{body}"""\n',
        "utf-8",
    )
    assert path.stat().st_size > 10 * 1024 * 1024


@pytest.mark.parametrize("name", FILES)
def test_each_broken_file_is_reported_not_raised(name: str, tmp_path: Path, invoke: Invoke) -> None:
    root = tmp_path / "case"
    init_archive(root)
    shutil.copy(BROKEN / name, root / name)
    result = invoke("validate", "--format", "json", archive=root)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1, result.output
    problems = json.loads(result.stdout)
    assert any(p["severity"] == "error" for p in problems)
    assert all(p["path"] == str(root / name) for p in problems)
    # The API never raises for a broken file either.
    assert validate_archive(Archive.open(root))
    # --fix and --fix --dry-run leave it alone.
    before = (root / name).read_bytes()
    fixed = invoke("validate", "--fix", archive=root)
    assert fixed.exit_code == 1, fixed.output
    assert invoke("validate", "--fix", "--dry-run", archive=root).exit_code == 1
    assert (root / name).read_bytes() == before


def test_whole_corpus_through_the_installed_command(tmp_path: Path) -> None:
    root = corpus_archive(tmp_path / "case")
    for args in (["validate"], ["validate", "--format", "json"], ["validate", "--fix", "--dry-run"]):
        done = run_cli(["--archive", str(root), *args], env=ENV)
        assert b"Traceback" not in done.stderr, done.stderr
        assert done.returncode in {0, 1, 2}
        assert done.returncode == 1, done.stderr
    done = run_cli(["--archive", str(root), "validate", "--format", "json"], env=ENV)
    problems = json.loads(done.stdout)
    reported = {Path(p["path"]).name for p in problems}
    assert reported == {*FILES, "W803.toml"}
    assert [p["code"] for p in problems if p["path"].endswith("W803.toml")] == ["W803"]
    text = run_cli(["--archive", str(root), "validate"], env=ENV).stdout.decode()
    assert text.splitlines()[-1].endswith(f"in {len(FILES) + 1} issues")


def test_ten_megabyte_body_through_the_installed_command(tmp_path: Path) -> None:
    root = tmp_path / "case"
    init_archive(root)
    ten_megabyte_issue(root / "huge.toml")
    done = run_cli(["--archive", str(root), "validate", "--format", "json"], env=ENV)
    assert b"Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0
    problems = json.loads(done.stdout)
    # Capped per field and code, the last one saying how many more there are.
    per_code: dict[str, int] = {}
    for problem in problems:
        per_code[problem["code"]] = per_code.get(problem["code"], 0) + 1
    assert set(per_code) == {"W801", "W802", "W804", "W704"}
    assert max(per_code.values()) <= 10
    assert any("more like this in the body" in p["message"] for p in problems)
    before = (root / "huge.toml").read_bytes()
    dry = run_cli(["--archive", str(root), "validate", "--fix", "--dry-run"], env=ENV)
    assert dry.returncode == 0 and b"Traceback" not in dry.stderr
    assert (root / "huge.toml").read_bytes() == before
    fixed = run_cli(["--archive", str(root), "validate", "--fix", "--format", "json"], env=ENV)
    assert fixed.returncode == 0 and b"Traceback" not in fixed.stderr
    assert {p["code"] for p in json.loads(fixed.stdout)} == {"W704"}


def test_oversized_file_is_one_problem(tmp_path: Path, invoke: Invoke) -> None:
    root = tmp_path / "case"
    init_archive(root)
    with open(root / "giant.toml", "wb") as handle:
        handle.truncate(65 * 1024 * 1024)  # sparse: over the 64 MB read limit, no disk used
    shutil.copy(DATA / "invalid" / "W803.toml", root / "W803.toml")
    result = invoke("validate", "--format", "json", archive=root)
    problems = json.loads(result.stdout)
    assert [(Path(p["path"]).name, p["code"]) for p in problems] == [
        ("W803.toml", "W803"),
        ("giant.toml", "E001"),
    ]
    assert result.exit_code == 1


def test_symlink_loops_dangling_links_and_fifos_are_problems(tmp_path: Path) -> None:
    root = tmp_path / "case"
    init_archive(root)
    (root / "a.toml").symlink_to("b.toml")
    (root / "b.toml").symlink_to("a.toml")
    (root / "dangling.toml").symlink_to(tmp_path / "nowhere.toml")
    os.mkfifo(root / "fifo.toml")  # reading it would block forever
    shutil.copy(DATA / "invalid" / "W803.toml", root / "W803.toml")
    for args in (["validate", "--format", "json"], ["validate", "--fix", "--format", "json"]):
        done = run_cli(["--archive", str(root), *args], env=ENV)
        assert b"Traceback" not in done.stderr and b"internal error" not in done.stderr, done.stderr
        assert done.returncode == 1
        problems = json.loads(done.stdout)
        assert sorted((Path(p["path"]).name, p["code"]) for p in problems if p["code"] != "W803") == [
            ("a.toml", "E001"),
            ("b.toml", "E001"),
            ("dangling.toml", "E001"),
            ("fifo.toml", "E001"),
        ]
