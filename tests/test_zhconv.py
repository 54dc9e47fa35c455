"""Traditional Chinese: the regression phrases OpenCC gets wrong and our fixes get right,
the protected terms, the corner brackets, and the script-neutral search key.

Each regression phrase is checked twice: the edition's converter must give the expected
text, and OpenCC alone (the same converter without our fixes) must not, so a phrase that
upstream starts to get right is noticed. A few guards are the other way round: OpenCC
gets them right and a broader fix of ours must not break them. Then every shipped fix is
taken out in turn: at least one phrase must come out wrong without it, so no entry is
dead weight and removing any fix fails this test.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from conftest import REPO

from ecdigest import zhconv
from ecdigest.errors import UsageError

TW, HK = "zh-Hant-TW", "zh-Hant-HK"

# (edition, archive text, expected edition text). Sources of each mistake: the fixes file.
REGRESSION: list[tuple[str, str, str]] = [
    (TW, "这项技术被发明于 1990 年", "這項技術被發明於 1990 年"),
    (TW, "古城遗址被发掘", "古城遺址被發掘"),
    (TW, "新规被发布后", "新規被發布後"),
    (TW, "数据被发送到服务器", "資料被傳送到伺服器"),
    (TW, "活动由粉丝发起", "活動由粉絲發起"),
    (TW, "用户可以向其粉丝发布新消息", "使用者可以向其粉絲發布新訊息"),
    (TW, "前头发生的事", "前頭發生的事"),
    (TW, "里头发生了什么", "裡頭發生了什麼"),
    (TW, "视频展示了如何提高效率", "影片展示了如何提高效率"),
    (TW, "商家了解了如何开店", "商家瞭解了如何開店"),
    (TW, "鼓励企业参与制造", "鼓勵企業參與製造"),
    (TW, "一只只包裹", "一隻隻包裹"),
    (TW, "这是只能在线上购买的商品", "這是只能在線上購買的商品"),
    (TW, "他们是勇敢的士兵", "他們是勇敢的士兵"),
    (TW, "改变量子比特", "改變量子位元"),
    (TW, "少数组织", "少數組織"),
    (TW, "聚集成群", "聚集成群"),
    (TW, "四则运算法则", "四則運算法則"),
    (TW, "会议发布 2022 年考核评估结果", "會議發布 2022 年考核評估結果"),
    (TW, "商务部例行新闻发布会", "商務部例行新聞發布會"),
    (TW, "区块链标准化进程", "區塊鏈標準化進程"),
    (TW, "内容包罗万象", "內容包羅萬象"),
    (TW, "快手“2023 万象大会”", "快手「2023 萬象大會」"),
    (TW, "各类企业注销的全程网办", "各類企業註銷的全程網辦"),
    (TW, "提供申请、审核、发照服务", "提供申請、審核、發照服務"),
    (TW, "国际贸易“单一窗口”", "國際貿易「單一窗口」"),
    (TW, "运用剧情脚本等技术", "運用劇情腳本等技術"),
    (TW, "据界面新闻报道", "據界面新聞報道"),
    (HK, "这项技术被发明于 1990 年", "這項技術被發明於 1990 年"),
    (HK, "活动由粉丝发起", "活動由粉絲發起"),
    (HK, "里头发生了什么", "裏頭發生了什麼"),
    (HK, "视频展示了如何提高效率", "視頻展示了如何提高效率"),
    (HK, "鼓励企业参与制造", "鼓勵企業參與製造"),
    (HK, "一只只包裹", "一隻隻包裹"),
    (HK, "这是只能在线上购买的商品", "這是只能在線上購買的商品"),
]

# Guards: OpenCC is right, and must stay right next to a broader fix of ours.
GUARDS: list[tuple[str, str, str]] = [
    (TW, "促进头发生长", "促進頭髮生長"),  # against 头发生 -> 頭發生
    (HK, "促进头发生长", "促進頭髮生長"),
    (TW, "老挝万象", "寮國永珍"),  # against 万象 -> 萬象
]

# (protected_terms, archive text, expected zh-Hant-TW, expected zh-Hant-HK): names,
# brands and hashtags OpenCC misreads (surnames 于 and 余 are not 於 and 餘).
PROTECTED: list[tuple[tuple[str, ...], str, str, str]] = [
    (("于东来=于東來",), "胖东来创始人于东来表示", "胖東來創始人于東來表示", "胖東來創始人于東來表示"),
    (("余承东=余承東",), "华为余承东发布新品", "華為余承東發布新品", "華為余承東發佈新品"),
    (("#双11#",), "话题 #双11# 阅读量", "話題 #双11# 閱讀量", "話題 #双11# 閲讀量"),
]


def bare(edition: str) -> zhconv.Converter:
    """OpenCC alone, with the corner brackets: the converter minus our fixes."""
    return zhconv.Converter(zhconv.get_edition(edition), {})


def test_the_regression_set_is_big_enough() -> None:
    assert len(REGRESSION) + len(GUARDS) + 2 * len(PROTECTED) >= 40


@pytest.mark.parametrize(
    ("edition", "text", "expected"), REGRESSION, ids=[f"{e}:{t}" for e, t, _ in REGRESSION]
)
def test_regression_phrase(edition: str, text: str, expected: str) -> None:
    assert zhconv.convert(text, edition) == expected
    assert bare(edition).convert(text) != expected, (
        "OpenCC alone gets this right now: is the fix still needed?"
    )


@pytest.mark.parametrize(("edition", "text", "expected"), GUARDS, ids=[f"{e}:{t}" for e, t, _ in GUARDS])
def test_guard_phrase(edition: str, text: str, expected: str) -> None:
    assert zhconv.convert(text, edition) == expected
    assert bare(edition).convert(text) == expected


@pytest.mark.parametrize(("terms", "text", "tw", "hk"), PROTECTED, ids=[t for _, t, _, _ in PROTECTED])
def test_protected_terms(terms: tuple[str, ...], text: str, tw: str, hk: str) -> None:
    for edition, expected in ((TW, tw), (HK, hk)):
        assert zhconv.convert(text, edition, terms) == expected
        assert zhconv.convert(text, edition) != expected, "the protected term changes nothing"


@pytest.mark.parametrize("edition", [TW, HK])
def test_every_shipped_fix_is_needed(edition: str) -> None:
    fixes = zhconv.shipped_fixes(edition)
    cases = [(t, e) for ed, t, e in REGRESSION + GUARDS if ed == edition]
    for key in fixes:
        without = zhconv.Converter(zhconv.get_edition(edition), {k: v for k, v in fixes.items() if k != key})
        wrong = [t for t, e in cases if without.convert(t) != e]
        assert wrong, f"{edition}: no regression phrase fails without the fix {key!r}: add one"


def test_fixes_change_nothing_else_in_the_shipped_issue() -> None:
    """On the shipped issue, the only differences fixes make are at their keys."""
    data = tomllib.loads((REPO / "issues" / "2023" / "2023-06.toml").read_text("utf-8"))
    texts = [a[k] for a in data["articles"] for k in ("title", "source", "body")]
    for edition in (TW, HK):
        keys = zhconv.shipped_fixes(edition)
        for text in texts:
            if not any(key in text for key in keys):
                assert zhconv.convert(text, edition) == bare(edition).convert(text)


def test_fixes_file_is_well_formed() -> None:
    for edition in (TW, HK):
        fixes = zhconv.shipped_fixes(edition)
        assert fixes and all(k and v and "\t" not in v for k, v in fixes.items())
    assert zhconv.shipped_fixes(TW)["发布"] == "發布" and "发布" not in zhconv.shipped_fixes(HK)


# --------------------------------------------------------------------------- details


def test_corner_brackets_and_apostrophes() -> None:
    assert zhconv.convert("“央广网”报道‘双11’", TW) == "「央廣網」報道『雙11』"
    assert zhconv.convert("Macy’s 与 L’Oréal", HK) == "Macy’s 與 L’Oréal"


def test_characters_opencc_cannot_take_pass_through() -> None:
    # OpenCC stops at NUL and refuses lone surrogates: the text around them still converts
    assert zhconv.convert("发展\x00发展", TW) == "發展\x00發展"
    assert zhconv.convert("发展\ud800发展", HK) == "發展\ud800發展"
    assert zhconv.convert("", TW) == ""
    assert zhconv.convert("ASCII only, 2023-06-001 https://example.org/?a=1", TW) == (
        "ASCII only, 2023-06-001 https://example.org/?a=1"
    )


@pytest.mark.parametrize(
    "terms", [["=於"], ["于东来="], ["a=b=c"], [" "], ["于东来=于東來", "于东来=於東來"]]
)
def test_bad_protected_terms_are_refused(terms: list[str]) -> None:
    with pytest.raises(UsageError):
        zhconv.parse_protected_terms(terms)


def test_protected_terms_parse() -> None:
    assert zhconv.parse_protected_terms(["《人民日报》", " 于东来 = 于東來 ", "x=x", "x=x"]) == {
        "《人民日报》": "《人民日报》",
        "于东来": "于東來",
        "x": "x",
    }


def test_unknown_edition() -> None:
    with pytest.raises(UsageError, match="zh-Hant-TW"):
        zhconv.get_edition("zh-TW")


# --------------------------------------------------------------------------- folding


def _shipped_text() -> str:
    data = tomllib.loads((REPO / "issues" / "2023" / "2023-06.toml").read_text("utf-8"))
    return "\n".join(f"{a['title']}\n{a['source']}\n{a['body']}" for a in data["articles"])


def test_fold_matches_across_scripts() -> None:
    assert zhconv.fold("跨境電商") == zhconv.fold("跨境电商") == "跨境电商"
    assert zhconv.fold("臺灣") == zhconv.fold("台灣") == zhconv.fold("台湾")
    text = _shipped_text()
    key = zhconv.fold(text)
    import opencc

    for config in ("s2t", "s2tw", "s2hk"):
        variant = opencc.OpenCC(config).convert(text)
        folded = zhconv.fold(variant)
        assert len(folded) == len(variant) == len(text), config
        # Character for character, the same key; the one place OpenCC writes another
        # character that Simplified has too is 了解 -> 瞭解 (4 times): another spelling.
        apart = {(a, b) for a, b in zip(key, folded, strict=True) if a != b}
        assert apart == {("了", "瞭")}, config
        assert sum(1 for a, b in zip(key, folded, strict=True) if a != b) == text.count("了解")
    assert zhconv.fold(key) == key  # idempotent


def test_fold_is_a_key_not_a_translation() -> None:
    # phrase-level Taiwan wording is another word, not another script
    assert zhconv.fold(zhconv.convert("软件", TW)) != zhconv.fold("软件")
    assert zhconv.fold("a\x00跨境電商\ud800") == "a\x00跨境电商\ud800"


def test_fold_is_one_character_for_one() -> None:
    # The key of a part is part of the key of the whole (substring search relies on it):
    # OpenCC alone would keep 著 in 著名 but fold 著 to 着.
    for whole in ("著名的顯著成就", "乾隆年間的乾燥天氣", "瞭望台"):
        key = zhconv.fold(whole)
        for start in range(len(whole)):
            for end in range(start + 1, len(whole) + 1):
                assert zhconv.fold(whole[start:end]) == key[start:end]


def test_fold_table_is_the_installed_openccs() -> None:
    """zhkey.py's table equals what the installed OpenCC gives each character alone;
    `UPDATE_GOLDEN=1` rewrites it (after an OpenCC upgrade)."""
    import os

    from ecdigest import zhkey

    if os.environ.get("UPDATE_GOLDEN", "") not in ("", "0"):
        zhconv.write_fold_table(zhkey.__file__)
        pytest.skip("regenerated")
    expected = zhconv.fold_table()
    pairs = zhkey.PAIRS
    assert list(zip(pairs[0::2], pairs[1::2], strict=True)) == expected, (
        "run UPDATE_GOLDEN=1 pytest tests/test_zhconv.py -k fold_table"
    )
    # pairs() is the same table, for other implementations of the key (the site's search).
    assert zhkey.pairs() == sorted(expected)
    assert dict(zhkey.pairs())["電"] == "电" and "电" not in dict(zhkey.pairs())
    # Every character folds as OpenCC folds it alone, the long-text path too.
    chars = "".join(c for c, _ in expected)
    assert zhkey.fold(chars) == "".join(f for _, f in expected)
    long_text = (chars + "abc 中文") * 80
    zhkey._folded[0] = 10**9  # as after an index build: the compiled pattern
    try:
        assert zhkey.fold(long_text) == long_text.translate(zhkey.table())
        assert zhkey.fold("纯简体，没有繁体字" * 100) == "纯简体，没有繁体字" * 100
        # Simplified text with a few keys (the sub path) and Traditional (translate).
        mixed = "纯简体的显著成就，" * 50 + "跨境電商平臺" * 100
        assert zhkey.fold(mixed) == mixed.translate(zhkey.table())
        assert "著" not in zhkey.fold(mixed) and "電" not in zhkey.fold(mixed)
    finally:
        zhkey._folded[0] = 0


def test_opencc_is_imported_lazily() -> None:
    import subprocess
    import sys

    code = "import sys, ecdigest.zhconv, ecdigest.editions; print('opencc' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_package_ships_the_fixes_file() -> None:
    assert (REPO / "ecdigest" / "data" / zhconv.FIXES_FILE).is_file()
    pyproject = (REPO / "pyproject.toml").read_text("utf-8")
    assert "data/*.tsv" in pyproject


def test_module_path_is_under_the_package() -> None:
    assert Path(zhconv.__file__).parent.name == "ecdigest"
