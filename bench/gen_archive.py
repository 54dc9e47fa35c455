"""Generate a realistic synthetic archive for the benchmarks: N weekly issues, deterministic.

Realistic where it matters for cost and ranking (a copy of the same 53 articles hides both):

- Texts are generated, not copied: words drawn from a Zipf distribution over a vocabulary
  learned from the real sample (tests/data/ecd-2023-06.txt, through the shipped archive)
  plus a long tail of rarer made-up words (company and place names), so common terms are
  in thousands of articles and rare ones in a handful. Each article has a topic (a few
  words it repeats), each year its trending words; numbers, percentages and Latin terms
  (5G, AI, 618) are mixed in as the newsletter writes them.
- Titles: about 1.5% of articles follow up a story of the last year with a nearly equal
  title (one character changed or a phrase reworded), 0.4% run an earlier title again,
  and 0.2% an earlier text again (validation's W601 and `add`'s duplicate warning have
  something to find, at a plausible rate).
- Dates: issues every week over twenty years (more than one a week beyond ~1,040 issues,
  with ids `YYYY-MM-DD`, then `-b`, `-c`…), articles dated one to eight days before
  their issue; the last two issues and one in the middle are drafts.
- Sections, outlets (Zipf over ~400), compiled_by, urls and tags as the sample has them;
  35 to 75 articles per issue (55 on average), bodies of 2 to 6 paragraphs (~650
  characters on average: ~2 KB of TOML per article, as the real archive has).

    python bench/gen_archive.py OUT [--issues 1000] [--seed 20230605]

3,000 issues take about a minute on this project's 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import random
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "tests" / "data" / "ecd-2023-06.txt"
SHIPPED = REPO / "issues"
LAST_DAY = dt.date(2023, 12, 25)
YEARS = 20
SECTIONS = (("行业资讯", 45), ("政策法规", 10), ("数据观察", 35), ("专家视点", 10))
EDITOR = "《电子商务动态》编辑部"
LATIN = ["5G", "AI", "618", "双11", "B2B", "O2O", "APP", "GDP", "CPI", "ChatGPT", "VR", "AR", "IoT", "SaaS"]
UNITS = ["%", " 亿元", " 万元", " 万件", " 家", " 个", " 万人", " 倍"]
TAGS = ["跨境电商", "直播", "数字经济", "农村电商", "社区团购", "即时零售", "物流", "支付", "监管", "消费",
        "外贸", "平台经济", "数据安全", "新零售", "品牌出海"]  # fmt: skip


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def sample_texts() -> tuple[list[str], list[str]]:
    """(titles, bodies) of the real sample: the shipped archive (the importer's output of it)."""
    sys.path.insert(0, str(REPO))
    from ecdigest.archive import Archive

    articles = [a for item in Archive.open(SHIPPED).issues() for a in item.issue.articles]
    if not articles:
        raise SystemExit(f"gen_archive: no articles in {SHIPPED}")
    return [a.title for a in articles], [a.body for a in articles]


class Vocabulary:
    """Words by rank: the sample's frequent 2-4 character strings first, then made-up ones."""

    def __init__(self, rng: random.Random, texts: Sequence[str], tail: int = 60_000) -> None:
        counts: Counter[str] = Counter()
        chars: Counter[str] = Counter()
        for text in texts:
            run = ""
            for ch in text + " ":
                if _is_han(ch):
                    run += ch
                    chars[ch] += 1
                    continue
                # Cut each run of Chinese into pieces of 2-4 characters, deterministically.
                at = 0
                while len(run) - at >= 2:
                    size = min(len(run) - at, rng.choice((2, 2, 2, 3, 4)))
                    counts[run[at : at + size]] += 1
                    at += size
                run = ""
        real = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        alphabet = sorted(chars)
        weights = [chars[c] ** 0.5 for c in alphabet]  # flatter than the sample: rarer characters too
        seen = set(real)
        made: list[str] = []
        while len(made) < tail:
            word = "".join(rng.choices(alphabet, weights, k=rng.choice((2, 2, 3, 3, 4))))
            if word not in seen:
                seen.add(word)
                made.append(word)
        self.words = real + made
        self.cumulative = list(
            itertools.accumulate(1.0 / (rank + 1) ** 1.05 for rank in range(len(self.words)))
        )
        self.alphabet = alphabet

    def draw(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cumulative, k=k)

    def band(self, rng: random.Random, low: int, high: int, k: int) -> list[str]:
        """k distinct words of ranks low..high (mid-frequency: topics, trends)."""
        return rng.sample(self.words[low:high], k)


class Writer:
    """Generates titles and bodies; remembers recent stories for follow-ups and re-runs."""

    def __init__(self, rng: random.Random, vocabulary: Vocabulary, outlets: list[str]) -> None:
        self.rng = rng
        self.vocab = vocabulary
        self.outlets = outlets
        self.outlet_cum = list(itertools.accumulate(1.0 / (r + 1) for r in range(len(outlets))))
        self.recent: list[tuple[str, str]] = []  # (title, body) of the last ~year
        self.current_trend: list[str] = []  # the year's trending words

    def _number(self) -> str:
        rng = self.rng
        style = rng.random()
        if style < 0.3:
            return f"{rng.randint(1990, 2023)} 年"
        if style < 0.5:
            return f"{rng.randint(1, 12)} 月 {rng.randint(1, 28)} 日"
        value = f"{rng.uniform(0.1, 99.9):.1f}" if rng.random() < 0.5 else str(rng.randint(2, 9999))
        return value + rng.choice(UNITS)

    def _sentence(self, topic: list[str], trend: list[str]) -> str:
        rng = self.rng
        words = self.vocab.draw(rng, rng.randint(8, 22))
        for i in range(len(words)):
            roll = rng.random()
            if roll < 0.22:
                words[i] = rng.choice(topic)
            elif roll < 0.26:
                words[i] = rng.choice(trend)
            elif roll < 0.29:
                words[i] = " " + self._number() + " "
            elif roll < 0.30:
                words[i] = " " + rng.choice(LATIN) + " "
            elif roll < 0.38:
                words[i] += "，"
        text = "".join(words).replace("  ", " ").strip(" ，")
        return text.replace(" ，", "，").replace("， ", "，") + "。"

    def body(self, topic: list[str], trend: list[str]) -> str:
        rng = self.rng
        paragraphs = []
        for _ in range(rng.choice((2, 3, 3, 4, 4, 5, 6))):
            paragraphs.append("".join(self._sentence(topic, trend) for _ in range(rng.randint(2, 6))))
        return "\n\n".join(paragraphs)

    def title(self, topic: list[str], trend: list[str]) -> str:
        rng = self.rng
        words = [rng.choice(topic), *self.vocab.draw(rng, rng.randint(4, 8))]
        if rng.random() < 0.3:
            words.insert(rng.randint(1, len(words)), rng.choice(trend))
        if rng.random() < 0.35:
            words.insert(1, "：")
        if rng.random() < 0.2:
            words.insert(rng.randint(2, len(words)), " " + self._number() + " ")
        return "".join(words).replace("  ", " ").strip()

    def story(self) -> tuple[str, str]:
        """A new story, a follow-up with a nearly equal title, or (rarely) a re-run."""
        rng = self.rng
        topic = self.vocab.band(rng, 30, 6000, 6)
        trend = self.current_trend
        roll = rng.random()
        if self.recent and roll < 0.015:
            old_title, _ = rng.choice(self.recent)
            title = self._nearly(old_title, topic)
            body = self.body(topic, trend)
        elif self.recent and roll < 0.019:
            title, _ = rng.choice(self.recent)
            body = self.body(topic, trend)
        elif self.recent and roll < 0.021:
            title, body = rng.choice(self.recent)
        else:
            title, body = self.title(topic, trend), self.body(topic, trend)
        self.recent.append((title, body))
        if len(self.recent) > 3000:
            del self.recent[:500]
        return title, body

    def _nearly(self, title: str, topic: list[str]) -> str:
        rng = self.rng
        chars = list(title)
        han = [i for i, ch in enumerate(chars) if _is_han(ch)]
        if rng.random() < 0.7 and han:
            chars[rng.choice(han)] = rng.choice(self.vocab.alphabet)  # one character differs
            return "".join(chars)
        return title + rng.choice(["（续）", "再获进展", " 最新进展"])

    def outlet(self) -> str:
        return self.rng.choices(self.outlets, cum_weights=self.outlet_cum, k=1)[0]


def outlets(rng: random.Random, vocabulary: Vocabulary, real: list[str]) -> list[str]:
    made = set()
    while len(made) < 400:
        name = rng.choice(vocabulary.words[50:3000])[:2]
        made.add(
            rng.choice(
                [f"《{name}日报》", f"《{name}商报》", f"“{name}网”", f"《{name}晚报》", f"“{name}新闻网”"]
            )
        )
    return [EDITOR, *real, *sorted(made)]


def issue_dates(count: int) -> list[tuple[str, dt.date]]:
    """(id, date) oldest first: weekly over twenty years, several a week beyond that."""
    span = min(count - 1, YEARS * 52)
    found: list[tuple[str, dt.date]] = []
    taken: set[str] = set()
    for number in range(count):
        weeks = span * number // max(count - 1, 1)
        date = LAST_DAY - dt.timedelta(weeks=span - weeks)
        issue_id = f"{date:%Y-%m-%d}"
        for suffix in "bcdefghijklmnopqrstuvwxyz":
            if issue_id not in taken:
                break
            issue_id = f"{date:%Y-%m-%d}-{suffix}"
        taken.add(issue_id)
        found.append((issue_id, date))
    return found


def generate(root: Path, *, issues: int = 1000, per_issue: int = 55, seed: int = 20230605) -> str:
    """Write the archive under `root` (which must not exist yet); returns where the words come from."""
    sys.path.insert(0, str(REPO))
    from ecdigest.codec import encode_issue
    from ecdigest.model import Article, Issue
    from ecdigest.operations import init_archive

    rng = random.Random(seed)
    titles, bodies = sample_texts()
    vocabulary = Vocabulary(rng, [*titles, *bodies])
    real_outlets = sorted(
        {line.strip() for line in SAMPLE.read_text("utf-8").splitlines() if line.strip().startswith("来源：")}
    )
    sources = outlets(rng, vocabulary, _sources(real_outlets))
    writer = Writer(rng, vocabulary, sources)
    section_names = [name for name, _ in SECTIONS]
    section_weights = [weight for _, weight in SECTIONS]
    init_archive(root)
    dates = issue_dates(issues)
    drafts = {len(dates) - 1, len(dates) - 2, len(dates) // 2}
    year = None
    for number, (issue_id, date) in enumerate(dates):
        if date.year != year:
            year = date.year
            writer.current_trend = vocabulary.band(rng, 100, 4000, 25)
        count = max(1, min(per_issue + 20, int(rng.gauss(per_issue, 8))))
        articles = []
        for index in range(1, count + 1):
            title, body = writer.story()
            source = writer.outlet()
            articles.append(
                Article(
                    id=f"{issue_id}-{index:03d}",
                    section=rng.choices(section_names, section_weights)[0],
                    title=title,
                    source=source,
                    compiled_by=None if source == EDITOR else EDITOR,
                    date=date - dt.timedelta(days=rng.randint(1, 8)),
                    url=f"https://example.org/news/{rng.getrandbits(40):x}" if rng.random() < 0.2 else None,
                    tags=tuple(sorted(set(rng.sample(TAGS, rng.choice((1, 1, 2))))))
                    if rng.random() < 0.3
                    else (),
                    body=body,
                )
            )
        articles.sort(key=lambda a: section_names.index(a.section))
        articles = [
            Article(**{**a.__dict__, "id": f"{issue_id}-{n:03d}"}) for n, a in enumerate(articles, start=1)
        ]
        issue = Issue(
            id=issue_id,
            title=f"电子商务动态 {date.year} 年第 {date.isocalendar().week} 期",
            date=date,
            status="draft" if number in drafts else "published",
            articles=tuple(articles),
            last_article_number=len(articles),
        )
        folder = root / f"{date.year:04d}"
        folder.mkdir(exist_ok=True)
        (folder / f"{issue_id}.toml").write_bytes(encode_issue(issue).encode("utf-8"))
    return "words of the shipped sample and a made-up long tail (Zipf)"


def _sources(lines: list[str]) -> list[str]:
    """The outlets of the sample's attribution lines, as printed."""
    found = []
    for line in lines:
        text = line.removeprefix("来源：").split("编选")[0].split(" 20")[0].strip()
        if text and text != EDITOR and text not in found:
            found.append(text)
    return found


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--issues", type=int, default=1000)
    parser.add_argument("--articles", type=int, default=55, help="average articles per issue")
    parser.add_argument("--seed", type=int, default=20230605)
    args = parser.parse_args(argv)
    if args.out.exists():
        sys.exit(f"gen_archive: {args.out} exists; give a new folder")
    where = generate(args.out, issues=args.issues, per_issue=args.articles, seed=args.seed)
    print(f"{args.out}: {args.issues} issues, ~{args.articles} articles each ({where})")


if __name__ == "__main__":
    main()
