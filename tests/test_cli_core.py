"""init, new, add, list, show, export json: as an editor and as a script would use them."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import Invoke, run_cli

from ecdigest.cli import app

ADD = (
    "--title",
    "测试",
    "--section",
    "行业资讯",
    "--source",
    "《人民日报》",
    "--date",
    "2023 年 07 月 01 日",
)


@pytest.fixture
def issue_file(invoke: Invoke, archive_dir: Path) -> Path:
    result = invoke("new", "--id", "2023-07", "--date", "2023-07-05")
    assert result.exit_code == 0, result.output
    return archive_dir / "2023" / "2023-07.toml"


def test_init_writes_settings_and_refuses_to_overwrite(tmp_path: Path, invoke: Invoke) -> None:
    target = tmp_path / "fresh"
    result = invoke("init", str(target), "--title", "测试通讯", "--link", "https://news.example.com/")
    assert result.exit_code == 0, result.output
    settings = tomllib.loads((target / "ecdigest.toml").read_text("utf-8"))
    assert settings["newsletter"]["title"] == "测试通讯"
    assert settings["newsletter"]["sections"] == ["行业资讯", "政策法规", "数据观察", "专家视点"]
    assert settings["newsletter"]["feed_url"] == "https://news.example.com/feed.xml"
    assert settings["newsletter"]["tag_authority"] == "news.example.com"
    assert settings["newsletter"]["tag_date"] == "2023"  # the year of init (clock fixed in conftest)
    assert (target / ".gitignore").read_text() == ".ecdigest/\n"
    before = (target / "ecdigest.toml").read_bytes()
    again = invoke("init", str(target), "--title", "other")
    assert again.exit_code == 2
    assert "already exists" in again.stderr
    assert (target / "ecdigest.toml").read_bytes() == before


def test_init_uses_the_archive_option_when_no_dir_is_given(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["--archive", str(tmp_path / "a"), "init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "a" / "ecdigest.toml").is_file()


def test_new_defaults_id_and_title_from_the_date(invoke: Invoke, archive_dir: Path) -> None:
    result = invoke("new", "--date", "2023 年 8 月 3 日")
    assert result.exit_code == 0, result.output
    assert result.stdout == "2023-08\n"
    data = tomllib.loads((archive_dir / "2023" / "2023-08.toml").read_text("utf-8"))
    assert data == {
        "id": "2023-08",
        "title": "电子商务动态 2023 年 8 月",
        "date": dt.date(2023, 8, 3),
        "status": "draft",
    }


def test_new_without_date_uses_today_in_the_newsletter_timezone(invoke: Invoke) -> None:
    # conftest fixes the clock at 2023-07-10 09:00 +08:00
    assert invoke("new").stdout == "2023-07\n"


def test_new_refuses_duplicates_and_bad_ids(invoke: Invoke, issue_file: Path) -> None:
    duplicate = invoke("new", "--id", "2023-07", "--date", "2023-07-06")
    assert duplicate.exit_code == 2
    assert "already exists" in duplicate.stderr and "--id" in duplicate.stderr
    for bad in ("../../etc/x", "/abs", "-x", "a b", ""):
        result = invoke("new", "--id", bad, "--date", "2023-07-06")
        assert result.exit_code == 2, (bad, result.output)
        assert "Traceback" not in result.output


def test_add_scripted_exactly_as_the_issue_describes(invoke: Invoke, issue_file: Path) -> None:
    result = invoke("add", "2023-07", *ADD, "--body-file", "-", input="第一段。\n\n第二段。\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == "2023-07-001\n"
    (article,) = json.loads(invoke("export", "json", "2023-07").stdout)["articles"]
    assert article == {
        "id": "2023-07-001",
        "section": "行业资讯",
        "title": "测试",
        "source": "《人民日报》",
        "compiled_by": "《电子商务动态》编辑部",
        "date": "2023-07-01",
        "url": None,
        "tags": [],
        "paragraphs": ["第一段。", "第二段。"],
    }


def test_add_missing_fields_from_a_script_names_each_and_changes_nothing(
    invoke: Invoke, issue_file: Path
) -> None:
    before = issue_file.read_bytes()
    result = invoke("add", "2023-07", "--section", "行业资讯", "--body", "正文")
    assert result.exit_code == 2
    assert "title" in result.stderr and "source" in result.stderr and "date" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert issue_file.read_bytes() == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--section", "新闻"), "unknown section"),
        (("--date", "2023年2月30日"), "not a real date"),
        (("--url", "javascript:alert(1)"), "not an http(s) URL"),
        (("--title", "two\nlines"), "single line"),
    ],
)
def test_add_rejects_bad_values(
    invoke: Invoke, issue_file: Path, extra: tuple[str, str], message: str
) -> None:
    before = issue_file.read_bytes()
    flags = dict(zip(ADD[::2], ADD[1::2], strict=True))
    flags[extra[0]] = extra[1]
    result = invoke("add", "2023-07", *[x for pair in flags.items() for x in pair], "--body", "正文")
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert issue_file.read_bytes() == before


def test_add_all_fields_and_default_issue(invoke: Invoke, issue_file: Path, tmp_path: Path) -> None:
    body = tmp_path / "body.txt"
    body.write_bytes("\ufeff第一段，含 5G 与 ChatGPT。\r\n\r\n第二段。\r\n".encode())
    result = invoke(
        "add", *ADD, "--url", "https://example.org/a?b=1", "--tag", "跨境电商", "--tag", "直播",
        "--compiled-by", "", "--body-file", str(body),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (article,) = json.loads(invoke("export", "json", "2023-07").stdout)["articles"]
    assert article["url"] == "https://example.org/a?b=1"
    assert article["tags"] == ["跨境电商", "直播"]
    assert article["compiled_by"] is None
    assert article["paragraphs"] == ["第一段，含 5G 与 ChatGPT。", "第二段。"]


def test_own_articles_have_no_compiled_by(invoke: Invoke, issue_file: Path) -> None:
    args = [
        "--title",
        "本刊稿",
        "--section",
        "专家视点",
        "--source",
        "《电子商务动态》编辑部",
        "--date",
        "today",
    ]
    assert invoke("add", "2023-07", *args, "--body", "正文").exit_code == 0
    (article,) = json.loads(invoke("export", "json", "2023-07").stdout)["articles"]
    assert article["compiled_by"] is None
    assert article["date"] == "2023-07-10"


def test_article_ids_are_never_reused(invoke: Invoke, issue_file: Path) -> None:
    for _ in range(3):
        assert invoke("add", "2023-07", *ADD, "--body", "正文").exit_code == 0
    # An editor deletes the newest article by hand: its number is not handed out again.
    text = issue_file.read_text("utf-8")
    issue_file.write_text(text[: text.rindex("[[articles]]")].rstrip("\n") + "\n", "utf-8")
    assert "last_article_number = 3" in issue_file.read_text("utf-8")
    assert invoke("add", "2023-07", *ADD, "--body", "正文").stdout == "2023-07-004\n"


def test_add_with_editor_runs_it_without_a_shell(
    invoke: Invoke, issue_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "fake editor.py"
    script.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[-1])\n"
        "t = p.read_text('utf-8')\n"
        "assert sys.argv[1] == '--flag with space'\n"
        "t = t.replace('title: \\n', 'title: 编辑器里写的标题\\n').replace('source: \\n', 'source: “央广网”\\n')\n"
        "t = t.replace('date: \\n', 'date: 2023-07-02\\n').replace('tags: \\n', 'tags: 直播, 快递\\n')\n"
        "p.write_text(t + '#618购物节# 第一段。\\n\\n第二段。\\n', 'utf-8')\n",
        "utf-8",
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} '{script}' '--flag with space'")
    result = invoke("add", "2023-07", "--edit", "--section", "数据观察")
    assert result.exit_code == 0, result.output
    (article,) = json.loads(invoke("export", "json", "2023-07").stdout)["articles"]
    assert article["title"] == "编辑器里写的标题"
    assert article["section"] == "数据观察"
    assert article["tags"] == ["直播", "快递"]
    assert article["paragraphs"] == ["#618购物节# 第一段。", "第二段。"]


def test_add_with_a_failing_editor_adds_nothing(
    invoke: Invoke, issue_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = issue_file.read_bytes()
    monkeypatch.setenv("EDITOR", "false")
    result = invoke("add", "2023-07", "--edit")
    assert result.exit_code == 2
    assert "editor exited" in result.stderr
    monkeypatch.setenv("EDITOR", "/no/such/editor")
    assert invoke("add", "2023-07", "--edit").exit_code == 2
    assert issue_file.read_bytes() == before


def test_list_and_show(invoke: Invoke, issue_file: Path) -> None:
    invoke("add", "2023-07", *ADD, "--body", "第一段。\n\n第二段。")
    listing = invoke("list")
    assert listing.exit_code == 0
    assert listing.stdout.splitlines()[1].split() == ["2023-07", "2023-07-05", "draft", "1", "行业资讯", "1"]
    (row,) = json.loads(invoke("list", "--format", "json").stdout)
    assert row["sections"] == {"行业资讯": 1} and row["articles"] == 1 and row["date"] == "2023-07-05"
    shown = invoke("show", "2023-07")
    assert shown.exit_code == 0
    assert "【行业资讯】" in shown.stdout
    assert "来源：《人民日报》 编选：《电子商务动态》编辑部 2023 年 07 月 01 日" in shown.stdout
    assert json.loads(invoke("show", "2023-07", "-f", "json").stdout)["articles"][0]["title"] == "测试"


def test_export_json_all_and_to_a_file(invoke: Invoke, issue_file: Path, tmp_path: Path) -> None:
    invoke("new", "--id", "2023-08", "--date", "2023-08-05")
    everything = json.loads(invoke("export", "json", "--all").stdout)
    assert [i["id"] for i in everything] == ["2023-07", "2023-08"]
    target = tmp_path / "out.json"
    assert invoke("export", "json", "2023-07", "-o", str(target)).exit_code == 0
    assert json.loads(target.read_text("utf-8"))["id"] == "2023-07"
    mtime = target.stat().st_mtime_ns
    invoke("export", "json", "2023-07", "-o", str(target))
    assert target.stat().st_mtime_ns == mtime  # unchanged output is not rewritten
    # Default: the latest published issue; there is none yet.
    result = invoke("export", "json")
    assert result.exit_code == 2 and "no published issue" in result.stderr


def test_unknown_issue_lists_the_ids_that_exist(invoke: Invoke, issue_file: Path) -> None:
    for args in (("show", "2099-01"), ("export", "json", "2099-01"), ("add", "2099-01", *ADD, "--body", "x")):
        result = invoke(*args)
        assert result.exit_code == 2
        assert "no issue '2099-01'" in result.stderr and "2023-07" in result.stderr


CORRUPTIONS = {
    "syntax": ("title = ", "title = = "),
    "type": ('title = "电子商务动态 2023 年 7 月"', "title = 2023"),
}


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_a_corrupted_issue_file_stops_every_reader_with_file_and_line(
    invoke: Invoke, issue_file: Path, kind: str
) -> None:
    old, new = CORRUPTIONS[kind]
    issue_file.write_text(issue_file.read_text("utf-8").replace(old, new, 1), "utf-8")
    before = issue_file.read_bytes()
    for args in (
        ("show", "2023-07"),
        ("export", "json", "--all"),
        ("export", "json", "2023-07"),
        ("add", "2023-07", *ADD, "--body", "x"),
        ("new", "--id", "2023-09"),
    ):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert f"{issue_file}:2:" in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.output
    # An overview names the file and lists the rest (issue 10): a warning line, exit 1.
    listed = invoke("list")
    assert listed.exit_code == 1, listed.output
    (line,) = listed.stderr.splitlines()
    assert line.startswith(f"ecdigest: warning: {issue_file}:2: "), line
    assert issue_file.read_bytes() == before


def test_missing_archive_is_a_clear_error(tmp_path: Path, invoke: Invoke) -> None:
    result = invoke("list", archive=tmp_path / "nowhere")
    assert result.exit_code == 2
    assert "ecdigest init" in result.stderr


def test_every_command_has_help_with_an_example() -> None:
    import typer.main

    group = typer.main.get_command(app)
    names: list[list[str]] = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        names += [[name, s] for s in sub] if sub else [[name]]
    assert len(names) >= 6
    from typer.testing import CliRunner

    for args in names:
        result = CliRunner().invoke(app, [*args, "--help"])
        assert result.exit_code == 0, args
        assert re.search(r"Example:\s.*ecdigest", result.stdout, re.S), args


def test_installed_script_in_a_real_subprocess(tmp_path: Path) -> None:
    version = run_cli(["--version"])
    assert version.returncode == 0 and version.stdout.startswith(b"ecdigest ")
    root = tmp_path / "a"
    assert run_cli(["init", str(root)]).returncode == 0
    env = {"ECDIGEST_ARCHIVE": str(root)}
    assert run_cli(["new", "--id", "2023-07", "--date", "2023-07-05"], env=env).returncode == 0
    added = run_cli(
        ["add", "2023-07", *ADD, "--body-file", "-"], input="第一段。\n\n第二段。\n".encode(), env=env
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout == b"2023-07-001\n"
    missing = run_cli(["add", "2023-07", "--section", "行业资讯"], input=b"", env=env)
    assert missing.returncode == 2
    assert b"title" in missing.stderr and b"Traceback" not in missing.stderr
    exported = json.loads(run_cli(["export", "json", "2023-07"], env=env).stdout)
    assert exported["articles"][0]["paragraphs"] == ["第一段。", "第二段。"]


def test_the_error_lines_are_one_line_each() -> None:
    """The Typer app and the launcher print bad input and bugs through the same two lines."""
    from ecdigest.terminal import error_line, internal_error_line

    assert error_line("bad\nthing") == "ecdigest: error: bad\\x0athing"
    line = internal_error_line(RuntimeError("boom\x1b[2J"))
    assert line.startswith("ecdigest: internal error: RuntimeError: boom\\x1b[2J (rerun with --debug")
    assert "\n" not in line and "\x1b" not in line
