"""The site search: the browser folds a query with zhkey's own table (`zh-….js`), the
table `zhconv.fold` keys the index with; the index's arrays hold every gram of every
document. The browser's run of the fold is checked in tests/test_site_browser.py."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecdigest import zhconv, zhkey

SAMPLE = Path(__file__).parent / "data" / "ecd-2023-06.txt"


def _browser_table() -> dict[str, str]:
    from ecdigest.site import searchindex

    _, data = searchindex.zh_file()
    text = data.decode("utf-8")
    chars = json.loads(text[text.index("(") + 1 : text.rindex(")")])["chars"]
    pairs = list(chars)  # code points, as Array.from() splits them in search.js
    return dict(zip(pairs[0::2], pairs[1::2], strict=True))


def test_the_browser_gets_exactly_the_key_table() -> None:
    table = _browser_table()
    assert table == dict(zhkey.pairs())
    assert len(table) > 5000 and table["電"] == "电" and table["臺"] == "台"


@pytest.mark.parametrize("script", ["zh-Hans", "zh-Hant-TW", "zh-Hant-HK"])
def test_folding_with_the_shipped_table_is_zhconv_fold(script: str) -> None:
    """What search.js does with the table (each character by its key) gives zhconv.fold's
    key on the shipped issue in all three scripts (and so on each of its substrings: the
    key is one character for one)."""
    text = SAMPLE.read_text("utf-8")
    if script != "zh-Hans":
        text = zhconv.convert(text, script)
    table = _browser_table()
    assert "".join(table.get(char, char) for char in text) == zhconv.fold(text)
    assert zhconv.fold("跨境電商") == "跨境电商" == "".join(table.get(c, c) for c in "跨境電商")


def test_the_table_script_is_deterministic_and_names_its_content() -> None:
    from ecdigest.site import searchindex

    first, second = searchindex.zh_file(), searchindex.zh_file()
    assert first == second and first[0].startswith("zh-") and first[1].startswith(b"ECD_SEARCH.zh(")


# --------------------------------------------------------------------------- the index's postings


def _decode(gaps: str) -> list[int]:
    docs, previous = [], -1
    for char in gaps:
        code = ord(char)
        if code >= 0xE000:
            code -= 0x800
        previous += code - 0x30
        docs.append(previous)
    return docs


def _build(
    texts: list[tuple[str, str]], cuts: list[int], monkeypatch: pytest.MonkeyPatch
) -> dict[str, bytes]:
    from ecdigest.site import searchindex

    monkeypatch.setattr(searchindex, "BATCH_CHARS", 40)  # many batches
    monkeypatch.setattr(searchindex, "SHARD_POSTINGS", 50)  # many shards
    builder = searchindex.SegmentBuilder()
    bounds = [0, *cuts, len(texts)]
    summaries = []
    for start, end in itertools.pairwise(bounds):  # one part per "worker"
        part = builder.part(start)
        for number in range(start, end):
            doc = searchindex.Doc("p.html", f"a{number}", f"t{number}", "2024-01-01", "s", "")
            title, body = texts[number]
            part.add(f"i{number}", "d", "2024-01-01", [(doc, title, body)])
        summaries.append(part.close())
    state, files = builder.files("main-x", summaries)
    out = dict(files)
    builder.discard()
    assert state["docs"] == len(texts)
    return out


def _random_texts(rnd: random.Random, alphabet: str, *, count: int, body: int) -> list[tuple[str, str]]:
    """`count` (title, body) pairs of up to 6 and `body` characters drawn from `alphabet`."""
    return [
        (
            "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 6))),
            "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, body))),
        )
        for _ in range(count)
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_postings_hold_every_gram_of_every_document(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each character and pair of each title and body (never across the two, the space
    alone aside) lists exactly the documents that have it, in the shard its FNV-1a names;
    documents added in several parts and many batches."""
    import json
    import random

    from ecdigest.site.searchindex import fnv1a, grams

    texts = _random_texts(random.Random(seed), "电商直播跨境 abc𠀀𪚥Ａ的", count=60, body=30)
    files = _build(texts, [17, 40], monkeypatch)
    expected: dict[str, list[int]] = {}
    for number, (title, body) in enumerate(texts):
        for gram in grams(title) | grams(body):
            expected.setdefault(gram, []).append(number)
    shards = [name for name in files if "/p" in name]
    found: dict[str, list[int]] = {}
    for name in shards:
        text = files[name].decode()
        args = json.loads("[" + text[text.index("(") + 1 : text.rindex(")")] + "]")
        number = args[1]
        for gram, gaps in args[2].items():
            assert fnv1a(gram) % len(shards) == number, gram
            found[gram] = _decode(gaps)
    assert found == expected
    rows = []
    for name in sorted((n for n in files if "/d" in n), key=lambda n: int(n.rsplit("d", 1)[1][:-3])):
        text = files[name].decode()
        rows += json.loads("[" + text[text.index("(") + 1 : text.rindex(")")] + "]")[2]
    assert [row[1] for row in rows] == [f"a{n}" for n in range(len(texts))]


@given(st.text(max_size=4))
@settings(max_examples=300, deadline=None)
def test_the_shard_hash_is_fnv1a_over_utf16(text: str) -> None:
    from ecdigest.site.searchindex import _fnv1a_code_points, fnv1a

    assert _fnv1a_code_points(text) == fnv1a(text)
    assert _fnv1a_code_points(text + "𠀀𪚥\ud800") == fnv1a(text + "𠀀𪚥\ud800")


@pytest.mark.parametrize("seed", [4, 5])
def test_a_part_merged_before_the_segment_gives_the_same_files(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A part merges its batches into one block per partition when it closes (in the
    worker, not the parent's serial merge): the segment's files are the very bytes of a
    merge of every batch."""
    import random

    from ecdigest.site import searchindex

    texts = _random_texts(random.Random(seed), "电商直播跨境 ab𠀀的", count=80, body=40)
    merged = _build(texts, [23, 51], monkeypatch)
    blocks: list[int] = []
    real_compact = searchindex.SegmentPart._compact

    def counting(self: searchindex.SegmentPart) -> None:
        real_compact(self)
        blocks.append(len(self.summary.blocks))

    monkeypatch.setattr(searchindex.SegmentPart, "_compact", counting)
    assert _build(texts, [23, 51], monkeypatch) == merged
    assert blocks == [1, 1, 1]  # each part down to one block
    monkeypatch.setattr(searchindex.SegmentPart, "_compact", lambda self: None)
    assert _build(texts, [23, 51], monkeypatch) == merged  # every batch merged by the segment


def test_gaps_past_the_surrogates_and_the_partition_of_every_gram(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gaps of more than 0xD7D0 documents (one code point each, the surrogate block
    skipped), within a batch and across batches and parts; `_partition` is FNV-1a's low
    byte for any gram, astral characters included."""
    import random

    from ecdigest.site.searchindex import _partition, fnv1a

    texts = [("", "")] * 60_000
    placed = {0: "电商", 30: "电" * 50, 31: "商", 56_000: "电商", 56_001: "商电" * 30, 59_999: "电𠀀"}
    texts = [("", placed.get(n, "")) for n in range(len(texts))]
    files = _build(texts, [58_000], monkeypatch)
    found: dict[str, list[int]] = {}
    for name in (n for n in files if "/p" in n):
        text = files[name].decode()
        for gram, gaps in json.loads("[" + text[text.index("(") + 1 : text.rindex(")")] + "]")[2].items():
            found[gram] = _decode(gaps)
    assert found["电"] == [0, 30, 56_000, 56_001, 59_999]
    assert found["商"] == [0, 31, 56_000, 56_001]
    assert found["𠀀"] == found["电𠀀"] == [59_999]
    rnd = random.Random(7)
    for _ in range(20_000):
        gram = "".join(
            chr(rnd.choice([rnd.randrange(0x20, 0xD800), rnd.randrange(0xE000, 0x110000)]))
            for _ in range(rnd.randint(1, 2))
        )
        assert _partition(gram) == fnv1a(gram) % 256, gram


@given(
    st.lists(st.text(min_size=1, max_size=1), max_size=40),
    st.lists(st.text(min_size=2, max_size=2), max_size=40),
)
@settings(max_examples=300, deadline=None)
def test_the_partitions_in_bulk_are_each_grams_partition(chars: list[str], pairs: list[str]) -> None:
    """`_partitions` (tables of UTF-16 low bytes, in C loops) answers `_partition` for
    every gram: any character, astral ones and lone surrogates included (one gram at a
    time then)."""
    from ecdigest.site.searchindex import _partition, _partitions

    assert list(_partitions(chars, 1)) == [_partition(gram) for gram in chars]
    assert list(_partitions(pairs, 2)) == [_partition(gram) for gram in pairs]
    common = ["电", "商", "a", "\u4e00", "\uff21", "\ud800"]
    assert list(_partitions(common, 1)) == [fnv % 256 for fnv in map(_fnv, common)]
    two = ["电商", "a\u4e00", "\u4e00\u0100", "\ud800b"]
    assert list(_partitions(two, 2)) == [fnv % 256 for fnv in map(_fnv, two)]


def _fnv(text: str) -> int:
    from ecdigest.site.searchindex import fnv1a

    return fnv1a(text)


def test_the_collector_is_paused_while_a_batch_is_made_and_back_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The postings are made with the garbage collector off (its walks of the batch's lists
    were a quarter of the index's time); it is on again after, and stays off for a caller
    that had turned it off."""
    import gc

    from ecdigest.site import searchindex

    seen: list[bool] = []
    real = searchindex._partitions

    def watching(grams: list[str], width: int) -> bytes:
        seen.append(gc.isenabled())
        return real(grams, width)

    monkeypatch.setattr(searchindex, "_partitions", watching)
    texts = _random_texts(random.Random(9), "电商直播 ab", count=30, body=30)
    assert gc.isenabled()
    first = _build(texts, [11], monkeypatch)
    assert seen and not any(seen) and gc.isenabled()
    gc.disable()
    try:
        assert _build(texts, [11], monkeypatch) == first
        assert not gc.isenabled()
    finally:
        gc.enable()


@given(
    st.lists(st.text(min_size=1, max_size=2), max_size=40),
    st.sampled_from([1, 2, 256, 2048, 1 << 16]),
)
@settings(max_examples=300, deadline=None)
def test_the_shards_in_bulk_are_fnv1a_modulo_the_shard_count(grams: list[str], shards: int) -> None:
    """`_shards` (the hash's low 16 bits from tables, in C loops) is FNV-1a over UTF-16
    modulo the shard count for grams of one and two characters, mixed, astral characters
    and lone surrogates included."""
    from ecdigest.site.searchindex import _shards, fnv1a

    assert _shards(grams, shards - 1) == [fnv1a(gram) % shards for gram in grams]
    mixed = ["电", "电商", "\uffff\uffff", "a", "\ud800", "\u4e00\u0100"]
    assert _shards(mixed, shards - 1) == [fnv1a(gram) % shards for gram in mixed]
