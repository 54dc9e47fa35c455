"""`ecdigest stats` and `ecdigest serve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from _publishing import FIXTURE_ARCHIVE, copy_fixture
from _site import many_issues
from conftest import Invoke


def test_stats_json_counts_published_articles(invoke: Invoke) -> None:
    result = invoke("stats", "--format", "json", archive=FIXTURE_ARCHIVE)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["issues"] == 2 and data["articles"] == 6  # the 2023-07 draft does not count
    assert data["per_month"] == {"2023-05": 2, "2023-06": 4}
    assert sum(sum(row.values()) for row in data["per_section_per_year"].values()) == 6
    assert sum(item["articles"] for item in data["top_sources"]) == 6


def test_stats_filters(invoke: Invoke, tmp_path: Path) -> None:
    root = many_issues(tmp_path, 10)
    full = json.loads(invoke("stats", "-f", "json", archive=root).stdout)
    since = json.loads(invoke("stats", "-f", "json", "--since", "2019-02-01", archive=root).stdout)
    until = json.loads(invoke("stats", "-f", "json", "--until", "2019-01-31", archive=root).stdout)
    assert since["issues"] + until["issues"] == full["issues"]
    assert since["first"] >= "2019-02-01" and until["last"] <= "2019-01-31"
    one = json.loads(invoke("stats", "-f", "json", "--section", "数据观察", archive=root).stdout)
    assert one["sections"] == ["数据观察"]
    assert one["articles"] == sum(row["数据观察"] for row in full["per_section_per_year"].values())
    bad = invoke("stats", "--since", "不是日期", archive=root)
    assert bad.exit_code == 2 and "--since" in bad.stderr


def test_stats_text_has_bars(invoke: Invoke) -> None:
    result = invoke("stats", archive=FIXTURE_ARCHIVE)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("2 published issues, 6 articles, 2023-05-08 – 2023-06-05\n")
    assert "articles per month" in result.stdout and "█" in result.stdout
    assert "top sources" in result.stdout


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def test_serve_previews_drafts_and_rebuilds_on_change(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECDIGEST_")}
    env["ECDIGEST_NOW"] = "2023-07-10T09:00:00+08:00"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ecdigest",
            "--archive",
            str(root),
            "serve",
            "--port",
            "0",
            "--interval",
            "0.2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("serving http://127.0.0.1:"), line
        url = line.split()[1]
        status, page = _get(url + "2023-07.html")
        assert status == 200 and 'class="draft-banner"' in page
        status, page = _get(url + "no-such-page.html")
        assert status == 404 and "找不到这一页" in page
        draft = root / "2023" / "2023-07.toml"
        draft.write_text(
            draft.read_text("utf-8").replace("草稿不会出现在输出中", "预览里改过的标题"), "utf-8"
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "预览里改过的标题" in _get(url + "2023-07.html")[1]:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the preview was not rebuilt")
        assert not (tmp_path / "site").exists()  # a preview never writes the site
    finally:
        proc.terminate()
        proc.wait(timeout=30)
