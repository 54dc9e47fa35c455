"""Search: folding, the query language, snippets, output, and the command on real archives.

The index's answers are compared with a brute-force scan written here from the definition
(a term matches when it is a substring of the NFKC-normalised, case-folded text), not with
the code under test.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import shutil
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import SHIPPED_ARCHIVE, Invoke
from hypothesis import given
from hypothesis import strategies as st

from ecdigest import search as search_mod
from ecdigest.codec import encode_issue
from ecdigest.errors import UsageError
from ecdigest.model import Article, Issue
from ecdigest.search import (
    Query,
    SearchOptions,
    SearchResult,
    find_spans,
    fold,
    key,
    make_snippet,
    parse_query,
    render_json,
    render_text,
)

# --------------------------------------------------------------------------- helpers shared by the search tests


# Unicode 15's Default_Ignorable_Code_Point, as DerivedCoreProperties.txt lists it.
DEFAULT_IGNORABLE = [(0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
                     (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
                     (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
                     (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
                     (0xE0000, 0xE0FFF)]  # fmt: skip


def ref_fold(text: str, *, script: bool = True) -> str:
    """The definition, spelled out: the text as `show` presents it (the lines of each
    paragraph joined by the renderer's rule, paragraphs apart), without the characters nobody
    sees; NFKC, case fold, NFKC; control characters and runs of whitespace become one space;
    ends trimmed; then (`script`, query.key) each character's Simplified key (OpenCC, one
    character at a time)."""
    from ecdigest.model import split_paragraphs
    from ecdigest.textwrap_cjk import join_lines

    if any(mark in text for mark in "\n\r\v\f\x85\u2028\u2029"):
        text = "\n".join(join_lines(p) for p in split_paragraphs(text))
    text = "".join(c for c in text if not any(lo <= ord(c) <= hi for lo, hi in DEFAULT_IGNORABLE))
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    folded = "".join(" " if unicodedata.category(c) == "Cc" else c for c in folded)
    folded = " ".join(folded.split())
    return "".join(map(opencc_char, folded)) if script else folded


@functools.cache
def opencc_char(char: str) -> str:
    """The character's script-neutral key, from OpenCC itself: hk2s then tw2s of the
    character alone, when that gives one other character."""
    if char.isascii():
        return char
    hk2s, tw2s = _opencc()
    folded = tw2s.convert(hk2s.convert(char))
    return folded if len(folded) == 1 else char


@functools.lru_cache(maxsize=1)
def _opencc() -> tuple[Any, Any]:
    import opencc

    return opencc.OpenCC("hk2s"), opencc.OpenCC("tw2s")


def write_issue(
    root: Path,
    issue_id: str,
    articles: Sequence[dict[str, Any]],
    *,
    date: dt.date | None = dt.date(2023, 6, 5),
    name: str | None = None,
) -> Path:
    """A real issue file written by the codec; article dicts need title and body at least."""
    built = tuple(
        Article(
            id=a.get("id", f"{issue_id}-{n:03d}"),
            section=a.get("section", "行业资讯"),
            title=a["title"],
            source=a.get("source", "《人民日报》"),
            date=a.get("date", dt.date(2023, 6, 1)),
            body=a["body"],
        )
        for n, a in enumerate(articles, start=1)
    )
    issue = Issue(
        id=issue_id, title=f"电子商务动态 {issue_id}", date=date, status="published", articles=built
    )
    folder = root / (f"{date.year:04d}" if date else "undated")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{issue_id}.toml")
    path.write_text(encode_issue(issue), encoding="utf-8")
    return path


def loaded_articles(root: Path) -> list[tuple[Issue, Article]]:
    """Every article the archive holds, read with the archive module (not the index).

    Read leniently, files that cannot be read at all left out: what search promises to cover.
    """
    from ecdigest.archive import Archive
    from ecdigest.errors import EcdigestError

    archive = Archive.open(root)
    found = []
    for path in archive.issue_paths():
        try:
            issue = archive.read_lenient(path).issue
        except EcdigestError:
            continue
        if issue is not None:
            found += [(issue, a) for a in issue.articles]
    return found


def brute_force(
    root: Path,
    groups: Sequence[Sequence[str]],
    excluded: Sequence[str] = (),
    *,
    within: str = "all",
    sections: Iterable[str] = (),
) -> set[tuple[str, str]]:
    """(issue, article) of every article matching, by scanning the loaded articles."""
    wanted_sections = set(sections)
    found = set()
    for issue, article in loaded_articles(root):
        texts = {"title": [ref_fold(article.title)], "body": [ref_fold(article.body)]}
        texts["all"] = texts["title"] + texts["body"]
        haystacks = texts[within]

        def hit(term: str, haystacks: list[str] = haystacks) -> bool:
            return any(ref_fold(term) in h for h in haystacks)

        if wanted_sections and article.section not in wanted_sections:
            continue
        if all(any(hit(t) for t in group) for group in groups) and not any(hit(t) for t in excluded):
            found.add((issue.id, article.id))
    return found


def search_ids(
    root: Path, query: str | Sequence[str], **options: Any
) -> tuple[set[tuple[str, str]], SearchResult]:
    options.setdefault("limit", 0)
    result = search_mod.search(str(root), SearchOptions(parse_query(query), **options))
    return {(h.issue, h.article) for h in result.hits}, result


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    """A copy of the shipped archive (the index is written into the copy, not the repository)."""
    if not (SHIPPED_ARCHIVE / "ecdigest.toml").is_file():
        pytest.skip("the shipped archive is not there yet")
    copy = tmp_path / "issues"
    shutil.copytree(SHIPPED_ARCHIVE, copy, ignore=shutil.ignore_patterns(".ecdigest"))
    return copy


# --------------------------------------------------------------------------- folding


def test_fold_examples() -> None:
    assert fold("５Ｇ") == "5g"
    assert fold("ChatGPT") == fold("chatgpt") == fold("ＣｈａｔＧＰＴ") == "chatgpt"
    assert fold("跨境，电商：（试点）") == "跨境,电商:(试点)"
    assert fold("  a \n\n b\u3000c\t") == "a b c"
    assert fold("a\x00b\x7fc\x85d") == "a b c d"
    assert fold("Straße") == "strasse"
    assert fold("ﬁnance") == "finance"
    assert fold("") == ""


@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
    | st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=40)
)
def test_fold_is_the_definition(text: str) -> None:
    assert fold(text) == ref_fold(text, script=False)
    assert key(text) == ref_fold(text)


@given(st.text(max_size=30))
def test_fold_handles_any_text(text: str) -> None:
    folded = fold(text)
    assert folded == folded.strip()
    assert "  " not in folded
    assert not any(unicodedata.category(c) == "Cc" for c in folded)


# --------------------------------------------------------------------------- the query language


def groups(query: Query) -> list[list[str]]:
    return [list(g) for g in query.groups]


def test_query_and_phrase_exclude_or() -> None:
    q = parse_query(["跨境", "电商"])
    assert groups(q) == [["跨境"], ["电商"]] and q.excluded == ()
    q = parse_query('"supply  Chain" -直播 ５Ｇ')
    assert groups(q) == [["supply chain"], ["5g"]] and q.excluded == ("直播",)
    q = parse_query("跨境 直播 OR 短视频 OR 带货 -广告")
    assert groups(q) == [["跨境"], ["直播", "短视频", "带货"]] and q.excluded == ("广告",)
    q = parse_query('-"直播 带货" 电商')
    assert groups(q) == [["电商"]] and q.excluded == ("直播 带货",)


def test_query_literals() -> None:
    assert groups(parse_query('"OR" or')) == [["or"]]  # the same term twice counts once
    assert groups(parse_query("a-b - c")) == [["a-b"], ["-"], ["c"]]
    assert groups(parse_query("＂双引号 短语＂")) == [["双引号 短语"]]
    # Chinese quotation marks are text, not phrase marks.
    assert groups(parse_query("“央广网”")) == [["“央广网”"]]
    # A quote inside a word is a character of the word.
    assert groups(parse_query('5"寸')) == [['5"寸']]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("OR 直播", "OR must stand between two terms"),
        ("直播 OR", "OR must stand between two terms"),
        ("直播 OR OR 电商", "OR must stand between two terms"),
        ("直播 OR -电商", "excluded term cannot be part of OR"),
        ('"跨境 电商', "unbalanced quote"),
        ('""', "is empty"),
        ("-直播", "nothing to search for"),
        ("", "nothing to search for"),
    ],
)
def test_query_errors(query: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_query(query)
    assert message in str(caught.value)


# --------------------------------------------------------------------------- snippets and spans


def test_find_spans_maps_folded_matches_back() -> None:
    assert find_spans("全球第一艘 ５Ｇ 邮轮", ["5g"]) == [(6, 8)]
    assert find_spans("ChatGPT 与 chatgpt", ["chatgpt"]) == [(0, 7), (10, 17)]
    assert find_spans("直播直播", ["直播", "播直"]) == [(0, 4)]
    assert find_spans("跨境\n\n电商", ["跨境 电商"]) == [(0, 6)]
    assert find_spans("无关", ["直播"]) == []


def test_snippet_is_about_one_line_around_the_first_match() -> None:
    body = "前言" * 40 + "。网络直播消费已经成为非常普遍的消费方式。" + "后记" * 40
    snippet = make_snippet(body, ["直播"])
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "网络直播消费" in snippet
    width = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in snippet.strip("…"))
    assert 60 <= width <= search_mod.SNIPPET_COLUMNS
    # No match in the body (a title hit): the body's beginning.
    assert make_snippet("第一段。\n\n第二段。", ["标题"]) == "第一段。 第二段。"
    assert make_snippet("", ["x"]) == ""
    # Full-width text, half-width term.
    assert "５Ｇ" in make_snippet("一" * 100 + "５Ｇ" + "二" * 100, ["5g"])


def test_render_text_and_json() -> None:
    hit = search_mod.Hit(
        issue="2023-06",
        article="2023-06-007",
        title="全球第一艘 5G 大型邮轮年底交付",
        date="2023-06-05",
        section="行业资讯",
        source="《解放日报》",
        score=4.81049,
        snippet="…用 5G 网络…",
    )
    result = SearchResult([hit], 3, [])
    assert render_text(result) == (
        "2023-06  2023-06-05  行业资讯  全球第一艘 5G 大型邮轮年底交付\n    …用 5G 网络…\n3 articles match; showing 1 (--limit 0 shows all)\n"
    )
    data = json.loads(render_json(result))
    assert data == [
        {
            "issue": "2023-06",
            "article": "2023-06-007",
            "title": "全球第一艘 5G 大型邮轮年底交付",
            "date": "2023-06-05",
            "section": "行业资讯",
            "source": "《解放日报》",
            "score": 4.81049,
            "snippet": "…用 5G 网络…",
        }
    ]
    assert "全球第一艘" in render_json(result)  # no \u escapes
    from ecdigest.export.jsonout import dumps

    assert render_json(result) == dumps([hit.as_json()])
    assert render_text(SearchResult([], 0, [])) == "no articles match\n"
    assert render_json(SearchResult([], 0, [])) == "[]\n"


def test_render_rich_highlights_matches() -> None:
    from rich.console import Console

    hit = search_mod.Hit(
        issue="2023-06",
        article="a",
        title="全球第一艘 ５Ｇ 邮轮",
        date=None,
        section="行业资讯",
        source="s",
        score=1.0,
        snippet="…用 5G 网络…",
        title_terms=("5g",),
        snippet_terms=("5g",),
    )
    console = Console(record=True, force_terminal=True, color_system="truecolor", width=200)
    search_mod.render_rich(SearchResult([hit], 1, []), console.print)
    assert "５Ｇ" in console.export_text(clear=False)
    html = console.export_html(inline_styles=True)
    assert html.count("font-weight: bold") >= 3  # the title, and the two matches


# --------------------------------------------------------------------------- the command on the shipped archive


def cli_ids(invoke: Invoke, archive: Path, *args: str) -> list[tuple[str, str]]:
    result = invoke("search", "--format", "json", "--limit", "0", *args, archive=archive)
    assert result.exit_code == 0, result.output
    return [(h["issue"], h["article"]) for h in json.loads(result.stdout)]


@pytest.mark.parametrize(
    ("query", "expected_groups"),
    [
        (["直播"], [["直播"]]),
        (["5G"], [["5G"]]),
        (["ChatGPT"], [["ChatGPT"]]),
        (["chatgpt"], [["chatgpt"]]),
        (["跨境", "电商"], [["跨境"], ["电商"]]),
        (["５Ｇ"], [["5G"]]),
        (["直播", "OR", "短视频"], [["直播", "短视频"]]),
    ],
)
def test_shipped_archive_answers_exactly(
    invoke: Invoke, shipped: Path, query: list[str], expected_groups: list[list[str]]
) -> None:
    ids = cli_ids(invoke, shipped, *query)
    assert len(ids) == len(set(ids))
    assert set(ids) == brute_force(shipped, expected_groups)
    assert ids  # each of these occurs in the sample issue


def test_shipped_archive_section_filter(invoke: Invoke, shipped: Path) -> None:
    ids = cli_ids(invoke, shipped, "跨境", "电商", "--section", "数据观察")
    assert set(ids) == brute_force(shipped, [["跨境"], ["电商"]], sections=["数据观察"])
    assert ids and len(ids) < len(cli_ids(invoke, shipped, "跨境", "电商"))


def test_shipped_archive_sanity_against_raw_text(invoke: Invoke, shipped: Path) -> None:
    """Independent of folding: for a plain Chinese term the raw text decides."""
    raw = {(i.id, a.id) for i, a in loaded_articles(shipped) if "直播" in a.title or "直播" in a.body}
    assert set(cli_ids(invoke, shipped, "直播")) == raw
    chat = {(i.id, a.id) for i, a in loaded_articles(shipped) if "chatgpt" in (a.title + a.body).lower()}
    assert set(cli_ids(invoke, shipped, "chatgpt")) == set(cli_ids(invoke, shipped, "ChatGPT")) == chat


def test_same_answers_after_hand_edits(invoke: Invoke, shipped: Path) -> None:
    path = shipped / "2023" / "2023-06.toml"
    before = set(cli_ids(invoke, shipped, "直播"))
    text = path.read_text("utf-8")
    # An editor adds 直播 to one article and removes it from another, by hand.
    first_with = text.index("直播")
    edited = text[:first_with] + "现场" + text[first_with + 2 :]
    edited = edited.replace("数字贸易合作的新局面", "数字贸易合作的新局面，直播带货", 1)
    path.write_text(edited, "utf-8")
    after = set(cli_ids(invoke, shipped, "直播"))
    assert after == brute_force(shipped, [["直播"]])
    assert after != before
    # The file deleted: nothing from it; restored under another name: the same answers again.
    path.unlink()
    assert cli_ids(invoke, shipped, "直播") == []
    (shipped / "2023" / "renamed.toml").write_text(edited, "utf-8")
    assert set(cli_ids(invoke, shipped, "直播")) == after


def test_filters_and_json(invoke: Invoke, archive_dir: Path) -> None:
    write_issue(
        archive_dir,
        "2021-01",
        [
            {"title": "直播电商新规", "body": "网络直播营销。", "section": "政策法规", "source": "“央广网”"},
            {
                "title": "跨境数据",
                "body": "跨境电商进出口 直播",
                "section": "数据观察",
                "source": "《人民日报》",
            },
        ],
        date=dt.date(2021, 1, 5),
    )
    write_issue(
        archive_dir,
        "2023-02",
        [
            {"title": "标题无关", "body": "直播带货。直播间。", "section": "行业资讯", "source": "“新华网”"},
            {"title": "直播", "body": "正文无关", "section": "专家视点", "source": "《经济日报》"},
        ],
        date=dt.date(2023, 2, 6),
    )

    def ids(*args: str) -> list[str]:
        return [a for _, a in cli_ids(invoke, archive_dir, "直播", *args)]

    assert sorted(ids()) == ["2021-01-001", "2021-01-002", "2023-02-001", "2023-02-002"]
    assert sorted(ids("--section", "政策法规", "--section", "专家视点")) == ["2021-01-001", "2023-02-002"]
    assert ids("--source", "央广网") == ["2021-01-001"]
    assert sorted(ids("--source", "人民", "--source", "新华")) == ["2021-01-002", "2023-02-001"]
    assert sorted(ids("--since", "2022-01-01")) == ["2023-02-001", "2023-02-002"]
    assert sorted(ids("--until", "2021 年 1 月 5 日")) == ["2021-01-001", "2021-01-002"]
    assert ids("--since", "2021-01-06", "--until", "2023-02-05") == []
    assert sorted(ids("--issue", "2023-02")) == ["2023-02-001", "2023-02-002"]
    assert sorted(ids("--in", "title")) == ["2021-01-001", "2023-02-002"]
    assert sorted(ids("--in", "BODY")) == ["2021-01-001", "2021-01-002", "2023-02-001"]
    assert ids("--sort", "date") == ["2023-02-001", "2023-02-002", "2021-01-001", "2021-01-002"]
    # Relevance: title hits weigh more than body hits.
    assert ids()[0] in {"2021-01-001", "2023-02-002"}
    assert ids("--limit", "1", "--sort", "date") == ["2023-02-001"]

    result = invoke("search", "直播", "--format", "json", "--limit", "1", archive=archive_dir)
    assert result.stderr == "ecdigest: 1 of 4 hits shown; --limit 0 shows all\n"
    (hit,) = json.loads(result.stdout)
    assert list(hit) == ["issue", "article", "title", "date", "section", "source", "score", "snippet"]
    assert isinstance(hit["score"], float) and hit["score"] > 0
    assert "直播" in result.stdout  # UTF-8, not \u escapes

    text = invoke("search", "直播", "--sort", "date", archive=archive_dir)
    assert text.exit_code == 0
    lines = text.stdout.splitlines()
    assert lines[0] == "2023-02  2023-02-06  行业资讯  标题无关"
    assert lines[1] == "    直播带货。直播间。"
    assert lines[-1] == "4 articles match"


def test_filter_errors(invoke: Invoke, archive_dir: Path) -> None:
    write_issue(archive_dir, "2023-02", [{"title": "直播", "body": "x"}])
    result = invoke("search", "直播", "--section", "体育", archive=archive_dir)
    assert result.exit_code == 2
    assert "unknown section '体育'" in result.output and "行业资讯" in result.output
    result = invoke("search", "直播", "--issue", "1999-01", archive=archive_dir)
    assert result.exit_code == 2 and "no issue '1999-01'" in result.output
    result = invoke("search", "直播", "--since", "yesterdayish", archive=archive_dir)
    assert result.exit_code == 2 and "--since" in result.output
    result = invoke("search", "直播", "--since", "2023-02-01", "--until", "2023-01-01", archive=archive_dir)
    assert result.exit_code == 2 and "after --until" in result.output
    result = invoke("search", "直播", "--limit", "-1", archive=archive_dir)
    assert result.exit_code == 2
    result = invoke("search", "直播", "--sectoin", "x", archive=archive_dir)
    assert result.exit_code == 2 and "no such option: --sectoin" in result.output
    # Section names are compared folded (spaces, widths).
    assert invoke("search", "直播", "--section", " 行业资讯 ", archive=archive_dir).exit_code == 0


def test_no_hits_is_success(invoke: Invoke, archive_dir: Path) -> None:
    write_issue(archive_dir, "2023-02", [{"title": "直播", "body": "x"}])
    result = invoke("search", "区块链", archive=archive_dir)
    assert result.exit_code == 0 and result.stdout == "no articles match\n"
    result = invoke("search", "区块链", "--format", "json", archive=archive_dir)
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    # An empty archive too.
    empty = archive_dir.parent / "empty"
    from ecdigest.operations import init_archive

    init_archive(empty)
    assert invoke("search", "直播", archive=empty).stdout == "no articles match\n"


def test_exclusions_from_the_command_line(invoke: Invoke, archive_dir: Path) -> None:
    write_issue(
        archive_dir, "2023-02", [{"title": "电商直播", "body": "x"}, {"title": "电商", "body": "-5G"}]
    )
    assert [a for _, a in cli_ids(invoke, archive_dir, "电商", "-直播")] == ["2023-02-002"]
    assert [a for _, a in cli_ids(invoke, archive_dir, "电商", "--", "-直播")] == ["2023-02-002"]
    assert [a for _, a in cli_ids(invoke, archive_dir, "电商", '-"直播"')] == ["2023-02-002"]
    assert [a for _, a in cli_ids(invoke, archive_dir, '"-5g"')] == ["2023-02-002"]
    result = invoke("search", "-直播", archive=archive_dir)
    assert result.exit_code == 2 and "nothing to search for" in result.output


def test_not_an_archive(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("search", "直播", archive=tmp_path / "nowhere")
    assert result.exit_code == 2 and "no archive here" in result.output


def test_archive_root_matches_archive_module(monkeypatch: pytest.MonkeyPatch) -> None:
    from ecdigest.archive import resolve_root

    for env in (None, "", "/srv/ecd"):
        if env is None:
            monkeypatch.delenv("ECDIGEST_ARCHIVE", raising=False)
        else:
            monkeypatch.setenv("ECDIGEST_ARCHIVE", env)
        for option in (None, "", "x/y"):
            assert Path(search_mod.archive_root(option)) == resolve_root(option)


def test_index_lives_in_the_archive_and_is_git_ignored(invoke: Invoke, archive_dir: Path) -> None:
    write_issue(archive_dir, "2023-02", [{"title": "直播", "body": "x"}])
    assert invoke("search", "直播", archive=archive_dir).exit_code == 0
    assert (archive_dir / ".ecdigest" / "search.sqlite3").is_file()
    assert ".ecdigest/" in (archive_dir / ".gitignore").read_text().splitlines()
    leftovers = [p.name for p in (archive_dir / ".ecdigest").iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_many_terms_and_odd_characters(archive_dir: Path) -> None:
    bodies = [
        'He said "hi" -- it\'s 100% ok; 50/50 & <b>',
        "全角：（５Ｇ）ＡＩ，半角:(5G)AI",
        "ß and SS and ﬁ",
        "单",
        "",
    ]
    write_issue(archive_dir, "2023-02", [{"title": f"t{n}", "body": b} for n, b in enumerate(bodies)])
    for query in [
        'said "hi"',
        '"hi"',
        "%",
        '"--"',
        "100%",
        "<b>",
        "5g",
        "(5g)",
        "ai",
        "ss",
        "fi",
        "单",
        "'s",
        "-",
    ]:
        terms = parse_query(query).groups
        ids, _ = search_ids(archive_dir, query)
        assert ids == brute_force(archive_dir, terms), query
