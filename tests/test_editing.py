"""The editor's loop through the CLI: edit (an article as printed, an issue file), rm, mv and
reorders, unpublish, and the guard rails of add. Every change is checked against the
catalog (a full read must agree with it) and seen where readers see it (the exports)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from conftest import SHIPPED_ARCHIVE, Invoke
from test_catalog import check_everything

from ecdigest import article_text
from ecdigest.archive import Archive
from ecdigest.counting import count_article
from ecdigest.editor import ERROR_PREFIX

ADD = ("--section", "行业资讯", "--source", "《人民日报》", "--date", "2023-07-01")


def editor(tmp_path: Path, body: str, name: str = "editor.py") -> str:
    """An $EDITOR: a Python script run on the file to edit."""
    script = tmp_path / name
    script.write_text(
        "import sys, pathlib\np = pathlib.Path(sys.argv[-1])\nt = p.read_text('utf-8')\n" + body, "utf-8"
    )
    return f"{sys.executable} {script}"


def one_line(stderr: str, prefix: str = "ecdigest: error: ") -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix), stderr
    assert "Traceback" not in stderr
    return lines[0]


def articles(invoke: Invoke, issue: str) -> list[dict[str, object]]:
    result = invoke("export", "json", issue)
    assert result.exit_code == 0, result.output
    found: list[dict[str, object]] = json.loads(result.stdout)["articles"]
    return found


def at_a_terminal_with(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, first: str, then: str) -> Path:
    """A person at a terminal whose $EDITOR runs `first` on the text the first time and
    `then` every later time (each may rewrite `t`); what it was shown each round is kept
    in the returned folder as 0, 1, …"""
    import ecdigest.cli.editing_cmds as commands

    monkeypatch.setattr(commands, "stdin_is_terminal", lambda: True)
    rounds = tmp_path / "rounds"
    rounds.mkdir()
    indent = lambda code: "".join(f"    {line}\n" for line in code.splitlines())  # noqa: E731
    monkeypatch.setenv(
        "EDITOR",
        editor(
            tmp_path,
            f"rounds = pathlib.Path({str(rounds)!r})\n"
            "n = len(list(rounds.iterdir()))\n"
            "(rounds / str(n)).write_text(t, 'utf-8')\n"
            f"if n == 0:\n{indent(first)}else:\n{indent(then)}"
            "p.write_text(t, 'utf-8')\n",
        ),
    )
    return rounds


@pytest.fixture
def day(invoke: Invoke, archive_dir: Path) -> Path:
    """A draft issue 2023-07 with four articles in two sections (001, 002 行业资讯; 003, 004
    数据观察) and a draft 2023-08."""
    assert invoke("new", "--id", "2023-07", "--date", "2023-07-05").exit_code == 0
    assert invoke("new", "--id", "2023-08", "--date", "2023-08-05").exit_code == 0
    for title, section, body in (
        ("商务部：推进贸易数字化", "行业资讯", "第一篇的第一段。\n\n第一篇的第二段。"),
        ("海关总署：跨境电商进出口增长", "行业资讯", "第二篇。"),
        ("网络零售额同比增长", "数据观察", "第三篇。"),
        ("直播电商用户规模", "数据观察", "第四篇。"),
    ):
        result = invoke(
            "add", "2023-07", "--title", title, "--section", section, "--source", "《人民日报》",
            "--date", "2023-07-01", "--body", body,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    return archive_dir


# =========================================================================== edit an article


def test_edit_opens_the_article_as_printed_and_saves_what_changed(
    invoke: Invoke, day: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = tmp_path / "seen.txt"
    monkeypatch.setenv(
        "EDITOR",
        editor(
            tmp_path,
            f"pathlib.Path({str(seen)!r}).write_text(t, 'utf-8')\n"
            "t = t.replace('商务部：推进贸易数字化', '商务部：加快推进贸易数字化')\n"
            "t = t.replace('第一篇的第二段。', '第一篇改过的第二段。')\n"
            "t = t.replace('tags: ', 'tags: 跨境电商, 数字贸易')\n"
            "p.write_text(t, 'utf-8')\n",
        ),
    )
    before = articles(invoke, "2023-07")
    result = invoke("edit", "2023-07-001")
    assert result.exit_code == 0, result.output
    assert result.stdout == "edited 2023-07-001 商务部：加快推进贸易数字化\n"
    shown = seen.read_text("utf-8")
    # The article as readers see it, under the header: no TOML, no id to change.
    assert (
        "section: 行业资讯\n" in shown
        and "\n\n商务部：推进贸易数字化\n\n第一篇的第一段。\n\n第一篇的第二段。\n\n" in shown
    )
    assert shown.rstrip().endswith("来源：《人民日报》 编选：《电子商务动态》编辑部 2023 年 07 月 01 日")
    assert 'id = "' not in shown
    after = articles(invoke, "2023-07")
    assert after[0]["id"] == "2023-07-001" and after[0]["title"] == "商务部：加快推进贸易数字化"
    assert after[0]["paragraphs"] == ["第一篇的第一段。", "第一篇改过的第二段。"]
    assert after[0]["tags"] == ["跨境电商", "数字贸易"]
    assert after[1:] == before[1:]  # nothing else changed
    check_everything(day)


def test_every_shipped_article_reads_back_from_its_printed_form() -> None:
    archive = Archive.open(SHIPPED_ARCHIVE)
    issue = archive.get("2023-06").issue
    for article in issue.articles:
        assert article_text.form_for(article, archive.settings) == article_text.PRINTED, article.id
        text = article_text.render(article, archive.settings, where=article.id)
        assert article_text.parse(text, archive.settings, article.id) == article


@pytest.mark.parametrize(
    "body",
    [
        "第一段。\n\n来源：《人民日报》 2023 年 07 月 01 日\n\n最后一段。",  # looks like an attribution line
        "【行业资讯】\n\n正文。",  # looks like a section header
        "正文。\n\n第 2 页",  # looks like a page number
        "第一段\n第一段的第二行。",  # a line break inside a paragraph
    ],
)
def test_an_article_the_printed_form_cannot_hold_opens_in_the_field_form(
    invoke: Invoke, day: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str
) -> None:
    assert invoke("add", "2023-07", "--title", "怪文", *ADD, "--body", body).exit_code == 0
    archive = Archive.open(day)
    article = archive.get("2023-07").issue.articles[-1]
    assert article.body == body and article_text.form_for(article, archive.settings) == article_text.FIELDS
    seen = tmp_path / "seen.txt"
    monkeypatch.setenv(
        "EDITOR",
        editor(
            tmp_path,
            f"pathlib.Path({str(seen)!r}).write_text(t, 'utf-8')\np.write_text(t.replace('title: 怪文', 'title: 怪文二'), 'utf-8')\n",
        ),
    )
    assert invoke("edit", "2023-07-005").exit_code == 0
    assert seen.read_text("utf-8").count("title: 怪文\n") == 1
    (found,) = [a for a in articles(invoke, "2023-07") if a["id"] == "2023-07-005"]
    assert found["title"] == "怪文二" and "\n\n".join(found["paragraphs"]) == body  # type: ignore[arg-type]


def test_an_edit_that_fails_validation_reopens_with_the_errors_on_top(
    invoke: Invoke, day: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person at a terminal gets the editor again, errors on top, until it is right."""
    rounds = at_a_terminal_with(
        monkeypatch,
        tmp_path,
        "t = t.replace('2023 年 07 月 01 日', '2023 年 02 月 30 日').replace('section: 行业资讯', 'section: 国际')\n"
        "t = t.replace('第二篇。', '我认真改写的第二篇。')",
        "t = t.replace('2023 年 02 月 30 日', '2023 年 07 月 02 日').replace('section: 国际', 'section: 行业资讯')",
    )
    result = invoke("edit", "2023-07-002")
    assert result.exit_code == 0, result.output
    second = (rounds / "1").read_text("utf-8").splitlines()
    assert second[0].startswith(ERROR_PREFIX) and "not a real date" in second[0]
    assert "我认真改写的第二篇。" in (rounds / "1").read_text("utf-8")  # what was typed is there
    found = articles(invoke, "2023-07")[1]
    assert found["date"] == "2023-07-02" and found["paragraphs"] == ["我认真改写的第二篇。"]
    assert not (day / ".ecdigest" / "drafts").exists()


def test_off_a_terminal_a_bad_edit_is_saved_and_applied_later(
    invoke: Invoke, day: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "EDITOR",
        editor(
            tmp_path,
            "p.write_text(t.replace('第二篇。', '我写的新段落。').replace('section: 行业资讯', 'section: 国际'), 'utf-8')\n",
        ),
    )
    path = day / "2023" / "2023-07.toml"
    before = path.read_bytes()
    result = invoke("edit", "2023-07-002")
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert "unknown section '国际'" in line and "nothing was changed, your text is saved in" in line
    assert path.read_bytes() == before
    saved = Path(line.split("saved in ", 1)[1].split(" (", 1)[0])
    text = saved.read_text("utf-8")
    assert text.startswith(ERROR_PREFIX) and "我写的新段落。" in text
    saved.write_text(text.replace("section: 国际", "section: 数据观察"), "utf-8")
    result = invoke("edit", "2023-07-002", "--from-draft", str(saved))
    assert result.exit_code == 0, result.output
    found = articles(invoke, "2023-07")[1]
    assert (found["section"], found["paragraphs"]) == ("数据观察", ["我写的新段落。"])


def test_leaving_the_editor_without_a_change_changes_nothing(
    invoke: Invoke, day: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = day / "2023" / "2023-07.toml"
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    for script in ("pass\n", "import sys\nsys.exit(1)\n"):  # saved as it was; quit with an error
        monkeypatch.setenv("EDITOR", editor(tmp_path, script))
        result = invoke("edit", "2023-07-001")
        assert result.exit_code in (0, 2), result.output
        assert "nothing" in result.stderr and "saved in" not in result.stderr
        assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime
    monkeypatch.setenv("EDITOR", editor(tmp_path, "pass\n"))
    assert invoke("edit", "2023-07").exit_code == 0  # the issue file, left alone
    assert path.read_bytes() == before


def test_an_article_changed_while_the_editor_was_open_is_not_overwritten(
    invoke: Invoke, day: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another editor's change lands while ours is open: ours is saved, theirs kept."""
    other = [
        sys.executable,
        "-m",
        "ecdigest",
        "--archive",
        str(day),
        "edit",
        "2023-07-003",
        "--title",
        "别人改的标题",
    ]
    monkeypatch.setenv(
        "EDITOR",
        editor(
            tmp_path,
            "import subprocess, os\n"
            f"env = dict(os.environ, EDITOR='true')\nsubprocess.run({other!r}, check=True, env=env)\n"
            "p.write_text(t.replace('网络零售额同比增长', '我改的标题'), 'utf-8')\n",
        ),
    )
    result = invoke("edit", "2023-07-003")
    assert result.exit_code == 2
    assert "changed by someone else" in one_line(result.stderr)
    assert articles(invoke, "2023-07")[2]["title"] == "别人改的标题"
    saved = Path(result.stderr.split("saved in ", 1)[1].split(" (", 1)[0])
    assert "我改的标题" in saved.read_text("utf-8")


def test_edit_with_options_changes_fields_without_an_editor(invoke: Invoke, day: Path) -> None:
    assert invoke("edit", "2023-07-002", "--url", "https://example.com/a", "--tag", "海关").exit_code == 0
    result = invoke("edit", "2023-07-002", "--title", "新标题", "--compiled-by", "", "--url", "")
    assert result.exit_code == 0, result.output
    found = articles(invoke, "2023-07")[1]
    assert (found["title"], found["compiled_by"], found["url"], found["tags"]) == (
        "新标题",
        None,
        None,
        ["海关"],
    )
    # A change that makes validate complain is said at once; what it said before, not again.
    future = invoke("edit", "2023-07-002", "--date", "2023-07-12")
    assert future.exit_code == 0 and [
        line.split(": ")[2].split()[0] for line in future.stderr.splitlines()
    ] == ["E302", "E303"]
    again = invoke("edit", "2023-07-002", "--title", "新标题二")
    assert again.exit_code == 0 and again.stderr == ""
    bad = invoke("edit", "2023-07-002", "--section", "国际")
    assert bad.exit_code == 2 and "unknown section" in one_line(bad.stderr)
    wrong = invoke("edit", "2023-07", "--title", "x")
    assert wrong.exit_code == 2 and "is an issue" in one_line(wrong.stderr)
    missing = invoke("edit", "2023-07-099", "--title", "x")
    assert missing.exit_code == 2 and "no article '2023-07-099'" in one_line(missing.stderr)
    check_everything(day)


# =========================================================================== edit an issue file


def test_edit_issue_saves_the_file_as_written_once_it_adds_no_error(
    invoke: Invoke, day: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rounds = at_a_terminal_with(
        monkeypatch,
        tmp_path,
        "t = t.replace('title = \"电子商务动态 2023 年 7 月\"', '# 主编：本期加急\\ntitle = \"电子商务动态 2023 年 7 月（加急）\"')\n"
        "t = t.replace('section = \"数据观察\"', 'section = \"数据\"', 1)",
        "t = t.replace('section = \"数据\"', 'section = \"数据观察\"')",
    )
    result = invoke("edit", "2023-07")
    assert result.exit_code == 0, result.output
    second = (rounds / "1").read_text("utf-8")
    assert second.startswith(ERROR_PREFIX) and "E206" in second.splitlines()[0]
    # The error names the line as the reopened text shows it (below the ERROR line).
    line = int(second.splitlines()[0].split("line ", 1)[1].split(":", 1)[0])
    assert second.splitlines()[line - 1] == 'section = "数据"'
    text = (day / "2023" / "2023-07.toml").read_text("utf-8")
    assert "# 主编：本期加急\n" in text and "（加急）" in text  # saved as written, comment and all
    assert json.loads(invoke("list", "-f", "json").stdout)[0]["title"].endswith("（加急）")
    check_everything(day)


def test_edit_issue_off_a_terminal_saves_a_broken_text(
    invoke: Invoke, day: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "EDITOR", editor(tmp_path, "p.write_text(t.replace('title = ', 'title = = ', 1), 'utf-8')\n")
    )
    before = (day / "2023" / "2023-07.toml").read_bytes()
    result = invoke("edit", "2023-07")
    assert result.exit_code == 2
    assert "E003" in one_line(result.stderr) and "saved in" in result.stderr
    assert (day / "2023" / "2023-07.toml").read_bytes() == before


# =========================================================================== rm


def test_rm_asks_on_a_terminal_and_scripts_say_yes(
    invoke: Invoke, day: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = day / "2023" / "2023-07.toml"
    before = path.read_bytes()
    refused = invoke("rm", "2023-07-002")  # no terminal, no --yes
    assert refused.exit_code == 2 and "--yes" in one_line(refused.stderr)
    import ecdigest.cli.editing_cmds as commands

    monkeypatch.setattr(commands, "stdin_is_terminal", lambda: True)
    kept = invoke("rm", "2023-07-002", input="n\n")
    assert kept.exit_code == 1 and "海关总署" in kept.stderr and path.read_bytes() == before
    gone = invoke("rm", "2023-07-002", "2023-07-004", input="y\n")
    assert gone.exit_code == 0, gone.output
    # (CliRunner echoes the typed answer to stdout)
    assert gone.stdout.endswith(
        "removed 2023-07-002 海关总署：跨境电商进出口增长\nremoved 2023-07-004 直播电商用户规模\n"
    )
    assert [a["id"] for a in articles(invoke, "2023-07")] == ["2023-07-001", "2023-07-003"]
    # The ids are retired: the next article takes a new number.
    assert invoke("add", "2023-07", "--title", "新文", *ADD, "--body", "新。").stdout == "2023-07-005\n"
    unknown = invoke("rm", "--yes", "2023-07-001", "2023-07-404")
    assert unknown.exit_code == 2 and "2023-07-404" in one_line(unknown.stderr)
    assert "2023-07-001" in [a["id"] for a in articles(invoke, "2023-07")]  # all or nothing
    check_everything(day)


def test_rm_from_a_published_issue_needs_force_and_leaves_the_feed(invoke: Invoke, tmp_path: Path) -> None:
    root = tmp_path / "shipped"
    shutil.copytree(SHIPPED_ARCHIVE, root, ignore=shutil.ignore_patterns(".ecdigest"))
    feed = invoke("export", "rss", archive=root).stdout
    assert "ecd/2023-06-005</guid>" in feed
    refused = invoke("rm", "--yes", "2023-06-005", archive=root)
    assert refused.exit_code == 1
    assert "is published" in one_line(refused.stderr) and "--force" in refused.stderr
    result = invoke("rm", "--yes", "--force", "2023-06-005", archive=root)
    assert result.exit_code == 0, result.output
    assert "leaves the feed" in result.stderr and "never used again" in result.stderr
    after = invoke("export", "rss", archive=root).stdout
    assert "ecd/2023-06-005</guid>" not in after and "ecd/2023-06-006</guid>" in after
    assert after.count("<item>") == feed.count("<item>") - 1
    assert (
        invoke("add", "2023-06", "--force", "--title", "补", *ADD, "--body", "补。", archive=root).stdout
        == "2023-06-054\n"
    )
    check_everything(root)


# =========================================================================== mv


def test_mv_to_another_issue_gives_a_new_id_and_retires_the_old(invoke: Invoke, day: Path) -> None:
    result = invoke("mv", "2023-07-002", "--to", "2023-08")
    assert result.exit_code == 0, result.output
    assert result.stdout == "2023-08-001\n"
    assert [a["id"] for a in articles(invoke, "2023-07")] == ["2023-07-001", "2023-07-003", "2023-07-004"]
    (moved,) = articles(invoke, "2023-08")
    assert (moved["id"], moved["title"], moved["section"]) == (
        "2023-08-001",
        "海关总署：跨境电商进出口增长",
        "行业资讯",
    )
    assert invoke("add", "2023-07", "--title", "新文", *ADD, "--body", "新。").stdout == "2023-07-005\n"
    again = invoke("mv", "2023-08-001", "--to", "2023-07", "--section", "数据观察", "--first", "-f", "json")
    assert json.loads(again.stdout) == {
        "article": "2023-07-006", "was": "2023-08-001", "issue": "2023-07", "section": "数据观察", "changed": True,
    }  # fmt: skip
    order = [a["id"] for a in articles(invoke, "2023-07")]
    assert order.index("2023-07-006") == order.index("2023-07-003") - 1  # first of 数据观察
    check_everything(day)


def test_reorders_are_what_show_and_the_exports_print(invoke: Invoke, day: Path) -> None:
    def printed() -> list[str]:
        markdown = invoke("export", "markdown", "2023-07").stdout
        toc = invoke("show", "2023-07", "--toc", "-f", "json").stdout
        order = [a["id"] for a in json.loads(toc)["articles"]]
        assert [m for m in order if f"{m}" in markdown] == order
        positions = [
            markdown.index(f'id="{m}"') if f'id="{m}"' in markdown else markdown.index(m) for m in order
        ]
        assert positions == sorted(positions)  # the page prints them in that order
        return order

    assert printed() == ["2023-07-001", "2023-07-002", "2023-07-003", "2023-07-004"]
    assert invoke("mv", "2023-07-002", "--first").exit_code == 0
    assert printed() == ["2023-07-002", "2023-07-001", "2023-07-003", "2023-07-004"]
    assert invoke("mv", "2023-07-003", "--after", "2023-07-004").exit_code == 0
    assert printed() == ["2023-07-002", "2023-07-001", "2023-07-004", "2023-07-003"]
    assert invoke("mv", "2023-07-002", "--last").exit_code == 0
    assert printed() == ["2023-07-001", "2023-07-002", "2023-07-004", "2023-07-003"]
    assert invoke("mv", "2023-07-001", "--section", "数据观察", "--before", "2023-07-003").exit_code == 0
    assert printed() == ["2023-07-002", "2023-07-004", "2023-07-001", "2023-07-003"]
    text = invoke("show", "2023-07", "--no-pager").stdout
    assert text.index("海关总署") < text.index("直播电商") < text.index("商务部") < text.index("网络零售额")
    same = invoke("mv", "2023-07-002", "--first")
    assert same.exit_code == 0 and "nothing changed" in same.stdout
    across = invoke("mv", "2023-07-002", "--before", "2023-07-003")
    assert across.exit_code == 2 and "--section 数据观察" in one_line(across.stderr)
    elsewhere = invoke("mv", "2023-07-002", "--before", "2023-08-001")
    assert elsewhere.exit_code == 2 and "not in 2023-07" in one_line(elsewhere.stderr)
    both = invoke("mv", "2023-07-002", "--first", "--last")
    assert both.exit_code == 2 and "one of" in one_line(both.stderr)
    check_everything(day)


def test_a_reorder_rewrites_only_the_moved_article(invoke: Invoke, day: Path) -> None:
    path = day / "2023" / "2023-07.toml"
    before = path.read_text("utf-8")
    assert invoke("mv", "2023-07-004", "--first").exit_code == 0
    after = path.read_text("utf-8")
    blocks = lambda text: sorted(block.strip() for block in text.split("\n\n[[articles]]"))  # noqa: E731
    assert blocks(before) == blocks(after) and before != after


# =========================================================================== unpublish


def test_unpublish_once_built_needs_force_and_says_what_readers_keep(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "shipped"
    shutil.copytree(SHIPPED_ARCHIVE, root, ignore=shutil.ignore_patterns(".ecdigest"))
    monkeypatch.chdir(tmp_path)
    assert invoke("publish", "2023-06", archive=root).exit_code == 0
    unbuilt = tmp_path / "elsewhere"
    assert invoke("unpublish", "2023-06", "--site", str(unbuilt), archive=root).exit_code == 0
    assert json.loads(invoke("list", "-f", "json", archive=root).stdout)[0]["status"] == "draft"
    assert invoke("publish", "2023-06", archive=root).exit_code == 0
    assert invoke("build", archive=root).exit_code == 0  # ./site, where unpublish looks by default
    refused = invoke("unpublish", "2023-06", archive=root)
    assert refused.exit_code == 1
    line = one_line(refused.stderr)
    assert "has gone out" in line and "site" in line and "2023-06.md" in line and "feed.xml" in line
    assert "--force" in line
    assert json.loads(invoke("list", "-f", "json", archive=root).stdout)[0]["status"] == "published"
    done = invoke("unpublish", "2023-06", "--force", archive=root)
    assert done.exit_code == 0 and done.stdout == "unpublished 2023-06 (a draft again)\n"
    assert "readers keep what they fetched" in done.stderr
    again = invoke("unpublish", "2023-06", archive=root)
    assert again.exit_code == 0 and "not published" in again.stdout
    assert (tmp_path / "site" / "2023-06.html").is_file()
    rebuilt = invoke("build", archive=root)
    assert rebuilt.exit_code == 0 and "0 published issues" in rebuilt.stdout
    assert not (tmp_path / "site" / "2023-06.html").exists()  # taken out of the site, as it said
    feed = tmp_path / "site" / "feed.xml"  # no published issue left: no feed at all
    assert not feed.exists() or "ecd/2023-06-001<" not in feed.read_text("utf-8")


# =========================================================================== add's guard rails


def test_add_warns_at_once_about_what_validate_will_say(invoke: Invoke, tmp_path: Path) -> None:
    root = tmp_path / "shipped"
    shutil.copytree(SHIPPED_ARCHIVE, root, ignore=shutil.ignore_patterns(".ecdigest"))
    assert invoke("new", "--id", "2023-07", "--date", "2023-07-05", archive=root).exit_code == 0
    shipped_body = Archive.open(root).get("2023-06").issue.articles[2].body
    result = invoke(
        "add", "2023-07", "--title", "商务部：把握跨境电商发展机遇 推进贸易数字化应用！", "--section", "行业资讯",
        "--source", "《人民日报”", "--date", "2023-07-12", "--body", shipped_body, archive=root,
    )  # fmt: skip
    assert result.exit_code == 0 and result.stdout == "2023-07-001\n"
    codes = [line.split(": ")[2].split()[0] for line in result.stderr.splitlines()]
    assert sorted(codes) == ["E302", "E303", "E401", "W601", "W603"], result.stderr
    assert "2023-06-001" in result.stderr and "2023-06-003" in result.stderr
    # validate says the same things about it
    report = json.loads(invoke("validate", "2023-07", "-f", "json", archive=root).stdout)
    assert {p["code"] for p in report if p["article"] == "2023-07-001"} >= set(codes)
    quiet = invoke("add", "2023-07", "--title", "全新的标题", *ADD, "--body", "全新的正文。", archive=root)
    assert quiet.exit_code == 0 and quiet.stderr == ""
    refused = invoke("add", "2023-06", "--title", "迟到", *ADD, "--body", "迟到。", archive=root)
    assert refused.exit_code == 1 and "is published" in one_line(refused.stderr)
    assert (
        invoke(
            "add", "2023-06", "--force", "--title", "迟到", *ADD, "--body", "迟到。", archive=root
        ).exit_code
        == 0
    )


# =========================================================================== show


def test_show_one_article_the_contents_and_a_section(invoke: Invoke, day: Path) -> None:
    one = invoke("show", "2023-07-003")
    assert one.exit_code == 0, one.output
    assert one.stdout.startswith(
        "2023-07 · 数据观察 · 3 of 4 · 电子商务动态 2023 年 7 月\n\n网络零售额同比增长\n"
    )
    assert "来源：《人民日报》" in one.stdout and "海关总署" not in one.stdout
    data = json.loads(invoke("show", "2023-07-003", "-f", "json").stdout)
    assert (data["issue"], data["id"], data["paragraphs"]) == ("2023-07", "2023-07-003", ["第三篇。"])
    assert data["words"] == count_article(Archive.open(day).get("2023-07").issue.articles[2]).words
    toc = invoke("show", "2023-07", "--toc").stdout
    assert toc.splitlines()[3:] == [
        "【行业资讯】 2 articles",
        "1. 2023-07-001  商务部：推进贸易数字化",
        "2. 2023-07-002  海关总署：跨境电商进出口增长",
        "",
        "【数据观察】 2 articles",
        "3. 2023-07-003  网络零售额同比增长",
        "4. 2023-07-004  直播电商用户规模",
    ]
    section = invoke("show", "2023-07", "--section", "数据观察").stdout
    assert "3. 网络零售额同比增长" in section and "商务部" not in section
    assert [
        a["number"]
        for a in json.loads(invoke("show", "2023-07", "--section", "数据观察", "-f", "json").stdout)[
            "articles"
        ]
    ] == [3, 4]
    bad = invoke("show", "2023-07", "--section", "国际")
    assert bad.exit_code == 2 and "unknown section" in one_line(bad.stderr)
    mixed = invoke("show", "2023-07-003", "--toc")
    assert mixed.exit_code == 2 and "is an article" in one_line(mixed.stderr)
    nowhere = invoke("show", "2023-07-099")
    assert nowhere.exit_code == 2 and "2023-07-001" in one_line(nowhere.stderr)


@pytest.mark.parametrize("args", [("edit", "2023-07-001"), ("edit", "2023-07"), ("add", "2023-07", "--edit")])
def test_off_a_terminal_no_editor_is_started_unless_one_is_named(day: Path, args: tuple[str, ...]) -> None:
    """A script (stdin not a terminal) that names no $EDITOR gets one error line at once,
    not a vi waiting for keys nobody types; the file is unchanged."""
    from conftest import run_cli

    path = day / "2023" / "2023-07.toml"
    before = path.read_bytes()
    env = {"EDITOR": "", "VISUAL": ""}
    result = run_cli(["--archive", str(day), *args], input=b"", env=env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.decode().startswith("ecdigest: error: no terminal to open an editor on")
    assert result.stderr.count(b"\n") == 1 and path.read_bytes() == before
