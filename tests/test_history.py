"""The archive's history in real git repositories: a day of changes, `log`, `undo`, hand
edits, other people's commits, and two editors' clones merging changes to one issue.

Git's identity is configured here, per test (a private global config file and each
clone's own user.name/user.email), never on the machine; .ci/run installs git.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import SHIPPED_ARCHIVE, Invoke
from test_catalog import check_everything

from ecdigest.archive import Archive
from ecdigest.codec import encode_issue

ADD = ("--section", "行业资讯", "--source", "《人民日报》", "--date", "2023-07-01")


@pytest.fixture(autouse=True)
def git_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A global git config of this test's own: an identity, a default branch, no system config."""
    config = tmp_path / "gitconfig"
    config.write_text(
        "[user]\n\tname = 张编辑\n\temail = zhang@example.org\n[init]\n\tdefaultBranch = main\n"
        "[pull]\n\trebase = false\n",
        "utf-8",
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    return config


def git(cwd: Path, *args: str, check: bool = True) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check:
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def subjects(cwd: Path) -> list[str]:
    return git(cwd, "log", "--format=%s").splitlines()


def ok(result: object) -> None:
    assert getattr(result, "exit_code") == 0, getattr(result, "output")  # noqa: B009


@pytest.fixture
def repo(invoke: Invoke, tmp_path: Path) -> Path:
    """A new archive with history on, in a new git repository, with a draft 2023-07."""
    root = tmp_path / "ecd"
    ok(invoke("init", str(root), "--git", "--link", "https://ecd.example.com/"))
    ok(invoke("new", "--id", "2023-07", "--date", "2023-07-05", archive=root))
    return root


def test_a_day_of_changes_is_a_commit_each_with_its_story(invoke: Invoke, repo: Path, tmp_path: Path) -> None:
    def run(*args: str) -> str:
        result = invoke(*args, archive=repo)
        ok(result)
        return result.stdout

    run("add", "2023-07", "--title", "商务部：推进贸易数字化", *ADD, "--body", "第一段。")
    run("add", "2023-07", "--title", "海关总署：跨境电商进出口增长", *ADD, "--body", "第二篇,有半角逗号。")
    run("add", "2023-07", "--title", "网络零售额同比增长", *ADD, "--body", "第三篇。")
    run("edit", "2023-07-001", "--title", "商务部：加快推进贸易数字化")
    run("new", "--id", "2023-08", "--date", "2023-08-05")
    run("mv", "2023-07-003", "--to", "2023-08")
    run("mv", "2023-07-002", "--first")
    run("validate", "--fix", "2023-07")
    run("rm", "--yes", "2023-07-001")
    run("publish", "2023-07")
    run("unpublish", "2023-07", "--site", str(tmp_path / "no-site"))
    text = tmp_path / "one.txt"
    text.write_text(
        "【数据观察】\n直播电商用户规模\n\n第四篇。\n\n来源：“央广网” 2023 年 07 月 02 日\n", "utf-8"
    )
    run("add", "2023-08", "--from-text", str(text))
    assert subjects(repo) == [
        "add 2023-08-002 直播电商用户规模",
        "unpublish 2023-07",
        "publish 2023-07",
        "rm 2023-07-001 商务部：加快推进贸易数字化",
        "fix 2023-07 (1 safe fix)",
        "mv 2023-07-002 海关总署：跨境电商进出口增长",
        "mv 2023-07-003 → 2023-08-001 网络零售额同比增长",
        "new 2023-08 电子商务动态 2023 年 8 月",
        "edit 2023-07-001 商务部：加快推进贸易数字化",
        "add 2023-07-003 网络零售额同比增长",
        "add 2023-07-002 海关总署：跨境电商进出口增长",
        "add 2023-07-001 商务部：推进贸易数字化",
        "new 2023-07 电子商务动态 2023 年 7 月",
        "init 电子商务动态",
    ]
    assert set(git(repo, "log", "--format=%an <%ae>").splitlines()) == {"张编辑 <zhang@example.org>"}
    assert git(repo, "status", "--porcelain") == ""  # everything the tool wrote is committed
    # ECDIGEST_NOW fixes the commits' dates too (reproducible runs)
    assert set(git(repo, "log", "--format=%aI").split()) == {"2023-07-10T09:00:00+08:00"}
    # One article's story, through its move (2023-07-003 became 2023-08-001).
    story = run("log", "2023-08-001")
    assert [line.split("  ", 3)[3] for line in story.splitlines()] == [
        "mv 2023-07-003 → 2023-08-001 网络零售额同比增长",
        "add 2023-07-003 网络零售额同比增长",
    ]
    assert story.splitlines()[0].split("  ")[2] == "张编辑"
    removed = json.loads(run("log", "2023-07-001", "-f", "json"))
    assert [c["change"] for c in removed] == ["rm", "edit", "add"]
    assert removed[0]["articles"] == ["2023-07-001"] and removed[0]["issues"] == ["2023-07"]
    issue = [c["subject"] for c in json.loads(run("log", "2023-08", "-f", "json"))]
    assert issue == [
        "add 2023-08-002 直播电商用户规模",
        "mv 2023-07-003 → 2023-08-001 网络零售额同比增长",
        "new 2023-08 电子商务动态 2023 年 8 月",
    ]
    assert len(run("log").splitlines()) == 14
    check_everything(repo)


def test_hand_edits_are_committed_on_their_own_and_undo_takes_back_only_the_tools_change(
    invoke: Invoke, repo: Path
) -> None:
    ok(invoke("add", "2023-07", "--title", "第一篇", *ADD, "--body", "第一段。", archive=repo))
    path = repo / "2023" / "2023-07.toml"
    path.write_text(path.read_text("utf-8").replace("第一段。", "亲手改的第一段。"), "utf-8")
    ok(invoke("add", "2023-07", "--title", "第二篇", *ADD, "--body", "第二段。", archive=repo))
    assert subjects(repo)[:3] == [
        "add 2023-07-002 第二篇",
        "hand edits to 2023/2023-07.toml",
        "add 2023-07-001 第一篇",
    ]
    assert "Ecdigest-Change: hand-edits" in git(repo, "log", "-1", "--format=%B", "HEAD~1")
    log = invoke("log", "2023-07-001", archive=repo).stdout
    assert "hand edits to 2023/2023-07.toml (by hand)" not in log  # its own trailer: the tool's
    assert "hand edits" in log  # found by the article's lines (git log -L)
    result = invoke("undo", archive=repo)
    ok(result)
    assert result.stdout.startswith("undid ") and "add 2023-07-002 第二篇" in result.stdout
    text = path.read_text("utf-8")
    assert "亲手改的第一段。" in text and "第二篇" not in text
    assert subjects(repo)[0] == "undo add 2023-07-002 第二篇"
    # Again: the change before it, add 2023-07-001, whose lines the hand edits changed since:
    # git cannot take it back alone, and nothing changes.
    before = path.read_bytes()
    again = invoke("undo", archive=repo)
    assert again.exit_code == 2 and "2023-07-001 was changed since" in again.stderr
    assert "ecdigest rm 2023-07-001" in again.stderr
    assert path.read_bytes() == before and git(repo, "status", "--porcelain") == ""
    check_everything(repo)


def test_undo_again_takes_back_the_change_before(invoke: Invoke, repo: Path) -> None:
    path = repo / "2023" / "2023-07.toml"
    ok(invoke("add", "2023-07", "--title", "第一篇", *ADD, "--body", "第一段。", archive=repo))
    ok(invoke("add", "2023-07", "--title", "第二篇", *ADD, "--body", "第二段。", archive=repo))
    assert invoke("undo", "--dry-run", archive=repo).stdout == "would undo " + git(
        repo, "log", "-1", "--format=%h %s"
    )
    ok(invoke("undo", archive=repo))
    ok(invoke("undo", archive=repo))
    issue = Archive.open(repo).get("2023-07").issue
    assert issue.articles == () and issue.last_article_number == 2  # the ids stay taken
    assert (
        invoke("add", "2023-07", "--title", "第三篇", *ADD, "--body", "第三段。", archive=repo).stdout
        == "2023-07-003\n"
    )
    ok(invoke("undo", archive=repo))
    ok(invoke("undo", archive=repo))  # the new issue
    assert not path.exists()
    nothing = invoke("undo", archive=repo)  # only init is left, which undo does not take back
    assert nothing.exit_code == 2 and "init" in nothing.stderr
    assert subjects(repo)[:4] == [
        "undo new 2023-07 电子商务动态 2023 年 7 月",
        "undo add 2023-07-003 第三篇",
        "add 2023-07-003 第三篇",
        "undo add 2023-07-001 第一篇",
    ]
    check_everything(repo)


def test_undo_never_takes_back_another_persons_commit(invoke: Invoke, repo: Path, tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(repo), str(origin))
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "fetch", "--quiet", "origin")
    git(repo, "branch", "--quiet", "--set-upstream-to=origin/main")
    other = tmp_path / "li"
    git(tmp_path, "clone", "--quiet", str(origin), str(other))
    git(other, "config", "user.name", "李编辑")
    git(other, "config", "user.email", "li@example.org")
    ok(invoke("add", "2023-07", "--title", "张的文章", *ADD, "--body", "张写的。", archive=repo))
    git(repo, "push", "--quiet", "origin", "main")
    git(other, "pull", "--quiet")
    ok(invoke("new", "--id", "2023-08", "--date", "2023-08-05", archive=other))
    ok(invoke("add", "2023-08", "--title", "李的文章", *ADD, "--body", "李写的。", archive=other))
    git(other, "push", "--quiet")
    git(repo, "pull", "--quiet")
    assert subjects(repo)[:3] == [
        "add 2023-08-001 李的文章",
        "new 2023-08 电子商务动态 2023 年 8 月",
        "add 2023-07-001 张的文章",
    ]
    result = invoke("undo", archive=repo)  # 张's last change, under 李's two
    ok(result)
    assert "张的文章" in result.stdout
    archive = Archive.open(repo)
    assert archive.get("2023-07").issue.articles == ()
    assert [a.title for a in archive.get("2023-08").issue.articles] == ["李的文章"]
    git(repo, "push", "--quiet")
    git(other, "pull", "--quiet")
    mine = invoke("undo", archive=other)  # 李 undoes 李's own, never 张's
    ok(mine)
    assert "李的文章" in mine.stdout and Archive.open(other).get("2023-08").issue.articles == ()
    # 张 adds again, 李 adds after it (next to it, in one issue): git cannot revert 张's add
    # alone (the lines touch), and undo says what does it instead.
    ok(invoke("add", "2023-07", "--title", "张的第二篇", *ADD, "--body", "张又写的。", archive=repo))
    git(repo, "pull", "--quiet")
    git(repo, "push", "--quiet")
    git(other, "pull", "--quiet")
    ok(invoke("add", "2023-07", "--title", "李的第二篇", *ADD, "--body", "李又写的。", archive=other))
    git(other, "push", "--quiet")
    git(repo, "pull", "--quiet")
    touching = invoke("undo", archive=repo)  # git cannot; article by article, it can
    ok(touching)
    assert "张的第二篇" in touching.stdout
    issue = Archive.open(repo).get("2023-07").issue
    assert [a.title for a in issue.articles] == ["李的第二篇"] and issue.last_article_number == 3
    assert git(repo, "status", "--porcelain") == ""
    # 李 edits 张's article after 张 added it: that, undo does not take back.
    ok(invoke("add", "2023-07", "--title", "张的第三篇", *ADD, "--body", "张三写的。", archive=repo))
    git(repo, "push", "--quiet")
    git(other, "pull", "--quiet")
    ok(invoke("edit", "2023-07-004", "--title", "李改的张的第三篇", archive=other))
    git(other, "push", "--quiet")
    git(repo, "pull", "--quiet")
    before = (repo / "2023" / "2023-07.toml").read_bytes()
    changed = invoke("undo", archive=repo)
    assert changed.exit_code == 2 and "2023-07-004 was changed since" in changed.stderr
    assert "ecdigest rm 2023-07-004" in changed.stderr
    assert (repo / "2023" / "2023-07.toml").read_bytes() == before and git(
        repo, "status", "--porcelain"
    ) == ""
    # Someone with no change of their own has nothing to undo.
    git(repo, "config", "user.email", "wang@example.org")
    nothing = invoke("undo", archive=repo)
    assert (
        nothing.exit_code == 1
        and "nothing to undo" in nothing.stderr
        and "wang@example.org" in nothing.stderr
    )


def test_undo_refuses_when_it_would_mix_with_changes_not_its_own(invoke: Invoke, repo: Path) -> None:
    ok(invoke("add", "2023-07", "--title", "第一篇", *ADD, "--body", "第一段。", archive=repo))
    ok(invoke("edit", "2023-07-001", "--title", "改过的第一篇", archive=repo))
    path = repo / "2023" / "2023-07.toml"
    path.write_text(path.read_text("utf-8").replace("第一段。", "未提交的改动。"), "utf-8")
    dirty = invoke("undo", archive=repo)
    assert dirty.exit_code == 2 and "not committed" in dirty.stderr
    assert "未提交的改动。" in path.read_text("utf-8") and "改过的第一篇" in path.read_text("utf-8")
    # Committed by hand, a later change to the very same line: git cannot take ours back alone.
    path.write_text(path.read_text("utf-8").replace("改过的第一篇", "亲手再改的第一篇"), "utf-8")
    git(repo, "commit", "--quiet", "-am", "亲手修改")
    before = path.read_bytes()
    conflict = invoke("undo", archive=repo)
    assert conflict.exit_code == 2 and "2023-07-001 was changed since" in conflict.stderr
    assert path.read_bytes() == before and git(repo, "status", "--porcelain") == ""


def test_with_history_on_nothing_is_written_unless_it_can_be_committed(
    invoke: Invoke, repo: Path, tmp_path: Path, git_identity: Path
) -> None:
    path = repo / "2023" / "2023-07.toml"
    before = path.read_bytes()
    git_identity.write_text("[user]\n\tuseConfigOnly = true\n", "utf-8")  # git knows nobody
    nobody = invoke("add", "2023-07", "--title", "t", *ADD, "--body", "b", archive=repo)
    assert nobody.exit_code == 2 and "user.email" in nobody.stderr
    assert path.read_bytes() == before
    fresh = invoke("init", str(tmp_path / "fresh"), "--git")
    assert fresh.exit_code == 2 and "user.email" in fresh.stderr and not (tmp_path / "fresh").exists()
    elsewhere = tmp_path / "no-repo"
    shutil.copytree(repo, elsewhere, ignore=shutil.ignore_patterns(".git"))
    outside = invoke("add", "2023-07", "--title", "t", *ADD, "--body", "b", archive=elsewhere)
    assert outside.exit_code == 2 and "not in a git repository" in outside.stderr
    assert "[history] git = false" in outside.stderr  # the way out when committing is on
    assert (elsewhere / "2023" / "2023-07.toml").read_bytes() == before


def test_log_without_a_repository_says_how_to_start_one(invoke: Invoke, archive_dir: Path) -> None:
    result = invoke("log", archive=archive_dir)
    assert (
        result.exit_code == 2 and "not in a git repository" in result.stderr and "git init" in result.stderr
    )
    assert "git = false" not in result.stderr  # history is off already: reading needs a repository


# =========================================================================== two editors, one issue


def _clone(tmp_path: Path, origin: Path, name: str, email: str) -> Path:
    clone = tmp_path / email.split("@")[0]
    git(tmp_path, "clone", "--quiet", str(origin), str(clone))
    git(clone, "config", "user.name", name)
    git(clone, "config", "user.email", email)
    return clone


def test_two_editors_clones_merge_changes_to_different_articles_of_one_issue(
    invoke: Invoke, tmp_path: Path
) -> None:
    """Each round: 张 changes one article and pushes, 李 changes another in the same
    issue and pulls (a real merge), then pushes; no round may conflict, and both
    changes must be in the result."""
    root = tmp_path / "start"
    shutil.copytree(SHIPPED_ARCHIVE, root, ignore=shutil.ignore_patterns(".ecdigest"))
    settings = root / "ecdigest.toml"
    settings.write_text(settings.read_text("utf-8").replace("git = false", "git = true"), "utf-8")
    assert Archive.open(root).settings.history_git
    git(root, "init", "--quiet")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "start")
    ok(invoke("new", "--id", "2023-07", "--date", "2023-07-05", archive=root))
    for n in range(1, 7):
        ok(
            invoke(
                "add",
                "2023-07",
                "--title",
                f"第{n}篇的标题",
                *ADD,
                "--body",
                f"第{n}篇的正文。",
                archive=root,
            )
        )
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(root), str(origin))
    zhang = _clone(tmp_path, origin, "张编辑", "zhang@example.org")
    li = _clone(tmp_path, origin, "李编辑", "li@example.org")
    rounds = [
        # (张's command, 李's command): different articles of 2023-07
        (
            ("edit", "2023-07-006", "--body", "第6篇改过的正文。"),
            ("add", "2023-07", "--title", "李加的", *ADD, "--body", "新。"),
        ),
        (("edit", "2023-07-005", "--body", "第5篇改过的正文。"), ("rm", "--yes", "2023-07-006")),
        (
            ("edit", "2023-07-003", "--title", "第3篇新标题"),
            ("edit", "2023-07-004", "--body", "第4篇改过的正文。"),
        ),
        (("edit", "2023-07-002", "--body", "第2篇改过的正文。"), ("mv", "2023-07-004", "--first")),
        (("mv", "2023-07-001", "--last"), ("edit", "2023-07-003", "--body", "第3篇改过的正文。")),
        (("edit", "2023-07-007", "--tag", "直播"), ("mv", "2023-07-005", "--section", "数据观察")),
        (("rm", "--yes", "2023-07-002"), ("edit", "2023-07-001", "--title", "第1篇新标题")),
    ]
    for mine, theirs in rounds:
        ok(invoke(*mine, archive=zhang))
        git(zhang, "push", "--quiet")
        ok(invoke(*theirs, archive=li))
        merged = subprocess.run(
            ["git", "pull", "--no-edit"], cwd=li, capture_output=True, text=True, check=False
        )
        assert merged.returncode == 0, (mine, theirs, merged.stdout, merged.stderr)
        git(li, "push", "--quiet")
        git(zhang, "pull", "--quiet")
        assert (zhang / "2023" / "2023-07.toml").read_bytes() == (li / "2023" / "2023-07.toml").read_bytes()
    found = {
        a["id"]: a for a in json.loads(invoke("export", "json", "2023-07", archive=li).stdout)["articles"]
    }
    assert sorted(found) == ["2023-07-001", "2023-07-003", "2023-07-004", "2023-07-005", "2023-07-007"]
    assert found["2023-07-001"]["title"] == "第1篇新标题"
    assert found["2023-07-003"]["title"] == "第3篇新标题" and found["2023-07-003"]["paragraphs"] == [
        "第3篇改过的正文。"
    ]
    assert found["2023-07-004"]["paragraphs"] == ["第4篇改过的正文。"]
    assert found["2023-07-005"]["section"] == "数据观察" and found["2023-07-005"]["paragraphs"] == [
        "第5篇改过的正文。"
    ]
    assert found["2023-07-007"]["tags"] == ["直播"]
    order = [a["id"] for a in json.loads(invoke("export", "json", "2023-07", archive=li).stdout)["articles"]]
    assert order.index("2023-07-004") < order.index("2023-07-003") < order.index("2023-07-001")
    check_everything(li)


def test_one_articles_change_touches_only_its_own_lines(invoke: Invoke, repo: Path) -> None:
    for n in range(1, 5):
        ok(
            invoke(
                "add",
                "2023-07",
                "--title",
                f"第{n}篇",
                *ADD,
                "--body",
                f"第{n}篇。\n\n第二段。",
                archive=repo,
            )
        )
    path = repo / "2023" / "2023-07.toml"
    for article, args in (
        ("2023-07-002", ("--title", "新标题")),
        ("2023-07-004", ("--body", "只改最后一篇。")),
        ("2023-07-001", ("--tag", "跨境电商", "--url", "https://example.com/a")),
    ):
        text = path.read_text("utf-8").splitlines()
        start = text.index(f'id = "{article}"') - 1  # its [[articles]] line
        end = next((i for i in range(start + 1, len(text)) if text[i] == "[[articles]]"), len(text)) - 1
        ok(invoke("edit", article, *args, archive=repo))
        diff = git(repo, "show", "--unified=0", "--format=", "HEAD")
        hunks = [line for line in diff.splitlines() if line.startswith("@@")]
        assert hunks
        for hunk in hunks:  # @@ -a,b +c,d @@: the old lines a..a+b-1 lie inside the article
            old = hunk.split()[1][1:].split(",")
            first, count = int(old[0]), int(old[1]) if len(old) > 1 else 1
            lines = range(first, first + count) if count else range(first, first + 1)
            assert all(start + 1 <= n <= end + 1 for n in lines), (article, hunk, start, end)


# =========================================================================== the file layout, every pair


def test_the_file_layout_merges_every_pair_of_changes_to_different_articles(tmp_path: Path) -> None:
    """Every pair of changes to two different articles of a six-article issue (edit the
    end of a body, edit a title, move first or last, remove, add), each made on its own
    branch and merged by git. An edit merges with anything; so do two changes to where
    articles stand (remove, move, add) unless they touch: neighbouring articles, or one
    place (two articles moved or added to the end). Those are the only conflicts, as in
    any file of lines. The blank line after the last article is what lets the pairs
    around the file's end merge (codec._closed)."""
    import datetime as dt
    import tomllib

    from ecdigest.codec import decode_issue
    from ecdigest.model import Article, Issue

    base = Archive.open(SHIPPED_ARCHIVE).get("2023-06").issue
    base = replace(base, articles=base.articles[:6], status="draft")
    ids = [a.id for a in base.articles]
    end = len(ids)

    def edit(field: str) -> Callable[[Issue, int], Issue]:
        def change(issue: Issue, k: int) -> Issue:
            return replace(issue, articles=tuple(
                replace(a, **{field: getattr(a, field) + "补"}) if a.id == ids[k] else a for a in issue.articles
            ))  # fmt: skip

        return change

    def remove(issue: Issue, k: int) -> Issue:
        return replace(issue, articles=tuple(a for a in issue.articles if a.id != ids[k]))

    def move(last: bool) -> Callable[[Issue, int], Issue]:
        def change(issue: Issue, k: int) -> Issue:
            moved = next(a for a in issue.articles if a.id == ids[k])
            rest = [a for a in issue.articles if a.id != ids[k]]
            return replace(issue, articles=tuple([*rest, moved] if last else [moved, *rest]))

        return change

    def add(issue: Issue, _k: int) -> Issue:
        new = Article(
            id="2023-06-099",
            section="行业资讯",
            title="新",
            source="《x》",
            date=dt.date(2023, 6, 1),
            body="新。",
        )
        return issue.with_article(new, 99)

    # name -> (change, whether it moves articles, the places it touches: ("a", i) the
    # article at i, ("g", i) the gap before article i)
    changes: dict[str, tuple[Callable[[Issue, int], Issue], bool, Callable[[int], set[tuple[str, int]]]]] = {
        "body": (edit("body"), False, lambda k: {("a", k)}),
        "title": (edit("title"), False, lambda k: {("a", k)}),
        "first": (move(False), True, lambda k: {("a", k), ("g", 0)}),
        "last": (move(True), True, lambda k: {("a", k), ("g", end)}),
        "rm": (remove, True, lambda k: {("a", k)}),
        "add": (add, True, lambda k: {("g", end)}),
    }

    def near(x: tuple[str, int], y: tuple[str, int]) -> bool:
        if x[0] == y[0] == "a":
            return abs(x[1] - y[1]) <= 1
        if x[0] == y[0] == "g":
            return x[1] == y[1]
        article, gap = (x, y) if x[0] == "a" else (y, x)
        return gap[1] in (article[1], article[1] + 1)

    # git's own three-way merge of file contents (what `git merge` does for a file both
    # sides changed), one process per pair instead of branches and commits.
    base_file, ours_file, theirs_file = (tmp_path / name for name in ("base.toml", "one.toml", "two.toml"))
    base_file.write_text(encode_issue(base), "utf-8")
    unexpected, touching_conflicts, merged_cases = [], 0, 0
    for name_a, (a, moves_a, places_a) in changes.items():
        for name_b, (b, moves_b, places_b) in changes.items():
            for i in range(1 if name_a == "add" else end):
                for j in range(1 if name_b == "add" else end):
                    if name_a == name_b == "add" or (i == j and "add" not in (name_a, name_b)):
                        continue
                    touching = (
                        moves_a and moves_b and any(near(x, y) for x in places_a(i) for y in places_b(j))
                    )
                    ours_file.write_text(encode_issue(a(base, i)), "utf-8")
                    theirs_file.write_text(encode_issue(b(base, j)), "utf-8")
                    merged = subprocess.run(
                        ["git", "merge-file", "-p", str(ours_file), str(base_file), str(theirs_file)],
                        capture_output=True, text=True, check=False,
                    )  # fmt: skip
                    if merged.returncode != 0:
                        touching_conflicts += touching
                        if not touching:
                            unexpected.append((name_a, ids[i], name_b, ids[j], "conflict"))
                        continue
                    merged_cases += 1
                    got = decode_issue(tomllib.loads(merged.stdout))[0]
                    both = b(a(base, i), j)
                    if {x.id: x for x in got.articles} != {x.id: x for x in both.articles}:
                        unexpected.append((name_a, ids[i], name_b, ids[j], "a change was lost"))
    assert not unexpected, unexpected[:10]
    assert merged_cases > 500 and touching_conflicts > 0  # the limit is real, and it is the only one
    # Without the closing blank line (the layout before issue 12) the pairs at the end conflict.
    for one, two in (
        (edit("body")(base, end - 1), add(base, 0)),
        (edit("body")(base, end - 2), remove(base, end - 1)),
    ):
        for path, issue in ((base_file, base), (ours_file, one), (theirs_file, two)):
            path.write_text(encode_issue(issue).removesuffix("\n\n") + "\n", "utf-8")
        old = subprocess.run(["git", "merge-file", "-p", str(ours_file), str(base_file), str(theirs_file)],
                             capture_output=True, check=False)  # fmt: skip
        assert old.returncode != 0
