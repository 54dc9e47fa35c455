"""The rules themselves: copy-editing (with properties), residue, marks, near-duplicate titles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import DATA, SAMPLE, Invoke
from hypothesis import given, settings
from hypothesis import strategies as st

from ecdigest.model import DEFAULT_SECTIONS
from ecdigest.operations import init_archive
from ecdigest.validate import _marks_problem, _suggest_source, copyedit, copyedit_findings, residue

# --------------------------------------------------------------------------- copy-editing


@pytest.mark.parametrize(
    "text",
    [
        # The newsletter's own style, as the sample prints it throughout.
        "5 月 30—31 日，全国跨境电商综试区现场会在浙江省杭州市召开。",
        "分享人工智能、大数据、5G 等领域发展经验",
        "其中 75%的欧盟民众曾使用电商渠道购买商品或服务",
        "小程序可降低 20%-60% 的开发成本",
        "登陆“饿了么”APP 搜索“苏宁易购”",
        "打造“1+6+6+N”活动框架，推动线上+线下融合",
        "消费市场持续回暖 “618”购物节电商平台迎开门红",
        "停运亚马逊中文官方网站（Amazon.cn），",
        "同比增长 13.19%；前 20 强企业的网络销售额占比超过九成",
        "Inside intelligence 预测，2023 年美国将增加 230 万跨境买家",
        # Things that look like the rules but are not Chinese text.
        "共 1,000 人，10:30 开始，比分 3:2",
        "详见 https://example.org/a,b(c)?x=1;y=2 的说明",
        "OpenAI ChatGPT 的界面",
        "Amazon (US) and eBay",
    ],
)
def test_newsletter_style_is_left_alone(text: str) -> None:
    assert copyedit_findings(text).edits == []
    assert copyedit(text).text == text


@pytest.mark.parametrize(
    ("text", "fixed", "code"),
    [
        ("商务部表示,将推动", "商务部表示，将推动", "W801"),
        ("会议指出:要推进", "会议指出：要推进", "W801"),
        ("他说:“你好”", "他说：“你好”", "W801"),
        ("提升通关便利化水平;梳理成熟经验", "提升通关便利化水平；梳理成熟经验", "W801"),
        ("商务部表示 , 将推动", "商务部表示，将推动", "W801"),
        ("表示,2023 年", "表示，2023 年", "W801"),
        ("是荷兰(92%)、丹麦", "是荷兰（92%）、丹麦", "W801"),
        ("发布《报告》(以下简称《报告》)显示", "发布《报告》（以下简称《报告》）显示", "W801"),
        ("报告 (2022 年) 显示", "报告（2022 年）显示", "W801"),
        ("2023年5月", "2023 年 5 月", "W802"),
        ("淘宝天猫发布商家AI生态伙伴计划", "淘宝天猫发布商家 AI 生态伙伴计划", "W802"),
        ("iPhone应用", "iPhone 应用", "W802"),
        ("新方式  税款电子支付", "新方式 税款电子支付", "W803"),
        ("新方式\u3000税款", "新方式 税款", "W803"),
        ("能力， 让配送", "能力，让配送", "W804"),
        ("数字化。  第二句", "数字化。第二句", "W804"),
        ("“ ChatGPT Plus ”", "“ChatGPT Plus”", "W804"),
    ],
)
def test_each_rule_fixes_its_case(text: str, fixed: str, code: str) -> None:
    result = copyedit(text)
    assert result.text == fixed
    assert set(result.counts) == {code}
    findings = copyedit_findings(text).edits
    assert findings and {f.code for f in findings} == {code}
    assert all(f.before in text for f in findings)


def test_urls_are_not_rewritten() -> None:
    text = "访问https://example.org/中文,路径 了解"
    assert "https://example.org/中文,路径" in copyedit(text).text


def test_findings_report_each_spot_once_and_are_capped() -> None:
    text = "能力，  让配送"  # doubled space after a full-width comma: W804 only, not W803 too
    assert [e.code for e in copyedit_findings(text).edits] == ["W804"]
    many = "中文,中文" * 50
    capped = copyedit_findings(many, limit=10)
    assert len(capped.edits) == 10
    assert capped.counts["W801"] == 50
    assert [e.offset for e in capped.edits] == sorted(e.offset for e in capped.edits)
    assert capped.edits[0].offset == 2  # the first ones, not any ten


def test_nested_parentheses_reach_a_fixed_point() -> None:
    assert copyedit("说明((中文))结束").text == "说明（（中文））结束"


_ALPHABET = st.sampled_from(
    [*"中文字段。，、；：！？“”《》（）abcXYZ019%+-./,:;!?() \t\u3000\u00a0\n", "https://x.org/a,b", "5G"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_copyedit_properties(text: str) -> None:
    result = copyedit(text)
    fixed = result.text
    # A fixed point: nothing left to report, nothing left to fix.
    assert copyedit_findings(fixed).edits == []
    assert copyedit(fixed).text == fixed
    # Lines never move (line numbers of the report stay true) ...
    assert fixed.count("\n") == text.count("\n")
    # ... and only spaces and the width of punctuation change: no content is lost or added.
    width = str.maketrans("，：；！？（）", ",:;!?()")

    def content(value: str) -> str:
        return "".join(value.translate(width).split())

    assert content(fixed) == content(text)
    # Reported when, and only when, something would change.
    assert bool(copyedit_findings(text).edits) == (fixed != text)


def test_the_sample_text_triggers_only_its_own_inconsistencies() -> None:
    """On the raw sample (each printed line), only spots where it contradicts itself."""
    lines = [line.strip() for line in SAMPLE.read_text("utf-8").splitlines() if line.strip()]
    found = [edit for line in lines for edit in copyedit_findings(line).edits]
    assert not [e for e in found if e.code == "W802"]  # `2023 年`, `5G 网络`: always spaced
    assert {e.code for e in found} <= {"W801", "W803", "W804"}
    assert all("(" in e.before for e in found if e.code == "W801")
    assert len(found) <= 10


# --------------------------------------------------------------------------- residue


def _codes(text: str) -> list[str]:
    return [f.code for f in residue(text, DEFAULT_SECTIONS)]


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("第一段。\n\n- 12 -\n\n第二段。", ["W701"]),
        ("第一段。\n\n３\n\n第二段。", ["W701"]),
        ("第一段。\n\n第 3 页\n\n第二段。", ["W701"]),
        ("第一段。\n\nPage 3 of 12\n\n第二段。", ["W701"]),
        ("第一段。\n\n来源：“央广网” 编选：《电子商务动态》编辑部 2023 年 05 月 29 日", ["W702"]),
        ("第一段。来源：《人民日报》 2023 年 05 月 29 日", ["W702"]),
        ("第一段。\n\n【政策法规】\n\n第二段。", ["W703"]),
        ("第一段。\n\n数据观察\n\n第二段。", ["W703"]),
        ("第一行\n第二行\n第三行\n\n第二段。\n第二段的第二行", ["W704", "W704"]),
        # Not residue: numbers inside text, a sourced chart note, a year on its own line.
        ("增长 12%。\n\n数据来源：国家统计局\n\n2023", []),
    ],
)
def test_residue(text: str, codes: list[str]) -> None:
    assert _codes(text) == codes


# --------------------------------------------------------------------------- marks


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("《人民日报》", None),
        ("“央广网”", None),
        ("《电子商务动态》编辑部", None),
        ("新华社", None),  # no marks: a warning (W401), not malformed
        ("《人民日报”", "mixed marks"),
        ("“人民日报》", "mixed marks"),
        ("《人民日报", "never closed"),
        ("人民日报》", "closes nothing"),
        ("”央广网“", "closes nothing"),
        ('"央广网', "straight quote"),
    ],
)
def test_marks(source: str, problem: str | None) -> None:
    found = _marks_problem(source)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_source_suggestions() -> None:
    known = ["《人民日报》", "“央广网”", "《经济日报》"]
    assert _suggest_source("《人民曰报》", known) == "《人民日报》"
    assert _suggest_source("“人民日报”", known) == "《人民日报》"  # same outlet, other marks
    assert _suggest_source("《南方周末》", known) is None


# --------------------------------------------------------------------------- already published


def _archive_with_titles(root: Path, earlier: str, later: str, *, status: str = "published") -> Path:
    shutil.copytree(DATA / "invalid" / "W601", root)
    for name, title in (("2023-05.toml", earlier), ("2023-06.toml", later)):
        path = root / name
        lines = path.read_text("utf-8").splitlines(keepends=True)
        lines = [f'title = "{title}"\n' if line.startswith('title = "商务部') else line for line in lines]
        text = "".join(lines)
        if name == "2023-05.toml":
            text = text.replace('status = "published"', f'status = "{status}"')
        path.write_text(text, "utf-8")
    return root


@pytest.mark.parametrize(
    ("earlier", "later", "status", "expected"),
    [
        ("商务部：推动跨境电商高质量发展", "商务部：推动跨境电商高质量发展", "published", ["W601"]),
        # One character changed in a long title: nearly the same story.
        ("商务部：鼓励企业在中亚建设海外仓", "商务部：鼓励企业在中亚建设海外仓库", "published", ["W601"]),
        ("淘宝天猫发布商家 AI 生态伙伴计划", "淘宝天猫发布商家AI生态伙伴计划！", "published", ["W601"]),
        # Different stories that share words.
        ("商务部：推动跨境电商高质量发展", "商务部：推动直播电商规范发展", "published", []),
        # A draft has not published anything yet.
        ("商务部：推动跨境电商高质量发展", "商务部：推动跨境电商高质量发展", "draft", []),
    ],
)
def test_already_published(
    earlier: str, later: str, status: str, expected: list[str], tmp_path: Path, invoke: Invoke
) -> None:
    root = _archive_with_titles(tmp_path / "case", earlier, later, status=status)
    problems = json.loads(invoke("validate", "2023-06", "--format", "json", archive=root).stdout)
    assert [p["code"] for p in problems if p["code"].startswith("W6")] == expected
    if expected:
        assert "in 2023-05 as 2023-05-001" in problems[0]["message"]


def test_body_lines_in_a_single_line_string_point_at_the_key(tmp_path: Path, invoke: Invoke) -> None:
    root = tmp_path / "case"
    init_archive(root)
    text = (DATA / "invalid" / "W801.toml").read_text("utf-8")
    start = text.index('body = """')
    text = text[:start] + 'body = "第一段。\\n\\n第二段,含半角逗号。"\n'
    (root / "W801.toml").write_text(text, "utf-8")
    (problem,) = json.loads(invoke("validate", "--format", "json", archive=root).stdout)
    assert problem["code"] == "W801"
    assert text.splitlines()[problem["line"] - 1].startswith("body = ")
