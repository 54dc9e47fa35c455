"""`ecdigest import` and `add --from-text`: the newsletter's own text becomes structured articles.

The reference is tests/data/ecd-2023-06.txt, a real back issue as a PDF-to-text tool left it.
Expected values below were read off the original layout line by line, not off the importer.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from conftest import SAMPLE, SHIPPED_ARCHIVE, Invoke, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecdigest.attribution import format_line
from ecdigest.errors import EcdigestError, InputError
from ecdigest.importer import (
    ImportResult,
    Layout,
    Line,
    clean_layout,
    decode,
    parse_article,
    parse_issue,
    read_articles,
    read_lines,
    separator,
)
from ecdigest.model import DEFAULT_SECTIONS, Article
from ecdigest.textwrap_cjk import wrap

SAMPLE_BYTES = SAMPLE.read_bytes()
SAMPLE_TEXT = SAMPLE_BYTES.decode("utf-8")

# Every title as printed, and the paragraphs a reader of the original sees, in order.
TITLES_AND_PARAGRAPHS = [
    ("商务部：把握跨境电商发展机遇 推进贸易数字化应用", 3),
    ("商务部：鼓励企业在中亚建设海外仓 支持中亚国家企业入驻中国电商平台", 2),
    ("上海城市数字化转型优秀应用案例集发布", 2),
    ("全国唯一一站式提供全程电子化企业登记服务平台在上海上线", 2),
    ("上海咖啡文化周开启 达达快送公布咖啡即时配送解决方案", 3),
    ("上海首个“有机盒马村”正式挂牌", 3),
    ("全球第一艘 5G 大型邮轮年底交付", 2),
    ("长三角数字干线元宇宙创新发展论坛暨首届长三角元宇宙日在沪举办", 3),
    ("2023 数字经济论坛举行", 2),
    ("2023 全球数字经济大会将于 7 月在北京举办", 2),
    ("数字化重构就业新形态", 2),
    ("虚拟数字人“现身”各行各业", 3),
    ("中关村论坛演绎元宇宙场景融合", 3),
    ("消费市场持续回暖 “618”购物节电商平台迎开门红", 2),
    ("跨境电商零售进口缴税有了新方式 税款电子支付功能在宁波试运行", 6),
    ("百度公布电商新品牌“百度优选”", 3),
    ("阿里国际站物流跟踪平台上线 面向所有外贸企业开放", 3),
    ("淘宝天猫发布商家 AI 生态伙伴计划", 3),
    ("微信新的支付方式刷掌支付正式发布", 2),
    ("亚马逊中文官网 7 月 17 日起停运", 1),
    ("ChatGPT 正式发布手机版", 2),
    ("中非数字经济合作成果丰硕", 1),
    ("中非一站式跨境服务平台上线", 5),
    ("工信部正式发布首个区块链技术领域国家标准", 4),
    ("刷脸支付新规将发布", 10),
    ("商务部：中国跨境电商主体已超 10 万家", 1),
    ("国家邮政局：今年全国快递业务量已达 500 亿件", 2),
    ("国家网信办：我国数字经济规模达 50.2 万亿元", 6),
    ("2022 年上海市快递业务量完成 28.6 亿件", 2),
    ("2022 年共享出行服务超 300 亿人次", 3),
    ("中国大模型数量居全球第二", 2),
    ("2023 中国网络零售百强京东、阿里巴巴、唯品会位居前三", 3),
    ("2023 数博会闭幕 项目签约投资金额 613 亿元", 1),
    ("浙江计划今年新增跨境电商出口网店超 1 万家", 3),
    ("广州网络市场经济创造多项全国第一", 2),
    ("中铁快运已在北京等 88 个城市开通高铁急送服务", 2),
    ("拼多多一季度营收为 376.4 亿元 净利润同比增长 212%", 2),
    ("上海“五五购物节”期间美团投入 18 亿元助力促消费", 2),
    ("京东：今年 618 为线上线下商家最多的一次", 2),
    ("拼多多“618 开门红”将发放 50 亿优惠券 覆盖全品类商品", 2),
    ("618 期间淘宝直播将为全国 11 个产业带中小商家开设专场", 2),
    ("支付宝小程序数量超 400 万", 2),
    ("互联网二手闲置交易平台闲鱼用户数突破 5 亿", 1),
    ("苏宁易购与饿了么达成战略合作，首批全国 600 家门店入驻", 4),
    ("2022 年欧盟电子商务市场实现快速增长", 4),
    ("美国 2023 年跨境网购买家数量或将达到 6980 万", 2),
    ("德国电商规模超 845 亿欧元", 3),
    ("2023 年意大利线上购物额预计达 540 亿欧元", 2),
    ("西班牙电商用户渗透率接近 30%", 3),
    ("中国数字经济呈六大发展趋势", 7),
    ("跨境电商六大发展趋势", 7),
    ("传统电商平台仍是网络直播消费的主要渠道", 9),
    ("直播带货要创新更要规范", 6),
]


@pytest.fixture(scope="module")
def sample() -> ImportResult:
    return parse_issue(SAMPLE_BYTES, status="published", path=str(SAMPLE))


def article(result: ImportResult, title: str) -> Article:
    (found,) = [a for a in result.issue.articles if a.title == title]
    return found


# --------------------------------------------------------------------------- the sample


def test_sample_sections_and_counts(sample: ImportResult) -> None:
    assert sample.counts == {"行业资讯": 23, "政策法规": 2, "数据观察": 24, "专家视点": 4}
    assert len(sample.issue.articles) == 53
    assert sample.unplaced == ()
    sections = [a.section for a in sample.issue.articles]
    # Sections follow their headers in order: 23 + 2 + 24 + 4.
    assert sections == ["行业资讯"] * 23 + ["政策法规"] * 2 + ["数据观察"] * 24 + ["专家视点"] * 4


def test_sample_issue_defaults(sample: ImportResult) -> None:
    issue = sample.issue
    assert issue.id == "2023-06"
    assert issue.date == dt.date(2023, 6, 5)  # the latest attribution date (共享出行, 06 月 05 日)
    assert issue.title == "电子商务动态 2023 年 6 月"
    assert issue.status == "published"
    assert [a.id for a in issue.articles] == [f"2023-06-{n:03d}" for n in range(1, 54)]
    assert issue.last_article_number == 53
    assert sample.encoding == "utf-8"


def test_sample_titles_and_paragraph_counts(sample: ImportResult) -> None:
    got = [(a.title, len(a.paragraphs)) for a in sample.issue.articles]
    assert got == TITLES_AND_PARAGRAPHS


def test_sample_attributions_match_every_printed_line(sample: ImportResult) -> None:
    """Source, 编选 and date of each article equal its printed line, read here independently."""
    printed = []
    pattern = re.compile(
        r"^来源：(?P<source>.+?)\s*(?:编选：(?P<by>.+?)\s*)?(?P<y>\d{4}) 年 (?P<m>\d\d) 月 (?P<d>\d\d) 日\s*$"
    )
    for raw in SAMPLE_TEXT.splitlines():
        if raw.startswith("来源："):
            match = pattern.match(raw)
            assert match, raw
            date = dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
            printed.append((match["source"], match["by"], date))
    got = [(a.source, a.compiled_by, a.date) for a in sample.issue.articles]
    assert got == printed
    assert len(printed) == 53


@pytest.mark.parametrize(
    ("title", "source", "compiled_by", "date"),
    [
        # own article: no 编选
        (
            "商务部：把握跨境电商发展机遇 推进贸易数字化应用",
            "《电子商务动态》编辑部",
            None,
            dt.date(2023, 5, 31),
        ),
        # outlet in “”, with 编选
        (
            "商务部：鼓励企业在中亚建设海外仓 支持中亚国家企业入驻中国电商平台",
            "“央广网”",
            "《电子商务动态》编辑部",
            dt.date(2023, 5, 29),
        ),
        # no space before 编选: 《新民晚报》编选：
        ("上海首个“有机盒马村”正式挂牌", "《新民晚报》", "《电子商务动态》编辑部", dt.date(2023, 5, 21)),
        # 《》 with a space before 编选
        ("全球第一艘 5G 大型邮轮年底交付", "《解放日报》", "《电子商务动态》编辑部", dt.date(2023, 5, 24)),
        ("直播带货要创新更要规范", "《经济日报》", "《电子商务动态》编辑部", dt.date(2023, 6, 3)),
    ],
)
def test_sample_attribution_variants(
    sample: ImportResult, title: str, source: str, compiled_by: str | None, date: dt.date
) -> None:
    found = article(sample, title)
    assert (found.source, found.compiled_by, found.date) == (source, compiled_by, date)


def test_titles_that_wrap_or_follow_a_page_break(sample: ImportResult) -> None:
    titles = [a.title for a in sample.issue.articles]
    # wrapped onto a second line (…入驻 / 中国电商平台; …上海上 / 线)
    assert "商务部：鼓励企业在中亚建设海外仓 支持中亚国家企业入驻中国电商平台" in titles
    assert "全国唯一一站式提供全程电子化企业登记服务平台在上海上线" in titles
    # a page break right after an attribution line: no blank line, a leading space
    assert titles[2] == "上海城市数字化转型优秀应用案例集发布"
    # a page break right after the 【数据观察】 header
    assert titles[25] == "商务部：中国跨境电商主体已超 10 万家"
    # a doubled space inside the printed title is one space; trailing spaces go
    assert "跨境电商零售进口缴税有了新方式 税款电子支付功能在宁波试运行" in titles
    assert "中铁快运已在北京等 88 个城市开通高铁急送服务" in titles


def test_word_spaces_at_line_ends_continue_the_paragraph(sample: ImportResult) -> None:
    # `Inside ` ends a line: a word space, and Latin words keep it when lines are joined
    us = article(sample, "美国 2023 年跨境网购买家数量或将达到 6980 万")
    assert us.paragraphs == (
        "根据数字化转型领域全球领先的研究公司 Inside intelligence 的最新预测，2023 年美国跨境网购买家"
        "数量将达到 6980 万，全球排名第二。",
        "Inside intelligence 预测，2023 年美国将增加 230 万跨境买家，同比增长 3.4%。另外，Inside "
        "intelligence 预计，明年将有 7180 万 14 岁及以上的美国消费者成为跨境买家；2024 年将有近 7200 万"
        "美国消费者（以及约三分之一的美国数字买家）进行海外购物。",
    )
    # `一是 `: a trailing space between two Chinese characters disappears
    face = article(sample, "刷脸支付新规将发布")
    assert "摄像头固定朝向某一区域时：一是应通过在该区域入口设置显著标识等方式" in face.paragraphs[-1]
    # `2022 `: a number keeps its space before the Chinese that follows
    alipay = article(sample, "支付宝小程序数量超 400 万")
    assert "支付宝小程序数量已经超过了 400 万，2022 年在平台产生交易的商家小程序" in alipay.paragraphs[0]


def test_joined_lines_follow_the_texts_own_spacing(sample: ImportResult) -> None:
    body = article(sample, "国家邮政局：今年全国快递业务量已达 500 亿件").paragraphs[0]
    assert "比 2019 年达到 500 亿件提前了 155 天" in body  # `比 2019` / `年达到`
    cruise = article(sample, "全球第一艘 5G 大型邮轮年底交付").paragraphs[1]
    assert "由于邮轮上建立了船载 5G 基站" in cruise  # `船载` / `5G 基站`
    assert "峰值速率可达千兆以上" in cruise  # across a page break: no space between Chinese
    chatgpt = article(sample, "ChatGPT 正式发布手机版").paragraphs
    assert chatgpt[0].startswith(
        "日前，人工智能研究公司 OpenAI 在官网宣布，其在美国推出了聊天机器人 ChatGPT 的 iPhone 应用"
    )
    assert "询问 GPT 日常生活" in chatgpt[1]
    # percent signs are not spaced from Chinese in this text, at a line end neither
    assert "分别增长至 58.6%和 77.0%。" in article(sample, "国家网信办：我国数字经济规模达 50.2 万亿元").body


def test_page_breaks_inside_and_between_paragraphs(sample: ImportResult) -> None:
    virtual = article(sample, "虚拟数字人“现身”各行各业").paragraphs
    assert "能唱歌跳舞，演绎节目、与品牌合作、直播带货，甚至" in virtual[1]  # `与品牌` / ` 合作`
    coffee = article(sample, "上海咖啡文化周开启 达达快送公布咖啡即时配送解决方案").paragraphs
    assert coffee[0].endswith("携手各方打造新型消费节庆和优质咖啡文化。")
    assert coffee[1].startswith("针对早高峰和下午茶咖啡配送订单高峰")  # a page starts a paragraph
    baidu = article(sample, "百度公布电商新品牌“百度优选”").paragraphs
    assert baidu[1].startswith("据介绍，百度电商的定位")
    report = article(sample, "国家网信办：我国数字经济规模达 50.2 万亿元").paragraphs
    assert report[2].startswith("数字产业规模稳步增长")  # `   数字产业…`: page break + indent
    survey = article(sample, "传统电商平台仍是网络直播消费的主要渠道").paragraphs[5]
    assert "五成多（53.99%）受访者对网络直播消费表示总体满意" in survey


def test_paragraphs_end_at_trailing_spaces_after_punctuation(sample: ImportResult) -> None:
    first = article(sample, "商务部：把握跨境电商发展机遇 推进贸易数字化应用")
    assert first.paragraphs == (
        "5 月 30—31 日，全国跨境电商综试区现场会在浙江省杭州市召开。会议发布 2022 年跨境电商综试区"
        "（以下简称综试区）考核评估结果，总结交流各综试区工作成效和经验做法，分析当前跨境电商发展面临形势，"
        "研究部署 2023 年重点工作。",
        "会议指出，近年来，跨境电商发展取得可喜进展。商务部会同有关部门，在制度、管理和服务方面持续创新，"
        "发布出台一系列政策措施，为跨境电商发展营造良好环境。各综试区持续推进“六体系两平台”建设，大力培育"
        "市场主体，逐步完善跨境电商生态，带动当地产业优化升级，取得积极成效。",
        "会议要求，各地要把握跨境电商发展机遇，扎实推进综试区建设，打造外贸创新发展新高地。要推进贸易数字化"
        "应用，提升通关便利化水平；梳理成熟经验做法，举办专题培训；加快外贸新型基础设施建设，构建跨境物流网络；"
        "优化线上服务平台功能，探索金融服务新模式；积极开拓新兴市场，加强国际交流合作。",
    )
    # A line that ends with `。` but no trailing space continues the paragraph.
    jobs = article(sample, "数字化重构就业新形态").paragraphs[1]
    assert (
        jobs
        == "除催生新职业以外，数字化技术也让互联网平台成为提升就业和求职效率的有效助力。通过聚合频道、数字工作证、直播等技术和产品提升就业招聘效率。"
    )
    # `：` plus a trailing space ends a paragraph that introduces a list
    eu = article(sample, "2022 年欧盟电子商务市场实现快速增长").paragraphs
    assert eu[0].endswith("呈现出以下特点：")
    assert [p[:2] for p in eu[1:]] == ["一是", "二是", "三是"]


def test_no_layout_residue_in_any_title_or_body(sample: ImportResult) -> None:
    page_number = re.compile(r"(^|\s)[-–—]\s*\d+\s*[-–—](\s|$)")
    for item in sample.issue.articles:
        for text in (item.title, *item.paragraphs):
            assert "来源：" not in text, item.id
            assert "【" not in text and "】" not in text, item.id
            assert not page_number.search(text), item.id
            assert "\n" not in text and "  " not in text, item.id
            assert text == text.strip(), item.id
    assert sample.layout.furniture == (1014,)  # ` - 20 - `


def test_sample_layout_is_learnt_from_the_text(sample: ImportResult) -> None:
    layout = sample.layout
    assert layout.double_spaced and layout.trailing_marks and layout.wrapped and layout.spaced_scripts
    # The body measure is about 80 columns (40 Chinese characters), estimated, not configured.
    assert 76 <= layout.measure <= 84


def test_the_measure_follows_the_page_not_a_constant() -> None:
    """The same text hard-wrapped at 60 columns (trailing spaces stripped) reads the same."""
    original = parse_issue(SAMPLE_BYTES)
    narrow = _rewrap_plain(original, width=60)
    again = parse_issue(narrow.encode())
    assert 54 <= again.layout.measure <= 62
    assert again.layout.double_spaced is False and again.layout.trailing_marks is False

    # A wrap at a space leaves no trace: where the text itself is inconsistent, the join
    # follows its majority. The sample spaces `%` from Chinese once (`20%-60% 的`), 70 times not.
    def unspace_percent(texts: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(t.replace("% 的", "%的") for t in texts)

    assert [(a.title, unspace_percent(a.paragraphs)) for a in again.issue.articles] == [
        (a.title, unspace_percent(a.paragraphs)) for a in original.issue.articles
    ]


def _rewrap_plain(result: ImportResult, *, width: int) -> str:
    """The issue as plain text: single spacing, a blank line between paragraphs, wrapped."""
    lines: list[str] = []
    for section, articles in result.issue.by_section(DEFAULT_SECTIONS):
        lines += [f"【{section}】", ""]
        for item in articles:
            assert item.date is not None
            lines += [*wrap(item.title, width), ""]
            for paragraph in item.paragraphs:
                lines += [*wrap(paragraph, width), ""]
            lines += [format_line(item.source, item.date, item.compiled_by), "", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- encodings


def _variants() -> dict[str, bytes]:
    return {
        "gb18030": SAMPLE_TEXT.encode("gb18030"),
        "utf-8-bom": b"\xef\xbb\xbf" + SAMPLE_BYTES,
        "utf-16": SAMPLE_TEXT.encode("utf-16"),
        "utf-16-be-bom": b"\xfe\xff" + SAMPLE_TEXT.encode("utf-16-be"),
        "crlf": SAMPLE_TEXT.replace("\n", "\r\n").encode(),
        "cr": SAMPLE_TEXT.replace("\n", "\r").encode(),
        "gb18030-crlf": SAMPLE_TEXT.replace("\n", "\r\n").encode("gb18030"),
    }


@pytest.fixture(scope="module")
def sample_json(tmp_path_factory: pytest.TempPathFactory) -> str:
    from typer.testing import CliRunner

    from ecdigest.cli import app
    from ecdigest.operations import init_archive

    root = tmp_path_factory.mktemp("original") / "archive"
    init_archive(root)
    runner = CliRunner()
    result = runner.invoke(app, ["-a", str(root), "import", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    return runner.invoke(app, ["-a", str(root), "export", "json", "2023-06"]).stdout


@pytest.mark.parametrize("variant", sorted(_variants()))
def test_encodings_and_line_endings_import_to_the_same_json(
    variant: str, sample_json: str, invoke: Invoke, tmp_path: Path
) -> None:
    path = tmp_path / f"issue-{variant}.txt"
    path.write_bytes(_variants()[variant])
    result = invoke("import", str(path))
    assert result.exit_code == 0, result.output
    assert invoke("export", "json", "2023-06").stdout == sample_json


def test_detected_encodings_are_named() -> None:
    assert decode(SAMPLE_TEXT.encode("gb18030")).encoding == "gb18030"
    assert decode(SAMPLE_TEXT.encode("gbk")).encoding == "gb18030"  # GB18030 reads all of GBK
    assert decode(b"\xef\xbb\xbf" + SAMPLE_BYTES).encoding == "utf-8-sig"
    assert decode(SAMPLE_TEXT.encode("utf-16")).encoding == "utf-16"
    traditional = "【行業資訊】\n\n電子商務平台發展迅速，網絡購物已經成為消費者的主要購物方式之一。\n"
    assert decode(traditional.encode("big5")).text == traditional


def test_encoding_option_overrides_detection(invoke: Invoke, tmp_path: Path, sample_json: str) -> None:
    path = tmp_path / "gbk.txt"
    path.write_bytes(SAMPLE_TEXT.encode("gbk"))
    result = invoke("import", str(path), "--encoding", "GBK")
    assert result.exit_code == 0, result.output
    assert invoke("export", "json", "2023-06").stdout == sample_json
    wrong = invoke("import", str(path), "--encoding", "utf-8", "--id", "x")
    assert wrong.exit_code == 2
    assert f"{path}:1: not valid utf-8" in wrong.stderr
    assert "--encoding" in wrong.stderr
    unknown = invoke("import", str(path), "--encoding", "klingon")
    assert unknown.exit_code == 2
    assert "unknown encoding 'klingon'" in unknown.stderr


def test_a_truncated_pdf_is_refused_in_one_line(invoke: Invoke, tmp_path: Path) -> None:
    """PDFs are read (tests/test_import_documents.py); one cut short is damaged, not text."""
    path = tmp_path / "issue.txt"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    result = invoke("import", str(path))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "not a readable PDF (damaged or truncated" in result.stderr


# --------------------------------------------------------------------------- the command


def test_import_command_writes_the_issue_and_summarises(invoke: Invoke, archive_dir: Path) -> None:
    result = invoke("import", str(SAMPLE), "--status", "published")
    assert result.exit_code == 0, result.output
    assert "as 2023-06 (published, 2023-06-05)" in result.stdout
    assert "53 articles: 行业资讯 23, 政策法规 2, 数据观察 24, 专家视点 4" in result.stdout
    assert result.stderr == ""
    written = archive_dir / "2023" / "2023-06.toml"
    assert written.is_file()
    listing = json.loads(invoke("list", "--format", "json").stdout)
    assert listing[0]["sections"] == {"行业资讯": 23, "政策法规": 2, "数据观察": 24, "专家视点": 4}


def test_shipped_archive_is_exactly_what_the_importer_produces(invoke: Invoke, archive_dir: Path) -> None:
    """issues/ is generated, never hand-edited: a fresh import gives the same bytes."""
    assert invoke("import", str(SAMPLE), "--status", "published").exit_code == 0
    shipped = SHIPPED_ARCHIVE / "2023" / "2023-06.toml"
    assert (archive_dir / "2023" / "2023-06.toml").read_bytes() == shipped.read_bytes()


def test_dry_run_writes_nothing(invoke: Invoke, archive_dir: Path) -> None:
    def files() -> dict[Path, int]:  # the archive's own files; .ecdigest/ holds derived caches
        return {p: p.stat().st_mtime_ns for p in archive_dir.rglob("*") if ".ecdigest" not in p.parts}

    before = files()
    result = invoke("import", str(SAMPLE), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would import" in result.stdout and "nothing was written" in result.stdout
    assert "53 articles" in result.stdout
    assert files() == before


def test_options_override_the_defaults(invoke: Invoke, archive_dir: Path) -> None:
    result = invoke(
        "import", str(SAMPLE), "--id", "back-2023-06", "--date", "2023 年 06 月 08 日", "--title", "六月号"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(invoke("export", "json", "back-2023-06").stdout)
    assert (data["id"], data["date"], data["title"], data["status"]) == (
        "back-2023-06",
        "2023-06-08",
        "六月号",
        "draft",
    )
    assert data["articles"][0]["id"] == "back-2023-06-001"
    assert (archive_dir / "2023" / "back-2023-06.toml").is_file()


def test_an_existing_issue_id_is_refused(invoke: Invoke, archive_dir: Path) -> None:
    assert invoke("import", str(SAMPLE)).exit_code == 0
    path = archive_dir / "2023" / "2023-06.toml"
    before = path.read_bytes()
    again = invoke("import", str(SAMPLE))
    assert again.exit_code == 2
    assert "issue '2023-06' already exists" in again.stderr
    assert "--id" in again.stderr
    assert path.read_bytes() == before
    dry = invoke("import", str(SAMPLE), "--dry-run")
    assert dry.exit_code == 2 and "already exists" in dry.stderr  # a dry run checks the same
    assert invoke("import", str(SAMPLE), "--id", "2023-06b").exit_code == 0


def test_import_refuses_to_merge_into_a_draft_made_by_new(invoke: Invoke) -> None:
    assert invoke("new", "--id", "2023-06", "--date", "2023-06-01").exit_code == 0
    result = invoke("import", str(SAMPLE))
    assert result.exit_code == 2
    assert "never merges" in result.stderr


def test_stdin_and_json_summary(invoke: Invoke) -> None:
    result = invoke("import", "-", "--format", "json", "--dry-run", input=SAMPLE_BYTES)
    assert result.exit_code == 0, result.output
    (summary,) = json.loads(result.stdout)
    assert summary["file"] == "<stdin>"
    assert summary["articles"] == 53
    assert summary["written"] is False
    assert summary["sections"] == {"行业资讯": 23, "政策法规": 2, "数据观察": 24, "专家视点": 4}
    assert summary["unplaced"] == []


def test_a_file_without_attribution_lines_is_an_input_error(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("【行业资讯】\n\n一个标题\n\n一段正文，没有来源行。\n", encoding="utf-8")
    result = invoke("import", str(path))
    assert result.exit_code == 2
    assert f"{path}: no attribution lines found" in result.stderr
    assert "来源：" in result.stderr  # says what was expected
    assert "Traceback" not in result.output


def test_a_file_without_section_headers_is_an_input_error(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "flat.txt"
    path.write_text("标题\n\n正文。\n\n来源：《人民日报》 2023 年 05 月 31 日\n", encoding="utf-8")
    result = invoke("import", str(path))
    assert result.exit_code == 2
    assert "no section header" in result.stderr and "【行业资讯】" in result.stderr


def test_an_unknown_section_header_names_its_line(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "odd.txt"
    path.write_text(
        "【行业资讯】\n\n标题\n\n正文。\n\n来源：《人民日报》 2023 年 05 月 31 日\n\n【编者按】\n",
        encoding="utf-8",
    )
    result = invoke("import", str(path))
    assert result.exit_code == 2
    assert f"{path}:9: section header 【编者按】 names no section of this archive" in result.stderr


UNPLACED_TAIL = "\n\n这一段在最后一条来源行之后，\n\n不属于任何文章。\n"


def test_text_that_fits_no_article_is_reported_with_line_numbers(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "tail.txt"
    path.write_text(SAMPLE_TEXT + UNPLACED_TAIL, encoding="utf-8")
    result = invoke("import", str(path))
    assert result.exit_code == 0, result.output
    assert (
        f"ecdigest: warning: {path}:1531-1533: in no article (after the last attribution line): "
        "这一段在最后一条来源行之后，不属于任何文章。"
    ) in result.stderr
    assert "1 passage(s) left out" in result.stdout
    assert "53 articles" in result.stdout


def test_strict_fails_on_unplaced_text_and_writes_nothing(
    invoke: Invoke, tmp_path: Path, archive_dir: Path
) -> None:
    path = tmp_path / "tail.txt"
    path.write_text(SAMPLE_TEXT + UNPLACED_TAIL, encoding="utf-8")
    result = invoke("import", str(path), "--strict")
    assert result.exit_code == 1
    assert "1531-1533" in result.stderr
    assert "1 passage of text fit in no article; nothing was imported" in result.stderr
    assert not (archive_dir / "2023").exists()
    assert invoke("import", str(SAMPLE), "--strict").exit_code == 0


def test_blocks_without_attribution_and_bad_attribution_lines_are_reported() -> None:
    text = (
        "【行业资讯】\n\n"
        "有来源的文章\n\n正文一。\n\n来源：《人民日报》 2023 年 05 月 31 日\n\n"
        "没有来源行的文章\n\n它的正文。\n\n"  # lines 9-11: no attribution before the next header
        "【政策法规】\n\n"
        "日期坏了的文章\n\n正文二。\n\n来源：《人民日报》 2023 年 13 月 41 日\n\n"  # lines 15-19
        "完整的文章\n\n正文三。\n\n来源：“央广网” 编选：《电子商务动态》编辑部 2023 年 06 月 01 日\n"
    )
    result = parse_issue(text.encode())
    assert [a.title for a in result.issue.articles] == ["有来源的文章", "完整的文章"]
    assert result.counts == {"行业资讯": 1, "政策法规": 1}
    where = [(u.first_line, u.last_line) for u in result.unplaced]
    assert where == [(9, 11), (15, 19)]
    assert result.unplaced[0].reason == "no attribution line follows it"
    assert result.unplaced[1].reason.startswith("unreadable attribution line")
    assert result.issue.date == dt.date(2023, 6, 1)


def test_several_files_become_several_issues(invoke: Invoke, tmp_path: Path) -> None:
    other = tmp_path / "2023-07.txt"
    other.write_text(
        "【数据观察】\n\n七月的文章\n\n正文。\n\n来源：《人民日报》 2023 年 07 月 03 日\n", encoding="utf-8"
    )
    result = invoke("import", str(SAMPLE), str(other))
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[0] == ["file", "issue", "articles", *DEFAULT_SECTIONS, "left", "out"]
    assert rows[1] == [str(SAMPLE), "2023-06", "53", "23", "2", "24", "4", "0"]
    assert rows[2] == [str(other), "2023-07", "1", "0", "0", "1", "0", "0"]
    assert rows[3:] == [["imported", "2", "of", "2", "files"]]
    ids = [item["id"] for item in json.loads(invoke("list", "--format", "json").stdout)]
    assert ids == ["2023-06", "2023-07"]
    clash = invoke("import", str(SAMPLE), str(other), "--id", "x")
    assert clash.exit_code == 2
    assert "--id, --date and --title name one issue" in clash.stderr


def test_two_files_with_one_id_import_the_first(invoke: Invoke, tmp_path: Path, archive_dir: Path) -> None:
    """A batch never stops for one file: the second file that becomes 2023-06 fails alone."""
    copy = tmp_path / "copy.txt"
    copy.write_bytes(SAMPLE_BYTES)
    result = invoke("import", str(SAMPLE), str(copy))
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert errors == [
        f"ecdigest: error: {copy}: becomes issue '2023-06', like {SAMPLE} (import it on its own with --id)",
        "ecdigest: error: 1 of 2 files could not be imported (see the error lines above; the other files were imported)",
    ]
    assert [p.name for p in (archive_dir / "2023").iterdir()] == ["2023-06.toml"]


def test_real_subprocess_import(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    assert run_cli(["init", str(root)]).returncode == 0
    done = run_cli(["-a", str(root), "import", str(SAMPLE), "--status", "published"])
    assert done.returncode == 0, done.stderr.decode()
    assert "53 articles: 行业资讯 23, 政策法规 2, 数据观察 24, 专家视点 4" in done.stdout.decode()
    shipped = SHIPPED_ARCHIVE / "2023" / "2023-06.toml"
    assert (root / "2023" / "2023-06.toml").read_bytes() == shipped.read_bytes()
    refused = run_cli(["-a", str(root), "import", "-"], input=SAMPLE_BYTES)
    assert refused.returncode == 2
    assert refused.stderr.decode().startswith("ecdigest: error: ")
    assert "already exists" in refused.stderr.decode()


# --------------------------------------------------------------------------- add --from-text

# One article copied out of the PDF text: double spacing, a wrapped title, trailing marks.
PDF_PASTE = "\n".join(SAMPLE_TEXT.split("\n")[34:57]) + "\n"


def test_parse_article_reads_a_pdf_paste() -> None:
    pasted = parse_article(PDF_PASTE.encode())
    assert pasted.title == "商务部：鼓励企业在中亚建设海外仓 支持中亚国家企业入驻中国电商平台"
    assert len(pasted.paragraphs) == 2
    assert pasted.paragraphs[1].startswith("此外，商务部将与中亚国家开展数字贸易")
    assert pasted.attribution is not None
    assert pasted.attribution.source == "“央广网”"
    assert pasted.attribution.compiled_by == "《电子商务动态》编辑部"
    assert pasted.section is None


@pytest.mark.parametrize(
    "text",
    [
        # one paragraph per line, nothing between
        "标题在这里\n第一段内容。第一段继续。\n第二段 AI 内容。\n来源：《人民日报》 2023 年 05 月 31 日\n",
        # a blank line between one-line paragraphs
        "标题在这里\n\n第一段内容。第一段继续。\n\n第二段 AI 内容。\n\n来源：《人民日报》 2023 年 05 月 31 日\n",
        # indented with ideographic spaces, as copied from a word processor
        "标题在这里\r\n\u3000\u3000第一段内容。第一段继续。\r\n\u3000\u3000第二段 AI 内容。\r\n"
        "来源：《人民日报》2023年5月31日\r\n",
    ],
)
def test_parse_article_reads_plain_pastes(text: str) -> None:
    pasted = parse_article(text.encode())
    assert pasted.title == "标题在这里"
    assert pasted.paragraphs == ("第一段内容。第一段继续。", "第二段 AI 内容。")
    assert pasted.attribution is not None
    assert (pasted.attribution.source, pasted.attribution.date) == ("《人民日报》", dt.date(2023, 5, 31))


def test_add_from_text_with_flags_beside_it(invoke: Invoke) -> None:
    assert invoke("new", "--id", "2023-07", "--date", "2023-07-05").exit_code == 0
    result = invoke("add", "2023-07", "--section", "行业资讯", "--from-text", "-", input=PDF_PASTE)
    assert result.exit_code == 0, result.output
    assert result.stdout == "2023-07-001\n"
    overridden = invoke(
        "add",
        "2023-07",
        "--section",
        "专家视点",
        "--title",
        "另一个标题",
        "--date",
        "2023-07-01",
        "--compiled-by",
        "",
        "--from-text",
        "-",
        input=PDF_PASTE,
    )
    assert overridden.exit_code == 0, overridden.output
    data = json.loads(invoke("export", "json", "2023-07").stdout)
    first, second = data["articles"]
    assert first["title"] == "商务部：鼓励企业在中亚建设海外仓 支持中亚国家企业入驻中国电商平台"
    assert (first["section"], first["source"], first["compiled_by"], first["date"]) == (
        "行业资讯",
        "“央广网”",
        "《电子商务动态》编辑部",
        "2023-05-29",
    )
    assert len(first["paragraphs"]) == 2
    assert (second["title"], second["section"], second["compiled_by"], second["date"]) == (
        "另一个标题",
        "专家视点",
        None,
        "2023-07-01",
    )
    assert second["source"] == "“央广网”" and second["paragraphs"] == first["paragraphs"]


def test_add_from_text_takes_the_section_header_and_no_compiled_by(invoke: Invoke, tmp_path: Path) -> None:
    assert invoke("new", "--id", "2023-07", "--date", "2023-07-05").exit_code == 0
    path = tmp_path / "paste.txt"
    path.write_bytes(
        "【数据观察】\n\n标题\n\n正文。\n\n来源：《人民日报》 2023 年 07 月 01 日\n".encode("gb18030")
    )
    result = invoke("add", "2023-07", "--from-text", str(path))
    assert result.exit_code == 0, result.output
    (item,) = json.loads(invoke("export", "json", "2023-07").stdout)["articles"]
    assert (item["section"], item["title"], item["source"], item["compiled_by"]) == (
        "数据观察",
        "标题",
        "《人民日报》",
        None,  # the line has no 编选: not the editorial office's default
    )


def test_add_from_text_needs_a_section_when_not_prompted(invoke: Invoke) -> None:
    assert invoke("new", "--id", "2023-07", "--date", "2023-07-05").exit_code == 0
    result = invoke("add", "2023-07", "--from-text", "-", input=PDF_PASTE)
    assert result.exit_code == 2
    assert "missing required field: section" in result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "标题\n\n正文。\n\n来源：《人民日报》 2023 年 05 月 31 日\n\n又一篇\n\n正文。\n\n"
            "来源：《人民日报》 2023 年 06 月 01 日\n",
            "<stdin>:11: 2 attribution lines: this reads one article",
        ),
        (
            "标题\n\n正文。\n\n来源：《人民日报》 2023 年 05 月 31 日\n\n多余的一行。\n",
            "<stdin>:7: text after the attribution line",
        ),
        ("标题\n\n正文。\n\n来源：《人民日报》\n", "<stdin>:5: unreadable attribution line"),
    ],
)
def test_add_from_text_refuses_what_is_not_one_article(invoke: Invoke, text: str, message: str) -> None:
    assert invoke("new", "--id", "2023-07", "--date", "2023-07-05").exit_code == 0
    result = invoke("add", "2023-07", "--section", "行业资讯", "--from-text", "-", input=text)
    assert result.exit_code == 2
    assert message in result.stderr
    assert json.loads(invoke("export", "json", "2023-07").stdout)["articles"] == []


def test_from_text_and_body_file_cannot_both_read_stdin(invoke: Invoke) -> None:
    assert invoke("new", "--id", "2023-07", "--date", "2023-07-05").exit_code == 0
    result = invoke("add", "2023-07", "--from-text", "-", "--body-file", "-", input=PDF_PASTE)
    assert result.exit_code == 2
    assert "stdin (-) can be read only once" in result.stderr


# --------------------------------------------------------------------------- properties

_HAN = "电子商务数据平台发展市场企业服务跨境网络消费直播中国全球新技术创新规模增长物流支付"
_LATIN = ["AI", "5G", "APP", "B2B", "2023", "618", "3.4", "iPhone", "GMV", "Inside", "WiFi6"]

han_runs = st.text(alphabet=_HAN, min_size=1, max_size=12)


@st.composite
def clauses(draw: st.DrawFn) -> str:
    """A clause in the newsletter's house style: a space between Chinese and Latin or digits."""
    text = draw(han_runs)
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            latin = " ".join(draw(st.lists(st.sampled_from(_LATIN), min_size=1, max_size=3)))
            text += f" {latin} "
        text += draw(han_runs)
    return text


@st.composite
def paragraphs(draw: st.DrawFn) -> str:
    """One sentence (commas inside, `。` only at its end), as a paragraph of the newsletter."""
    return "，".join(draw(st.lists(clauses(), min_size=1, max_size=6))) + "。"


sources = st.sampled_from(["《人民日报》", "“央广网”", "《电子商务动态》编辑部", "“上海市邮政管理局”"])


@st.composite
def articles(draw: st.DrawFn) -> tuple[str, list[str], str, str | None, dt.date]:
    title = draw(clauses())
    body = draw(st.lists(paragraphs(), min_size=1, max_size=4))
    source = draw(sources)
    compiled_by = draw(st.sampled_from([None, "《电子商务动态》编辑部"]))
    date = draw(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31)))
    return title, body, source, compiled_by, date


def render_pdf_text(title: str, body: list[str], attribution: str, width: int) -> str:
    """The article as the PDF-to-text tool leaves it: a blank line after every visual line,
    a whitespace-only line around the title, a trailing space where a paragraph ends."""
    visual: list[str] = []
    title_lines = wrap(title, width * 2 // 3)
    visual += [*title_lines[:-1], title_lines[-1] + " ", " "]
    for paragraph in body:
        lines = wrap(paragraph, width)
        visual += [*lines[:-1], lines[-1] + " "]
    visual.append(attribution + " ")
    return "".join(line + "\n\n" for line in visual)


def render_plain_text(title: str, body: list[str], attribution: str, width: int) -> str:
    """The article typed in the newsletter's form: title, blank, wrapped paragraphs, attribution."""
    blocks = [wrap(title, width)] + [wrap(p, width) for p in body] + [[attribution]]
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"


@settings(max_examples=150, deadline=None)
@given(article=articles(), width=st.integers(48, 100), form=st.sampled_from(["pdf", "plain"]))
def test_an_article_in_the_newsletters_form_parses_back(
    article: tuple[str, list[str], str, str | None, dt.date], width: int, form: str
) -> None:
    title, body, source, compiled_by, date = article
    attribution = format_line(source, date, compiled_by)
    render = render_pdf_text if form == "pdf" else render_plain_text
    pasted = parse_article(render(title, body, attribution, width).encode("utf-8"))
    assert pasted.title == title
    assert list(pasted.paragraphs) == body
    assert pasted.attribution is not None
    assert (pasted.attribution.source, pasted.attribution.compiled_by, pasted.attribution.date) == (
        source,
        compiled_by,
        date,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=600))
def test_arbitrary_text_never_crashes_the_importer(text: str) -> None:
    for parse in (parse_issue, parse_article):
        try:
            parse(text.encode("utf-8"))  # type: ignore[operator]
        except EcdigestError as error:
            assert str(error)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash_the_importer(data: bytes) -> None:
    try:
        parse_issue(data)
    except EcdigestError as error:
        assert str(error)


_LINE_KINDS = st.one_of(
    st.sampled_from(["【行业资讯】", "【数据观察】", " - 7 - ", "", " ", "第 3 页"]),
    st.builds(
        format_line,
        sources,
        st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2024, 1, 1)),
        st.sampled_from([None, "《电子商务动态》编辑部"]),
    ),
    st.just("来源：《人民日报》 没有日期"),
    st.builds(
        lambda t, s: t + s,
        st.text(alphabet=_HAN + "，。 Ab1", min_size=1, max_size=50),
        st.sampled_from(["", " "]),
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINE_KINDS, max_size=40), st.booleans())
def test_nothing_is_silently_dropped(lines: list[str], double: bool) -> None:
    """Every line of text ends up in an article, in the unplaced report, or is a header."""
    text = ("\n\n" if double else "\n").join(lines)
    try:
        found, unplaced, layout, headers = read_articles(text, DEFAULT_SECTIONS)
    except InputError:
        return
    covered = {number for number, _ in headers}
    for item in found:
        covered |= set(range(item.first_line, item.last_line + 1))
        for paragraph in (item.title, *item.paragraphs):
            assert not paragraph.startswith("来源："), paragraph
    for left in unplaced:
        covered |= set(range(left.first_line, left.last_line + 1))
    text_lines = {line.number for line in layout.lines if not line.is_blank}
    assert text_lines <= covered
    assert not set(layout.furniture) & text_lines


# --------------------------------------------------------------------------- small rules


def _line(text: str, *, trailing: bool = False) -> Line:
    return Line(1, text, trailing_space=trailing)


@pytest.mark.parametrize(
    ("before", "trailing", "after", "expected"),
    [
        ("一是", True, "应通过", ""),  # a trailing space between Chinese characters is layout
        ("Inside", True, "intelligence", " "),
        ("Inside", False, "intelligence", " "),  # Latin words are never glued
        ("2022", True, "年在平台", " "),
        ("比 2019", False, "年达到", " "),  # the text spaces Chinese and digits
        ("58.6%", False, "和 77.0%", ""),  # but not % and Chinese
        ("的 50%", False, "（2021 年", ""),
    ],
)
def test_separator_at_a_line_break(before: str, trailing: bool, after: str, expected: str) -> None:
    layout = Layout((), spaced_scripts=True)
    assert separator(_line(before, trailing=trailing), _line(after), layout) == expected


def test_unspaced_texts_are_joined_unspaced() -> None:
    layout = clean_layout(read_lines("比2019年的数据，GMV达到5亿元，\n2023年增长。\n"))
    assert layout.spaced_scripts is False
    assert separator(_line("达到5亿元，比2019"), _line("年达到"), layout) == ""


@pytest.mark.parametrize(
    "furniture",
    [
        "\n\n - 12 - \n\n ",  # as in the sample: its own visual line, then a page break
        "\n\n\n\n - 12 - \n\n\n\n ",  # pdftotext-style extra empty lines around a footer
        "\n\n第 12 页\n\n\f",  # a form feed starts the next page
    ],
)
def test_page_numbers_inside_a_paragraph_leave_no_break(furniture: str) -> None:
    text = (
        "【行业资讯】\n\n标题 \n\n \n\n这是一行很长的正文，用来测试页码出现在段落中间的时候不会把段落切"
        + furniture
        + "开。下一行也很长很长很长很长很长很长很长很长很长很长很长很长很长的句子。 \n\n"
        "来源：《人民日报》 2023 年 05 月 31 日 \n"
    )
    result = parse_issue(text.encode())
    (item,) = result.issue.articles
    assert item.title == "标题"
    assert item.paragraphs == (
        "这是一行很长的正文，用来测试页码出现在段落中间的时候不会把段落切开。下一行也很长很长很长很长很长很长很长很长很长很长很长很长很长的句子。",
    )
    (number,) = result.layout.furniture
    assert text.split("\n")[number - 1].strip() in ("- 12 -", "第 12 页")
