"""Concurrency: real processes of the installed `ecdigest` racing on one archive lose nothing.

Cron jobs overlap and several editors share an archive: every read-modify-write runs under
the archive's flock and re-reads the file inside it, and every write is an atomic rename,
so a reader (build) never sees half a file. These tests run the commands as separate
processes, exactly as a shell or cron would.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _hardening import (
    SAMPLE,
    check_issue_file,
    check_site,
    cli_env,
    copy_shipped,
    issue_files,
    run,
    temp_files,
)

WORKERS = 4
PER_WORKER = 50
SHIPPED_ARTICLES = 53


def _add(archive: Path, issue: str, title: str, body: str) -> str:
    result = run(
        ["--archive", str(archive), "add", "--force", issue, "--title", title, "--section", "行业资讯",
         "--source", "《人民日报》", "--date", "2023-06-01", "--body", body],
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    article_id = result.stdout.decode().strip()
    assert article_id.startswith(f"{issue}-"), article_id
    return article_id


def test_four_writers_and_a_build_loop_lose_nothing(tmp_path: Path) -> None:
    """4 processes x 50 adds to one (published) issue while `build` and `search` run in loops."""
    archive = copy_shipped(tmp_path / "archive")
    site = tmp_path / "site"
    done = threading.Event()
    builds: list[dict[str, int]] = []
    build_errors: list[str] = []

    def builder() -> None:
        while not done.is_set() or not builds:
            result = run(["--archive", str(archive), "build", "-o", str(site)])
            if result.returncode != 0:
                build_errors.append(result.stderr.decode())
                return
            try:
                builds.append(check_site(site))
            except Exception as exc:  # a torn or invalid output: report it, stop the loop
                build_errors.append(f"invalid build output: {exc!r}")
                return

    def writer(worker: int) -> dict[str, str]:
        added = {}
        for k in range(PER_WORKER):
            title = f"并发写入测试 第 {worker} 组第 {k} 篇"
            body = (
                f"第 {worker} 组第 {k} 篇的正文，用来检查并发写入不会丢失任何文章。\n\n第二段 {worker}-{k}。"
            )
            added[title] = _add(archive, "2023-06", title, body)
        return added

    found: list[int] = []

    def searcher() -> None:
        """`search` refreshes its index from the files being written, and must never see
        half a file, an article twice, or fewer articles than a search before it."""
        while not done.is_set() or not found:
            result = run(
                ["--archive", str(archive), "search", "并发写入测试", "--format", "json", "--limit", "0"]
            )
            if result.returncode != 0:
                build_errors.append("search: " + result.stderr.decode())
                return
            hits = [hit["article"] for hit in json.loads(result.stdout)]
            if len(hits) != len(set(hits)) or (found and len(hits) < found[-1]):
                build_errors.append(
                    f"search saw {len(hits)} hits ({len(set(hits))} distinct) after {found[-1:]}"
                )
                return
            found.append(len(hits))

    loops = [threading.Thread(target=builder), threading.Thread(target=searcher)]
    for loop in loops:
        loop.start()
    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            batches = list(pool.map(writer, range(WORKERS)))
    finally:
        done.set()
        for loop in loops:
            loop.join(timeout=300)
    assert not build_errors, build_errors[0]
    assert len(found) >= 3, "the search loop should have run while the adds were landing"

    added = {title: aid for batch in batches for title, aid in batch.items()}
    assert len(added) == WORKERS * PER_WORKER
    assert len(set(added.values())) == WORKERS * PER_WORKER, "an id was handed out twice"
    for path in issue_files(archive):
        check_issue_file(path)
    from ecdigest.archive import Archive

    (item,) = Archive.open(archive).issues()
    by_title = {a.title: a.id for a in item.issue.articles}
    assert len(item.issue.articles) == SHIPPED_ARTICLES + WORKERS * PER_WORKER
    assert len(set(by_title.values())) == len(item.issue.articles)
    for title, article_id in added.items():
        assert by_title.get(title) == article_id, f"{title!r} was lost or renumbered"
    assert temp_files(archive) == [] and temp_files(site) == []

    # Every build in the loop saw a whole issue: 53 plus however many adds had landed.
    assert len(builds) >= 3, "the build loop should have run while the adds were landing"
    for counts in builds:
        assert SHIPPED_ARTICLES <= counts["rss"] <= SHIPPED_ARTICLES + WORKERS * PER_WORKER
        assert counts["atom"] == counts["rss"]
    final_search = run(
        ["--archive", str(archive), "search", "并发写入测试", "--format", "json", "--limit", "0"]
    )
    assert sorted(hit["article"] for hit in json.loads(final_search.stdout)) == sorted(added.values())
    final = run(["--archive", str(archive), "build", "-o", str(site)])
    assert final.returncode == 0, final.stderr.decode()
    assert check_site(site)["rss"] == SHIPPED_ARTICLES + WORKERS * PER_WORKER


def _fixable_count(archive: Path, issue: str) -> int:
    from ecdigest.archive import Archive
    from ecdigest.validate import validate_report

    report = validate_report(Archive.open(archive), [issue])
    return sum(1 for p in report.problems if p.code in {"W801", "W802", "W803", "W804"})


def test_imports_and_validate_fix_racing_adds_lose_nothing(tmp_path: Path) -> None:
    """Two imports and a `validate --fix` of the very file that adds are appending to."""
    archive = copy_shipped(tmp_path / "archive")
    shutil.copy(SAMPLE, tmp_path / "a.txt")
    shutil.copy(SAMPLE, tmp_path / "b.txt")
    assert _fixable_count(archive, "2023-06") > 0, "the race needs something for --fix to fix"
    env = cli_env()
    rounds = 3
    adds_per_round = 6
    added: dict[str, str] = {}
    for round_ in range(rounds):
        jobs = [
            ["import", str(tmp_path / "a.txt"), "--id", f"imp-a-{round_}", "--status", "published"],
            ["import", str(tmp_path / "b.txt"), "--id", f"imp-b-{round_}"],
            ["validate", "--fix", "2023-06"],
        ]

        def other(args: list[str]) -> tuple[list[str], int, str]:
            result = run(["--archive", str(archive), *args], env=env)
            return args, result.returncode, result.stderr.decode()

        def adder(n: int, round_: int = round_) -> tuple[str, str]:
            title = f"竞争测试 第 {round_} 轮第 {n} 篇"
            return title, _add(archive, "2023-06", title, f"正文 {round_}-{n}，没有需要修正的地方。")

        with ThreadPoolExecutor(4) as pool:
            started = time.monotonic()
            others = [pool.submit(other, job) for job in jobs]
            adds = [pool.submit(adder, n) for n in range(adds_per_round)]
            for future in others:
                args, code, stderr = future.result()
                # validate exits 0: the shipped issue has warnings only, and --fix removes some
                assert code == 0, (args, stderr)
            added.update(f.result() for f in adds)
            assert time.monotonic() - started < 120

    for path in issue_files(archive):
        check_issue_file(path)
    from ecdigest.archive import Archive

    items = {i.issue.id: i.issue for i in Archive.open(archive).issues()}
    assert set(items) == {"2023-06"} | {f"imp-{x}-{r}" for x in "ab" for r in range(rounds)}
    for r in range(rounds):
        assert len(items[f"imp-a-{r}"].articles) == SHIPPED_ARTICLES
        assert len(items[f"imp-b-{r}"].articles) == SHIPPED_ARTICLES
    issue = items["2023-06"]
    assert len(issue.articles) == SHIPPED_ARTICLES + rounds * adds_per_round
    by_title = {a.title: a.id for a in issue.articles}
    for title, article_id in added.items():
        assert by_title.get(title) == article_id
    # --fix won every race it ran in: nothing fixable is left in the shipped articles.
    assert _fixable_count(archive, "2023-06") == 0
    assert temp_files(archive) == []
