"""Round trips not covered elsewhere, as properties (hypothesis).

Already covered: model -> TOML -> model (test_codec), attribution format -> parse
(test_dates_attribution), the newsletter's printed/PDF form -> parse_article (test_import),
Markdown/RSS/email escaping (test_export_*). Here:
- an article copied out of the plain-text email comes back, via `add --from-text`'s parser,
  as the same article (title, paragraphs, section, source, compiled_by, date): the email is
  the newsletter's own printed form, numbered;
- JSON export (the stable machine interface) carries every field of every article, so an
  issue rebuilt from it equals the original;
- `ecdigest.toml` settings survive encode -> parse -> decode.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecdigest.codec import decode_settings, encode_settings
from ecdigest.export import email
from ecdigest.export.jsonout import dumps, issue_dict
from ecdigest.importer import parse_article
from ecdigest.model import DEFAULT_SECTIONS, Article, Issue, Newsletter, join_paragraphs

_HAN = "电子商务数据平台发展市场企业服务跨境网络消费直播中国全球新技术创新规模增长物流支付农村县域品牌"
# No "3.4%": at a line break between "%" and a Chinese character the text's own convention
# (and so the importer's) is no space, so "3.4% 业" wrapped there comes back as "3.4%业".
_LATIN = ["AI", "5G", "APP", "B2B", "2023", "618", "3.4", "iPhone", "GMV", "WiFi6", "RCEP"]
han = st.text(alphabet=_HAN, min_size=1, max_size=14)


@st.composite
def clause(draw: st.DrawFn) -> str:
    """Chinese with Latin words and numbers spaced the house way."""
    text = draw(han)
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            text += " " + " ".join(draw(st.lists(st.sampled_from(_LATIN), min_size=1, max_size=2))) + " "
        text += draw(han)
    return text


sentence = st.lists(clause(), min_size=1, max_size=5).map(lambda parts: "，".join(parts) + "。")
sources = st.sampled_from(
    ["《人民日报》", "“央广网”", "《电子商务动态》编辑部", "“商务部网站”", "《经济日报》"]
)
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31))


@st.composite
def articles(draw: st.DrawFn, number: int, section: str) -> Article:
    source = draw(sources)
    return Article(
        id=f"2023-07-{number:03d}",
        section=section,
        title=draw(clause()),
        source=source,
        compiled_by=None
        if source == "《电子商务动态》编辑部"
        else draw(st.sampled_from([None, "《电子商务动态》编辑部"])),
        date=draw(dates),
        body=join_paragraphs(draw(st.lists(sentence, min_size=1, max_size=4))),
    )


@st.composite
def issues(draw: st.DrawFn) -> Issue:
    section = draw(st.sampled_from(DEFAULT_SECTIONS))
    count = draw(st.integers(1, 3))
    return Issue(
        id="2023-07",
        title="电子商务动态 2023 年 7 月",
        date=dt.date(2023, 7, 5),
        status="published",
        articles=tuple(draw(articles(n, section)) for n in range(1, count + 1)),
        last_article_number=count,
    )


def _article_blocks(text: str, width: int) -> list[str]:
    """The article part of the email text (between the contents and the footer), one block
    per article as an editor would copy it, the numbering removed."""
    rule, thin = "=" * width, "-" * width
    parts = text.split("\n" + rule + "\n")
    assert len(parts) == 4, "header, contents, articles, footer"
    section_header, *rest = parts[2].strip("\n").split("\n", 1)
    blocks = rest[0].split("\n" + thin + "\n")
    blocks = [re.sub(r"^(\s*)\d+\. ", r"\1", block.strip("\n"), count=1) for block in blocks]
    blocks[0] = section_header + "\n\n" + blocks[0]
    return blocks


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(issue=issues(), width=st.integers(40, 110))
def test_an_article_copied_from_the_email_pastes_back_unchanged(issue: Issue, width: int) -> None:
    text = email.render_text(issue, Newsletter(), width=width)
    blocks = _article_blocks(text, width)
    assert len(blocks) == len(issue.articles)
    for block, article in zip(blocks, issue.articles, strict=True):
        pasted = parse_article(block.encode("utf-8"))
        assert pasted.title == article.title
        assert pasted.paragraphs == article.paragraphs
        if block is blocks[0]:
            assert pasted.section == article.section
        assert pasted.attribution is not None
        got = (pasted.attribution.source, pasted.attribution.compiled_by, pasted.attribution.date)
        assert got == (article.source, article.compiled_by, article.date)


any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@st.composite
def any_issue(draw: st.DrawFn) -> Issue:
    count = draw(st.integers(0, 3))
    return Issue(
        id=draw(st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,10}\Z")),
        title=draw(any_text),
        date=draw(st.none() | dates),
        status=draw(st.sampled_from(["draft", "published"])),
        articles=tuple(
            Article(
                id=draw(st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,14}\Z")),
                section=draw(any_text),
                title=draw(any_text),
                source=draw(any_text),
                compiled_by=draw(st.none() | any_text),
                date=draw(st.none() | dates),
                url=draw(st.none() | any_text),
                tags=tuple(draw(st.lists(any_text, max_size=3))),
                body=join_paragraphs(draw(st.lists(any_text, max_size=4))),
            )
            for _ in range(count)
        ),
    )


@settings(max_examples=200, deadline=None)
@given(any_issue())
def test_json_export_carries_every_field(issue: Issue) -> None:
    data = json.loads(dumps(issue_dict(issue)).encode("utf-8"))
    rebuilt = Issue(
        id=data["id"],
        title=data["title"],
        date=dt.date.fromisoformat(data["date"]) if data["date"] else None,
        status=data["status"],
        articles=tuple(
            Article(
                id=a["id"],
                section=a["section"],
                title=a["title"],
                source=a["source"],
                compiled_by=a["compiled_by"],
                date=dt.date.fromisoformat(a["date"]) if a["date"] else None,
                url=a["url"],
                tags=tuple(a["tags"]),
                body=join_paragraphs(a["paragraphs"]),
            )
            for a in data["articles"]
        ),
        last_article_number=issue.last_article_number,  # bookkeeping, not published
    )
    assert rebuilt == issue


SETTING_TEXTS = (
    "title", "editor", "language", "timezone", "description", "link", "feed_url",
    "email_from", "email_to", "issue_url", "atom_url", "tag_authority", "tag_date",
)  # fmt: skip
one_line = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)


@settings(max_examples=200, deadline=None)
@given(
    values=st.fixed_dictionaries(dict.fromkeys(SETTING_TEXTS, one_line)),
    sections=st.lists(one_line.filter(bool), min_size=1, max_size=5).map(tuple),
    known=st.lists(any_text, max_size=3).map(tuple),
    age=st.integers(0, 10_000),
)
def test_settings_survive_encode_and_decode(
    values: dict[str, str], sections: tuple[str, ...], known: tuple[str, ...], age: int
) -> None:
    original = Newsletter(**values, sections=sections, known_sources=known, max_article_age_days=age)
    text = encode_settings(original)
    assert decode_settings(tomllib.loads(text), text) == original
