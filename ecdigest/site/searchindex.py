"""The site's search index: static files a browser reads, finding what `ecdigest search` finds.

Why not Pagefind (measured on the shipped issue, bench/RESULTS.md "Site search"): its
Chinese segmentation splits queries into words and matches word prefixes, so `店` found 3
of the 5 articles that contain it and `播` 4 of 10, while `电商` also returned 16 articles
that only contain 电子 or 商务, and `直播电商` 38 articles for the 1 that contains it; and it
re-indexes the whole site on every build. `ecdigest search` matches folded substrings, any
length; so does this index:

- Every article is a document: its title and its body, each folded as `key()` folds them:
  `search.fold` (NFKC, case folding; the browser repeats it on the query with
  `normalize("NFKC")`, `toLowerCase()` and the table of characters where case folding
  differs from lower-casing, shipped in the index), then `zhconv.fold`, the cross-script
  key (跨境電商 and 跨境电商 are one key; the browser folds the query with the table of
  zhfold.py, `zh-….js`). A term matches when it is a substring of the folded title or
  body, as on the command line.
- Postings: for every character and every pair of adjacent characters of a title or body
  (never across the two), the documents that contain it. A 1- or 2-character term is
  answered exactly by one list; a longer term by the documents holding all of its pairs
  (a superset that is exact in practice: bench/RESULTS.md counts the difference).
- Sharded by a hash of the gram (FNV-1a over UTF-16 code units, the same in Python and
  JavaScript), so a query loads one small file per gram; documents' titles, dates and
  pages in chunks, loaded only for the results shown.
- Files are JavaScript (`ECD_SEARCH.x(...)` calls), loaded with `<script>` elements: the
  search works from a web server and from the files opened off a disk (file:// forbids
  fetch()). Names carry a digest of their content, so a browser cache never mixes builds.
- Two segments, as a log-structured index: `main` (every issue when it was built) and
  `delta` (the issues changed since, rebuilt from those files alone), with main's documents
  of changed or removed issues listed as deleted. A build after a one-issue edit writes
  only the delta; when the delta passes DELTA_MAX issues the main segment is rebuilt.

Posting lists are delta-coded document numbers, each written as one character
(code point = gap + 0x30, surrogates skipped): a common gram costs a byte per document.
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..search import fold
from ..zhconv import fold as script_fold

VERSION = 2  # 2: the cross-script key (zhconv.fold) in every posting
DELTA_MAX = 26  # issues in the delta before the main segment is rebuilt (half a year)
SHARD_BYTES = 24 * 1024  # a shard's target size
DOC_CHUNK = 250  # documents per chunk of titles
EXCERPT = 60  # characters of body shown under a result
_BASE = 0x30
_SURROGATES = 0xD800
_add = operator.add


def key(text: str) -> str:
    """What the index stores and a query is compared in: `search.fold`, then the
    script-neutral key of `zhconv.fold` (Traditional and Simplified spellings alike)."""
    return script_fold(fold(text))


def casefold_table() -> dict[str, str]:
    """Characters whose case folding is not their lower case (ß -> ss, ς -> σ, …): the
    browser applies these after toLowerCase() so a query folds as `search.fold` does."""
    table = {}
    for code in range(0x10000):
        # No case in the CJK blocks, Hangul or the surrogates: skip them (it is 0.5 s to
        # look at all of Unicode; every character with a case-folding exception is in the BMP).
        if 0x3400 <= code < 0xA000 or 0xAC00 <= code < 0xE000:
            continue
        char = chr(code)
        if char.casefold() != char.lower():
            table[char] = char.casefold()
    return table


def fnv1a(text: str) -> int:
    """FNV-1a, 32 bits, over UTF-16 code units (what JavaScript strings are made of)."""
    value = 0x811C9DC5
    data = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        value ^= data[i] | (data[i + 1] << 8)
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


def grams(text: str) -> set[str]:
    """Every character and adjacent pair of a folded text (the space alone aside)."""
    found = set(text)
    found.update(map(_add, text, text[1:]))
    found.discard(" ")
    return found


def encode_gaps(docs: Sequence[int]) -> str:
    """Ascending document numbers as one character per gap (code point = gap + 0x30,
    the surrogate block skipped)."""
    gaps = [b - a + _BASE for a, b in zip([-1, *docs], docs, strict=False)]
    if gaps and max(gaps) >= _SURROGATES:
        gaps = [g + 0x800 if g >= _SURROGATES else g for g in gaps]
    return "".join(map(chr, gaps))


@dataclass
class Doc:
    page: str  # the issue page, edition-relative
    article: str
    title: str
    date: str
    section: str
    excerpt: str


@dataclass
class Segment:
    """Documents and their postings (document numbers local to the segment).

    A segment can be built in parts (worker processes, each given the issues of a stretch
    of the archive and the number of its first document: `first`): `part()` hands a part
    back and `merge()` appends it; the parts must come in document order."""

    docs: list[Doc] = field(default_factory=list)
    postings: dict[str, list[int]] = field(default_factory=dict)
    # issue id -> [first doc, end doc, digest]
    issues: dict[str, list[object]] = field(default_factory=dict)
    # [first doc, issue date] per issue, in document order (the browser sorts by it)
    starts: list[list[object]] = field(default_factory=list)
    first: int = 0  # the number of this part's first document
    # gram -> [gaps as encode_gaps writes them, first doc, last doc]: postings packed for
    # the trip from a worker (a list of ints costs 36 bytes a posting once unpickled)
    packed: dict[str, list[Any]] = field(default_factory=dict)

    def pack(self) -> None:
        """Move the postings into `packed` (what a worker sends back)."""
        packed = self.packed
        for gram, docs in self.postings.items():
            packed[gram] = [encode_gaps(docs), docs[0], docs[-1]]
        self.postings = {}

    def encoded(self) -> dict[str, str]:
        """Every gram's postings, encoded."""
        found = {gram: value[0] for gram, value in self.packed.items()}
        for gram, docs in self.postings.items():
            assert gram not in found, "a segment is either packed or not"
            found[gram] = encode_gaps(docs)
        return found

    def add(self, issue_id: str, digest: str, date: str, docs: Iterable[tuple[Doc, str, str]]) -> None:
        """Add an issue's articles: (doc, folded title, folded body) each."""
        start = self.first + len(self.docs)
        postings = self.postings
        number = start
        for doc, title, body in docs:
            found = grams(title)
            found |= grams(body)
            for gram in found:
                listed = postings.get(gram)
                if listed is None:
                    postings[gram] = [number]
                else:
                    listed.append(number)
            self.docs.append(doc)
            number += 1
        self.issues[issue_id] = [start, number, digest]
        self.starts.append([start, date])


def part_of(segment: Segment) -> Segment:
    """A copy holding nothing, to be filled by a worker from document `first` on."""
    return Segment(first=segment.first + len(segment.docs))


def merge(segment: Segment, part: Segment) -> None:
    """Append a packed part built by a worker (its documents follow the segment's): gap
    strings are joined, the part's first gap recomputed from the segment's last document."""
    assert part.first == segment.first + len(segment.docs), "segment parts out of order"
    assert not segment.postings and not part.postings, "merge packed segments"
    segment.docs.extend(part.docs)
    packed = segment.packed
    for gram, (gaps, first, last) in part.packed.items():
        mine = packed.get(gram)
        if mine is None:
            packed[gram] = [gaps, first, last]
        else:
            mine[0] += encode_gaps([first - mine[2] - 1]) + gaps[1:]
            mine[2] = last
    segment.issues.update(part.issues)
    segment.starts.extend(part.starts)


def article_docs(
    issue_page: str, issue_date: str, articles: Iterable[tuple[str, str, str, str, str]]
) -> list[tuple[Doc, str, str]]:
    """(doc, folded title, folded body) for (id, title, section, body text, display title)."""
    out = []
    for article_id, title, section, body, shown in articles:
        excerpt = " ".join(body.split())[:EXCERPT]
        out.append((Doc(issue_page, article_id, shown, issue_date, section, excerpt), key(title), key(body)))
    return out


def _js(call: str, *args: object) -> bytes:
    text = json.dumps(list(args), ensure_ascii=False, separators=(",", ":"))[1:-1]
    # U+2028/2029 end lines in older JavaScript string literals.
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f"ECD_SEARCH.{call}({text});\n".encode()


def segment_files(name: str, segment: Segment) -> tuple[int, dict[str, bytes]]:
    """(shard count, {file name: bytes}) of a segment; `name` (a digest of what the segment
    holds, chosen by the caller) is the folder, so files never change under one name."""
    encoded = segment.encoded()
    size = sum(len(g) + len(v) + 4 for g, v in encoded.items())
    shards = 1
    while size / shards > SHARD_BYTES and shards < 65536:
        shards *= 2
    buckets: list[dict[str, str]] = [{} for _ in range(shards)]
    for gram in sorted(encoded):
        buckets[fnv1a(gram) % shards][gram] = encoded[gram]
    files: dict[str, bytes] = {}
    for number, bucket in enumerate(buckets):
        files[f"{name}/p{number}.js"] = _js("postings", name, number, bucket)
    for start in range(0, len(segment.docs), DOC_CHUNK):
        chunk = [
            [d.page, d.article, d.title, d.date, d.section, d.excerpt]
            for d in segment.docs[start : start + DOC_CHUNK]
        ]
        files[f"{name}/d{start // DOC_CHUNK}.js"] = _js("docs", name, start // DOC_CHUNK, chunk)
    return shards, files


def meta_file(
    segments: list[tuple[str, int, int, list[list[object]]]],
    deleted: list[tuple[int, int]],
    table: dict[str, str],
    zh: str,
) -> tuple[str, bytes]:
    """(file name, bytes) of the index's entry point: segments (name, documents, shards,
    where each issue starts and its date), main's deleted document ranges, the
    case-folding table and the name of the cross-script table's file (`zh_file`)."""
    meta = {
        "version": VERSION,
        "chunk": DOC_CHUNK,
        "segments": [{"name": n, "docs": d, "shards": s, "issues": i} for n, d, s, i in segments],
        "deleted": [list(r) for r in deleted],
        "fold": table,
        "zh": zh,
    }
    data = _js("meta", meta)
    name = f"meta-{hashlib.blake2b(data, digest_size=6).hexdigest()}.js"
    return name, data


def zh_file() -> tuple[str, bytes]:
    """(file name, bytes) of the cross-script table the browser folds queries with."""
    from .zhfold import table_script

    data = table_script()
    return f"zh-{hashlib.blake2b(data, digest_size=6).hexdigest()}.js", data
