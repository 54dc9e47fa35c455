"""Shell completion: what `ecdigest __complete` answers (the installed command, through the
launcher's fast path), that it stays the Typer app's own table, and the bash, zsh and fish
scripts in the real shells (.ci/run installs zsh and fish)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _hardening import cli_env, ecdigest_argv
from conftest import SHIPPED_ARCHIVE, Invoke
from test_hardening_startup import loaded_by

from ecdigest import completion

UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("completion") / "archive"
    shutil.copytree(SHIPPED_ARCHIVE, root, ignore=shutil.ignore_patterns(".ecdigest"))
    return root


def complete(*words: str, shell: str = "bash", index: int | None = None, **env: str) -> list[str]:
    """The answer of `ecdigest __complete` for `words` (the last one being completed)."""
    at = len(words) - 1 if index is None else index
    result = subprocess.run(
        [*ecdigest_argv(), "__complete", shell, str(at), "--", *words],
        capture_output=True, text=True, env=cli_env(**env), timeout=60, check=False, cwd=env.get("CWD"),
    )  # fmt: skip
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return result.stdout.splitlines()


def test_the_table_is_the_typer_apps_own() -> None:
    """data/completion.json is generated from the app: a new option cannot be forgotten."""
    from ecdigest.cli.completion_cmd import generate

    path = Path(completion.__file__).parent / "data" / completion.SPEC_FILE
    if UPDATE:
        path.write_text(generate(), "utf-8")
    assert path.read_text("utf-8") == generate(), "run UPDATE_GOLDEN=1 pytest tests/test_completion.py"
    commands = completion.spec()["commands"]
    assert "__complete" not in commands and {"edit", "rm", "mv", "show", "log", "undo"} <= set(commands)
    assert commands["mv"]["options"]["--before"] == "article" and commands["mv"]["options"]["--to"] == "issue"
    assert commands["rm"]["args"] == ["article"] and commands["rm"]["variadic"]
    assert commands["export"]["commands"]["rss"]["options"]["-f"] == ["rss", "atom"]


def test_a_partial_article_id_completes_to_the_articles(archive: Path) -> None:
    found = complete("--archive", str(archive), "show", "2023-06-00")
    assert found == [f"2023-06-00{n}" for n in range(1, 10)]
    titled = complete("--archive", str(archive), "edit", "2023-06-00", shell="fish")
    assert titled[0] == "2023-06-001\t商务部：把握跨境电商发展机遇 推进贸易数字化应用"
    described = complete("-a", str(archive), "rm", "2023-06-001", "2023-06-05", shell="zsh")
    assert described[0] == "2023-06-050:中国数字经济呈六大发展趋势"
    assert [line.split(":", 1)[0] for line in described] == [
        "2023-06-050",
        "2023-06-051",
        "2023-06-052",
        "2023-06-053",
    ]


def test_many_articles_narrow_to_their_issues_first(archive: Path, tmp_path: Path) -> None:
    root = tmp_path / "two"
    shutil.copytree(archive, root, ignore=shutil.ignore_patterns(".ecdigest"))
    text = (root / "2023" / "2023-06.toml").read_text("utf-8").replace("2023-06", "2023-05")
    (root / "2023" / "2023-05.toml").write_text(text, "utf-8")
    assert complete("-a", str(root), "mv", "") == ["2023-05-", "2023-06-"]  # 106 articles: issues first
    assert len(complete("-a", str(root), "mv", "2023-06-")) == 53
    show = complete("-a", str(root), "show", "", shell="fish")
    assert show == [
        "2023-06\t2023-06-05 · published · 电子商务动态 2023 年 6 月",
        "2023-05\t2023-05-05 · published · 电子商务动态 2023 年 6 月",  # the copy kept its title
        "2023-05-\t53 articles",
        "2023-06-\t53 articles",
    ]


def test_commands_options_and_values(archive: Path) -> None:
    a = ("--archive", str(archive))
    commands = complete("")
    assert {"add", "edit", "rm", "mv", "show", "log", "undo", "completion"} <= set(commands)
    assert "__complete" not in commands and complete("ex") == ["export"]
    assert complete("--ar") == ["--archive"]
    assert complete(*a, "add", "--ti") == ["--title"]
    assert complete(*a, "add", "2023-06", "--section", "") == ["行业资讯", "政策法规", "数据观察", "专家视点"]
    sources = complete(*a, "add", "--source", "“")
    assert "“央广网”" in sources and all(s.startswith("“") for s in sources)
    assert complete(*a, "add", "--source", "《电子") == ["《电子商务动态》编辑部"]
    assert complete(*a, "export", "rss", "-f", "") == ["rss", "atom"]
    assert complete(*a, "export", "markdown", "--script", "zh-Hant") == ["zh-Hant-TW", "zh-Hant-HK"]
    assert complete(*a, "export", "") == ["email", "json", "markdown", "rss", "wechat"]
    assert complete(*a, "export", "wechat", "--article", "2023-06-05") == [f"2023-06-05{n}" for n in range(4)]
    assert complete(*a, "mv", "2023-06-001", "--to", "2023") == ["2023-06"]
    assert complete(*a, "mv", "2023-06-001", "--after", "2023-06-05") == [f"2023-06-05{n}" for n in range(4)]
    assert complete(*a, "import", "") == [":files"]
    assert complete("--archive", "") == [":dirs"]
    assert complete(*a, "build", "-o", "") == [":dirs"]
    assert complete(*a, "add", "--title", "") == []  # free text
    assert complete(*a, "search", "直") == []
    assert complete(f"--archive={archive}", "validate", "2023-0") == ["2023-06"]
    # bash splits `--archive=PATH` at '=' into three words
    assert complete("--archive", "=", str(archive), "validate", "2023-0") == ["2023-06"]
    assert complete(*a, "show", "--section=数") == ["--section=数据观察"]
    assert complete(*a, "rm", "--y") == ["--yes"]


def test_the_archive_is_found_as_every_command_finds_it(archive: Path, tmp_path: Path) -> None:
    assert complete("validate", "2023", ECDIGEST_ARCHIVE=str(archive)) == ["2023-06"]
    assert complete("validate", "2023", CWD=str(archive / "2023")) == ["2023-06"]  # upward
    assert complete("validate", "2023", CWD=str(tmp_path)) == []  # none: nothing, and no error
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "ecdigest.toml").write_text("[newsletter\n", "utf-8")
    assert complete("-a", str(broken), "show", "2023") == []


def test_completion_skips_typer_and_says_what_the_typer_path_says(archive: Path) -> None:
    words = ["__complete", "fish", "3", "--", "-a", str(archive), "show", "2023-06-01"]
    assert "typer" not in loaded_by(*words)
    fast = subprocess.run([*ecdigest_argv(), *words], capture_output=True, env=cli_env(), check=False)
    slow = subprocess.run(
        [*ecdigest_argv(), *words], capture_output=True, env=cli_env(ECDIGEST_DEBUG="1"), check=False
    )
    assert (
        fast.returncode == slow.returncode == 0
        and fast.stdout == slow.stdout
        and fast.stdout.count(b"\n") == 10
    )
    bad = subprocess.run(
        [*ecdigest_argv(), "__complete", "tcsh", "0", "--"], capture_output=True, env=cli_env(), check=False
    )
    assert bad.returncode == 2 and bad.stderr.startswith(b"ecdigest: error: usage:")


# =========================================================================== the shells


def _env(archive: Path) -> dict[str, str]:
    bin_dir = (
        os.path.dirname(ecdigest_argv()[0]) if len(ecdigest_argv()) == 1 else os.path.dirname(sys.executable)
    )
    return cli_env(PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", ECDIGEST_ARCHIVE=str(archive))


def test_bash_completes_with_its_script(archive: Path) -> None:
    script = (
        'eval "$(ecdigest completion bash)"\n'
        "COMP_WORDS=(ecdigest show 2023-06-05); COMP_CWORD=2; _ecdigest_complete; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
        "echo --\n"
        "COMP_WORDS=(ecdigest ad); COMP_CWORD=1; _ecdigest_complete; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
        "echo --\n"
        "COMP_WORDS=(ecdigest add --source “央); COMP_CWORD=3; _ecdigest_complete; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    result = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=_env(archive), check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("--\n") == [
        "2023-06-050\n2023-06-051\n2023-06-052\n2023-06-053\n",
        "add\n",
        "“央广网”\n",
    ]


def test_fish_completes_with_its_script(archive: Path, tmp_path: Path) -> None:
    script = tmp_path / "ecdigest.fish"
    subprocess.run(
        [*ecdigest_argv(), "completion", "fish"], stdout=script.open("wb"), env=_env(archive), check=True
    )
    result = subprocess.run(
        ["fish", "--no-config", "-c", f"source {script}; complete -C 'ecdigest show 2023-06-05'; complete -C 'ecdigest mv 2023-06-001 --f'"],
        capture_output=True, text=True, env=_env(archive), check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "2023-06-050\t中国数字经济呈六大发展趋势"
    assert [line.split("\t")[0] for line in lines] == [
        "2023-06-050", "2023-06-051", "2023-06-052", "2023-06-053", "--first", "--force", "--format",
    ]  # fmt: skip


def test_zsh_completes_with_its_script(archive: Path, tmp_path: Path) -> None:
    """zsh's own completion widgets need a terminal; its `_describe` and `compdef` are stood
    in for, and the script's own work (words, index, the answer split into ids and issue
    prefixes) runs in zsh for real."""
    root = tmp_path / "two"
    shutil.copytree(archive, root, ignore=shutil.ignore_patterns(".ecdigest"))
    text = (root / "2023" / "2023-06.toml").read_text("utf-8").replace("2023-06", "2023-05")
    (root / "2023" / "2023-05.toml").write_text(text, "utf-8")
    archive = root
    script = tmp_path / "_ecdigest"
    subprocess.run(
        [*ecdigest_argv(), "completion", "zsh"], stdout=script.open("wb"), env=_env(archive), check=True
    )
    assert subprocess.run(["zsh", "-n", str(script)], check=False).returncode == 0
    driver = (
        "compdef() { }\n"
        '_describe() { local name=$4; print -r -- "[$2] ${(j:|:)${(@P)name}} ${@[5,-1]}" }\n'
        f"source {script}\n"
        "words=(ecdigest show 2023-06-05); CURRENT=3; _ecdigest\n"
        "words=(ecdigest mv ''); CURRENT=3; _ecdigest\n"
    )
    result = subprocess.run(
        ["zsh", "-f", "-c", driver], capture_output=True, text=True, env=_env(archive), check=False
    )
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert first.startswith("[values] 2023-06-050:中国数字经济") and first.count("|") == 3
    assert (
        second == "[issues] 2023-05-:53 articles|2023-06-:53 articles -S "
    )  # narrowed first, no space after


def test_the_completion_command_prints_and_installs_the_scripts(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for shell, marker in (
        ("bash", "complete -F _ecdigest_complete ecdigest"),
        ("zsh", "#compdef ecdigest"),
        ("fish", "complete -c ecdigest"),
    ):
        result = invoke("completion", shell)
        assert result.exit_code == 0 and marker in result.stdout
    monkeypatch.setenv("SHELL", "/usr/bin/fish")
    assert "complete -c ecdigest" in invoke("completion").stdout
    monkeypatch.setenv("SHELL", "/bin/tcsh")
    assert invoke("completion").exit_code == 2
    assert invoke("completion", "powershell").exit_code == 2
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    for shell, where in (
        ("bash", tmp_path / "data" / "bash-completion" / "completions" / "ecdigest"),
        ("zsh", tmp_path / ".zfunc" / "_ecdigest"),
        ("fish", tmp_path / ".config" / "fish" / "completions" / "ecdigest.fish"),
    ):
        result = invoke("completion", shell, "--install")
        assert result.exit_code == 0 and str(where) in result.stderr
        assert where.read_text("utf-8") == completion.script(shell)
