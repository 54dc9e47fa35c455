"""Issue 10's search items: what a reader sees is what search finds; bounded queries; the
short options every command has; bytes that are not UTF-8; one option table for both paths.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, Invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_search import brute_force, search_ids, write_issue
from typer.main import get_command

from ecdigest.cli import app
from ecdigest.errors import UsageError
from ecdigest.launcher import parse_argv, search_options
from ecdigest.query import MAX_TERM_CHARS, MAX_TERMS, fold, parse_query


@pytest.fixture
def archive(archive_dir: Path) -> Path:
    write_issue(
        archive_dir,
        "2023-01",
        [
            {"title": "换行", "body": "全国跨境\n电商综试区现场会。"},
            {"title": "零宽空格", "body": "跨\u200b境电商"},
            {"title": "连接符", "body": "跨境\u2060电商"},
            {"title": "字节序标记", "body": "\ufeff跨境电商"},
            {"title": "软连字符", "body": "跨境电\u00ad商"},
            {"title": "变体选择符", "body": "跨境\ufe0f电商"},
            {"title": "跨境\u200b电商标题", "body": "正文"},
            {"title": "英文换行", "body": "the supply\nchain of goods"},
            {"title": "两段", "body": "第一段结尾跨境\n\n电商开头"},
            {"title": "无关", "body": "直播带货", "section": "数据观察"},
            {"title": "字母", "body": "跨境 fun"},
        ],
        date=dt.date(2023, 1, 5),
    )
    return archive_dir


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECDIGEST_")}
    env["ECDIGEST_NOW"] = "2023-07-10T09:00:00+08:00"
    return env


def run(args: list[str | bytes], timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    """The console script's way in (`python -m ecdigest` enters through the launcher)."""
    return subprocess.run(
        [sys.executable, "-m", "ecdigest", *args],
        capture_output=True,
        env=_env(),
        cwd=REPO,
        timeout=timeout,
        check=False,
    )


def one_error_line(result: subprocess.CompletedProcess[bytes]) -> str:
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, (result.returncode, err)
    assert err.startswith("ecdigest: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


# --------------------------------------------------------------------------- what a reader sees


def test_a_hard_line_break_or_an_invisible_character_inside_a_word_is_found(archive: Path) -> None:
    found, result = search_ids(archive, "跨境电商")
    titles = {hit.title for hit in result.hits}
    assert titles == {
        "换行",
        "零宽空格",
        "连接符",
        "字节序标记",
        "软连字符",
        "变体选择符",
        "跨境\u200b电商标题",
    }
    assert found == brute_force(archive, [["跨境电商"]])
    # A paragraph break is not a line break: the two paragraphs do not run together.
    assert "两段" not in titles
    # Latin words wrapped across lines are one space apart, as `show` prints them.
    assert [h.title for h in search_ids(archive, '"supply chain"')[1].hits] == ["英文换行"]
    # The query is folded the same way: an invisible character typed in a term is ignored.
    assert search_ids(archive, "跨\u200b境\u00ad电商")[0] == found
    # The snippet shows the text as show does: the wrapped word joined.
    (hit,) = [h for h in result.hits if h.title == "换行"]
    assert "跨境电商综试区" in hit.snippet and hit.snippet_spans()


def test_show_and_fold_agree_on_joined_lines() -> None:
    from ecdigest.textwrap_cjk import join_lines

    for text in ("跨境\n电商", "AI\n芯片", "5G\n网络", "supply\nchain", "第一行，\n第二行"):
        assert fold(text) == fold(join_lines(text))


# --------------------------------------------------------------------------- bounded queries


def test_thousands_of_repeated_terms_are_one_term(archive: Path) -> None:
    query = parse_query(" ".join(["的"] * 8000))
    assert query.groups == (("的",),)
    started = time.monotonic()
    result = run(["--archive", str(archive), "search", *(["跨境电商"] * 8000), "--format", "json", "-n", "0"])
    assert result.returncode == 0, result.stderr.decode()
    assert time.monotonic() - started < 60
    assert len(json.loads(result.stdout)) == 7


def test_past_the_bounds_one_error_line(archive: Path) -> None:
    with pytest.raises(UsageError, match="different terms"):
        parse_query(" ".join(f"词{n}" for n in range(MAX_TERMS + 1)))
    assert len(parse_query(" ".join(f"词{n}" for n in range(MAX_TERMS))).groups) == MAX_TERMS
    with pytest.raises(UsageError, match="longer than"):
        parse_query("长" * (MAX_TERM_CHARS + 1))
    cases: list[list[str | bytes]] = [
        ["search", *(f"词{n}" for n in range(200))],
        ["search", "跨境", *(a for n in range(101) for a in ("--source", f"来源{n}"))],
        ["search", "长" * 5000],
    ]
    for args in cases:
        one_error_line(run(["--archive", str(archive), *args]))


def test_a_filter_repeated_a_thousand_times_counts_once(archive: Path) -> None:
    once = run(["--archive", str(archive), "search", "跨境", "--section", "行业资讯", "-f", "json"])
    assert once.returncode == 0, once.stderr.decode()
    for option, value in (("--section", "行业资讯"), ("--source", "人民日报"), ("--issue", "2023-01")):
        many = run(["--archive", str(archive), "search", "跨境", *([option, value] * 1000), "-f", "json"])
        assert many.returncode == 0, many.stderr.decode()
        assert "Traceback" not in many.stderr.decode()
        single = run(["--archive", str(archive), "search", "跨境", option, value, "-f", "json"])
        assert many.stdout == single.stdout


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize(
    ("args", "hits"),
    [
        (["跨境电商", "-f", "json"], 7),
        (["跨境电商", "-fjson"], 7),
        (["跨境电商", "-f", "json", "-n", "2"], 2),
        (["跨境电商", "-n2", "--format=json"], 2),
        (["跨境电商", "--limit=3", "-f", "JSON"], 3),
        (["-n", "1", "跨境电商", "-f", "json"], 1),
    ],
)
def test_short_options_are_options(invoke: Invoke, archive: Path, args: list[str], hits: int) -> None:
    fast = run(["--archive", str(archive), "search", *args])
    typer_path = invoke("search", *args, archive=archive)
    assert fast.returncode == typer_path.exit_code == 0, fast.stderr.decode()
    assert fast.stdout.decode() == typer_path.stdout
    assert fast.stderr.decode() == typer_path.stderr
    assert len(json.loads(fast.stdout)) == hits


def test_help_is_help(archive: Path) -> None:
    for args in (["search", "-h"], ["search", "跨境", "-h"], ["search", "--help"]):
        result = run(args)
        assert result.returncode == 0, result.stderr.decode()
        assert result.stdout.decode().startswith("Usage: ecdigest search [OPTIONS] {QUERY...}")
        assert "-n, --limit N" in result.stdout.decode() and "-f, --format" in result.stdout.decode()


@pytest.mark.parametrize("word", ["-x", "-J", "--x", "--limt", "--format-json"])
def test_no_option_spelling_becomes_a_query_term(invoke: Invoke, archive: Path, word: str) -> None:
    fast = run(["--archive", str(archive), "search", "跨境", word])
    err = one_error_line(fast)
    assert "no such option" in err
    typer_path = invoke("search", "跨境", word, archive=archive)
    assert (typer_path.exit_code, typer_path.stderr) == (2, err)


def test_excluding_a_term_that_looks_like_an_option_is_written_quoted(archive: Path) -> None:
    quoted = run(["--archive", str(archive), "search", "跨境", '-"n"', "-f", "json"])
    assert quoted.returncode == 0, quoted.stderr.decode()
    assert len(json.loads(quoted.stdout)) == len(brute_force(archive, [["跨境"]], ["n"])) == 8
    assert len(brute_force(archive, [["跨境"]])) == 9


# --------------------------------------------------------------------------- bytes that are not UTF-8


@pytest.mark.parametrize(
    "args",
    [
        [b"\xff"],
        [b"\xe8\xb7", "跨境"],
        ["跨境", "--section", b"\xff"],
        ["跨境", "--source", b"\xfe"],
        ["跨境", "--issue", b"\xff"],
        ["跨境", "--since", b"\xff"],
        ["-n", "1", b"-\xff"],
    ],
)
def test_bytes_that_are_not_utf8_are_one_error(archive: Path, args: list[str | bytes]) -> None:
    err = one_error_line(run(["--archive", str(archive), "search", *args]))
    assert "UTF-8" in err or "no issue" in err, err


# --------------------------------------------------------------------------- one table, two parsers

WORDS = st.sampled_from(["跨境", "电商", "-直播", "OR", '"a b"', "5G", "-x1", "--", "-直"])


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    """Words and options of the table in every spelling click accepts."""
    argv: list[str] = [draw(WORDS.filter(lambda w: w not in ("--", "OR")))]
    for opt in draw(st.lists(st.sampled_from(search_options()), max_size=5)):
        if opt.kind == "int":
            value = str(draw(st.integers(0, 50)))
        elif opt.kind == "choice":
            value = draw(st.sampled_from([c for choice in opt.choices for c in (choice, choice.upper())]))
        else:
            value = draw(st.sampled_from(["行业资讯", "央广网", "2023-01-01", "-x", "a=b"]))
        spelling = draw(st.sampled_from(["long", "equals", *(["short", "attached"] if opt.aliases else [])]))
        if spelling == "long":
            argv += [opt.flag, value]
        elif spelling == "equals":
            argv.append(f"{opt.flag}={value}")
        elif spelling == "short":
            argv += [opt.aliases[0], value]
        else:
            argv.append(opt.aliases[0] + value)
        if draw(st.booleans()):
            argv.append(draw(WORDS))
    return argv


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(command_lines())
def test_the_launcher_reads_every_command_line_as_click_does(argv: list[str]) -> None:
    parsed = parse_argv(["search", *argv])
    command = get_command(app).commands["search"]  # type: ignore[attr-defined]
    try:
        context = command.make_context("search", list(argv))
    except Exception:  # click refuses it: the launcher must have left it to the app
        assert parsed is None, argv
        return
    if parsed is None:
        return  # the app judges it (e.g. an option value click would accept after `--`)
    _, _, words, values = parsed
    params = dict(context.params)
    assert words == list(params.pop("query") or []), argv
    for name, value in params.items():
        got = getattr(value, "value", value)
        if isinstance(got, tuple):  # click's multiple options (None or a tuple when absent)
            got = list(got)
        multiple = {opt.name for opt in search_options() if opt.multiple}
        assert values[name] == ([] if got is None and name in multiple else got), (name, argv)
