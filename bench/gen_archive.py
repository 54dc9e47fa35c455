"""Generate a synthetic archive for the search benchmark: N issues x M articles, deterministic.

The articles are the real sample's (tests/data/ecd-2023-06.txt), shuffled into issues whose
dates are spread evenly over twenty years. Where they come from, in order of preference:
the importer (`ecdigest.importer`), the shipped archive (`issues/`), else a minimal loader
of the PDF text below, good enough for benchmarking (titles may be cut at a wrapped line).

    python bench/gen_archive.py OUT [--issues 1000] [--articles 55] [--seed 20230605]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from ecdigest.model import Article

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "tests" / "data" / "ecd-2023-06.txt"
SHIPPED = REPO / "issues"
FIRST_DAY = dt.date(2004, 1, 5)
YEARS = 20


def _from_importer() -> list[Article] | None:
    try:
        from ecdigest.importer import parse_issue
    except ImportError:
        return None
    try:
        result = parse_issue(SAMPLE.read_bytes(), path=str(SAMPLE))
    except Exception as exc:  # the importer is another module's business: fall back, loudly
        print(f"gen_archive: the importer failed ({exc}); using another source", file=sys.stderr)
        return None
    return list(result.issue.articles) or None


def _from_shipped() -> list[Article] | None:
    from ecdigest.archive import Archive

    if not (SHIPPED / "ecdigest.toml").is_file():
        return None
    archive = Archive.open(SHIPPED)
    articles = [a for item in archive.issues() for a in item.issue.articles]
    return articles or None


def _from_text() -> list[Article]:
    """Articles end at their attribution line; a line 【…】 starts a section."""
    from ecdigest.attribution import try_parse

    articles: list[Article] = []
    section = ""
    chunk: list[str] = []
    for raw in SAMPLE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        heading = re.fullmatch(r"【(.+)】", line)
        if heading:
            section, chunk = heading.group(1), []
            continue
        if not line or line.isdigit():
            continue
        found = try_parse(line)
        if found is None:
            chunk.append(line)
            continue
        if chunk:
            title, body = chunk[0], "".join(chunk[1:])
            articles.append(
                Article(
                    id=f"sample-{len(articles) + 1:03d}",
                    section=section,
                    title=title,
                    source=found.source,
                    compiled_by=found.compiled_by,
                    date=found.date,
                    body=body,
                )
            )
        chunk = []
    return articles


def source_articles() -> tuple[str, list[Article]]:
    for name, loader in (("importer", _from_importer), ("shipped archive", _from_shipped)):
        found = loader()
        if found:
            return name, found
    return "minimal loader", _from_text()


def generate(root: Path, *, issues: int = 1000, per_issue: int = 55, seed: int = 20230605) -> str:
    """Write the archive under `root` (which must not exist yet); returns the articles' origin."""
    from dataclasses import replace

    from ecdigest.codec import encode_issue
    from ecdigest.model import Issue
    from ecdigest.operations import init_archive

    origin, pool = source_articles()
    rng = random.Random(seed)
    init_archive(root)
    span = dt.timedelta(days=365.25 * YEARS)
    deck: list[Article] = []
    for number in range(issues):
        date = FIRST_DAY + span * number / issues
        issue_id = f"{date:%Y-%m-%d}"
        chosen: list[Article] = []
        for _ in range(per_issue):
            if not deck:
                deck = list(pool)
                rng.shuffle(deck)
            chosen.append(deck.pop())
        chosen.sort(key=lambda a: a.section)
        articles = tuple(
            replace(
                article,
                id=f"{issue_id}-{index:03d}",
                date=date - dt.timedelta(days=rng.randrange(1, 8)),
            )
            for index, article in enumerate(chosen, start=1)
        )
        issue = Issue(
            id=issue_id,
            title=f"电子商务动态 {date.year} 年 {date.month} 月 {date.day} 日",
            date=date,
            status="published",
            articles=articles,
        )
        folder = root / f"{date.year:04d}"
        folder.mkdir(exist_ok=True)
        (folder / f"{issue_id}.toml").write_bytes(encode_issue(issue).encode("utf-8"))
    return origin


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--issues", type=int, default=1000)
    parser.add_argument("--articles", type=int, default=55)
    parser.add_argument("--seed", type=int, default=20230605)
    args = parser.parse_args(argv)
    if args.out.exists():
        sys.exit(f"gen_archive: {args.out} exists; give a new folder")
    where = generate(args.out, issues=args.issues, per_issue=args.articles, seed=args.seed)
    print(f"{args.out}: {args.issues} issues x {args.articles} articles (articles from the {where})")


if __name__ == "__main__":
    main()
