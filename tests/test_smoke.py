from __future__ import annotations

import json

from conftest import Invoke


def test_add_then_export_json(invoke: Invoke) -> None:
    assert invoke("new", "--id", "2023-07", "--date", "2023-07-05").exit_code == 0
    result = invoke(
        "add",
        "2023-07",
        "--title",
        "测试",
        "--section",
        "行业资讯",
        "--source",
        "《人民日报》",
        "--date",
        "2023 年 07 月 01 日",
        "--body-file",
        "-",
        input="第一段。\n\n第二段。\n",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "2023-07-001\n"
    data = json.loads(invoke("export", "json", "2023-07").stdout)
    (article,) = data["articles"]
    assert article["date"] == "2023-07-01"
    assert article["source"] == "《人民日报》"
    assert article["paragraphs"] == ["第一段。", "第二段。"]
