"""The premises of not adopting autocorrect-py (see the validate module docstring).

autocorrect-py is in the test extra only (not a runtime dependency): these tests re-check
that the library still fights the newsletter's style where our rules leave the text alone.
"""

from __future__ import annotations

import autocorrect_py as autocorrect
import pytest

from ecdigest.validate import copyedit


@pytest.mark.parametrize(
    ("text", "theirs"),
    [
        ("欧盟电商市场 56%的份额", "欧盟电商市场 56% 的份额"),  # the sample: `%` + Chinese, no space
        ("推动跨境电商+海外仓发展", "推动跨境电商 + 海外仓发展"),
        ("占比最高的国家是荷兰(92%)、丹麦", "占比最高的国家是荷兰 (92%)、丹麦"),
    ],
)
def test_autocorrect_fights_the_newsletter_style(text: str, theirs: str) -> None:
    assert autocorrect.format(text) == theirs
    ours = copyedit(text).text
    assert ours != theirs
    if "(" in text:
        assert ours == "占比最高的国家是荷兰（92%）、丹麦"  # the sample's own form: 保加利亚（49%）
    else:
        assert ours == text


def test_both_agree_on_the_space_between_chinese_and_digits() -> None:
    text = "2023年5月，上海移动探索5G无人农场"
    assert autocorrect.format(text) == copyedit(text).text == "2023 年 5 月，上海移动探索 5G 无人农场"
