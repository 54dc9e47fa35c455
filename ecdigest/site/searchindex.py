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
  key (跨境電商 and 跨境电商 are one key; the browser folds the query with the same
  per-character table, `zhkey.pairs()`, shipped as `zh-….js`). A term matches when it is a substring of the folded title or
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

Building it (`SegmentBuilder`) is array work, done with numpy: a 1,000-issue archive has
55,000 documents and 39 million postings, which cost ~0.5 µs each as Python dicts and
lists (half of a cold build) and ~50 ns as sorted integer arrays. A gram is a number (a
character's code point; a pair `a << 21 | b`), a posting `gram << 20 | document`. Each
batch of documents is sorted and deduplicated, then spooled by partition (FNV-1a of the
gram modulo 256, so a partition's grams land in known shards) to an unlinked temporary
file; at the end each group of partitions is read back, sorted and written out shard by
shard. Memory stays bounded by a batch and a group, whatever the archive's size, and
forked workers (a cold build) each spool their own stretch of documents.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..search import fold
from ..zhconv import fold as script_fold

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

VERSION = 2  # 2: the cross-script key (zhconv.fold) in every posting
DELTA_MAX = 26  # issues in the delta before the main segment is rebuilt (half a year)
SHARD_POSTINGS = 20_000  # a shard's target size, in postings (about a byte each)
DOC_CHUNK = 250  # documents per chunk of titles
EXCERPT = 60  # characters of body shown under a result
BATCH_CHARS = 600_000  # characters of folded text per batch (~40 MB of arrays at most)
PARTITIONS = 256  # spool partitions (a power of two)
_BASE = 0x30
_SURROGATES = 0xD800
_PAIR_SHIFT = 21  # a code point has 21 bits
_DOC_BITS = 20  # documents per segment: at most 2**20 (19,000 weekly issues of 55)
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


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
    value = _FNV_OFFSET
    data = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        value ^= data[i] | (data[i + 1] << 8)
        value = (value * _FNV_PRIME) & 0xFFFFFFFF
    return value


def grams(text: str) -> set[str]:
    """Every character and adjacent pair of a folded text (the space alone aside): what
    the index holds for a text (the reference for `SegmentBuilder`'s arrays)."""
    found = set(text)
    found.update(a + b for a, b in itertools.pairwise(text))
    found.discard(" ")
    return found


def encode_gaps(docs: Iterable[int]) -> str:
    """Ascending document numbers as one character per gap (code point = gap + 0x30,
    the surrogate block skipped)."""
    out = []
    previous = -1
    for doc in docs:
        gap = doc - previous + _BASE
        out.append(chr(gap + 0x800 if gap >= _SURROGATES else gap))
        previous = doc
    return "".join(out)


@dataclass
class Doc:
    page: str  # the issue page, edition-relative
    article: str
    title: str
    date: str
    section: str
    excerpt: str


def article_docs(
    issue_page: str, issue_date: str, articles: Iterable[tuple[str, str, str, str, str]]
) -> list[tuple[Doc, str, str]]:
    """(doc, folded title, folded body) for (id, title, section, body text, display title)."""
    out = []
    for article_id, title, section, body, shown in articles:
        excerpt = " ".join(body.split())[:EXCERPT]
        out.append((Doc(issue_page, article_id, shown, issue_date, section, excerpt), key(title), key(body)))
    return out


# --------------------------------------------------------------------------- building


@dataclass
class PartSummary:
    """What a part of a segment holds (sent back by a worker: no arrays, no files)."""

    first: int  # the number of its first document
    docs: int = 0
    postings: int = 0
    # one entry per spooled batch: the byte offset of each partition's block, and the end
    blocks: list[list[int]] = field(default_factory=list)
    doc_bytes: int = 0  # bytes of document rows spooled
    issues: dict[str, list[object]] = field(default_factory=dict)  # id -> [first, end, digest]
    starts: list[list[object]] = field(default_factory=list)  # [first doc, date] per issue


class SegmentPart:
    """Documents numbered from `first`, their postings spooled to unlinked temporary files.
    Made in the parent (a forked worker inherits the open files and fills them; the parent
    reads them once the worker has sent its summary)."""

    def __init__(self, first: int) -> None:
        self.summary = PartSummary(first)
        # Unlinked at once: nothing is left behind, whatever kills the build. Kept open for
        # the segment's life (closed by `discard`).
        self._postings = tempfile.TemporaryFile(prefix="ecdigest-index-")  # noqa: SIM115
        self._rows = tempfile.TemporaryFile(prefix="ecdigest-index-")  # noqa: SIM115
        self._pending: list[str] = []  # folded texts of the batch, title then body per doc
        self._pending_chars = 0
        self._pending_first = first
        self._position = 0
        self._row_position = 0

    def add(self, issue_id: str, digest: str, date: str, docs: Iterable[tuple[Doc, str, str]]) -> None:
        """Add an issue's articles: (doc, folded title, folded body) each."""
        summary = self.summary
        start = summary.first + summary.docs
        rows = []
        for doc, title, body in docs:
            self._pending += (title, body)
            self._pending_chars += len(title) + len(body)
            rows.append(
                json.dumps(
                    [doc.page, doc.article, doc.title, doc.date, doc.section, doc.excerpt],
                    ensure_ascii=False,
                    separators=(",", ":"),
                )
            )
            summary.docs += 1
        if rows:
            data = ("\n".join(rows) + "\n").encode("utf-8", "surrogatepass")
            os.pwrite(self._rows.fileno(), data, self._row_position)
            self._row_position += len(data)
            summary.doc_bytes = self._row_position
        summary.issues[issue_id] = [start, summary.first + summary.docs, digest]
        summary.starts.append([start, date])
        if self._pending_chars >= BATCH_CHARS:
            self.flush()

    def flush(self) -> None:
        """Spool the pending documents' postings (sorted, by partition)."""
        if not self._pending:
            return
        import numpy as np

        keys = _batch_keys(self._pending, self._pending_first)
        self._pending, self._pending_chars = [], 0
        self._pending_first = self.summary.first + self.summary.docs
        codes = keys >> np.uint64(_DOC_BITS)
        starts = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1])))
        partition = (_fnv(codes[starts]) % PARTITIONS).astype(np.int64)
        counts = np.diff(np.append(starts, len(keys)))
        per_posting = np.repeat(partition, counts)
        order = np.argsort(per_posting, kind="stable")
        spooled = keys[order]
        bounds = np.searchsorted(per_posting[order], np.arange(PARTITIONS + 1))
        data = spooled.tobytes()
        os.pwrite(self._postings.fileno(), data, self._position)
        self.summary.blocks.append([self._position + 8 * int(b) for b in bounds])
        self._position += len(data)
        self.summary.postings += len(keys)

    def close(self) -> PartSummary:
        self.flush()
        return self.summary

    def read_partition(self, partition: int, summary: PartSummary) -> list[bytes]:
        """The spooled blocks of one partition, from `summary` (the worker's, or ours)."""
        out = []
        for block in summary.blocks:
            start, end = block[partition], block[partition + 1]
            if end > start:
                out.append(os.pread(self._postings.fileno(), end - start, start))
        return out

    def rows(self, summary: PartSummary) -> Iterator[str]:
        """The spooled document rows (JSON arrays), in order."""
        position = 0
        remainder = b""
        while position < summary.doc_bytes:
            data = os.pread(self._rows.fileno(), min(1 << 20, summary.doc_bytes - position), position)
            if not data:
                break
            position += len(data)
            lines = (remainder + data).split(b"\n")
            remainder = lines.pop()
            for line in lines:
                yield line.decode("utf-8", "surrogatepass")
        if remainder:
            yield remainder.decode("utf-8", "surrogatepass")

    def discard(self) -> None:
        self._postings.close()
        self._rows.close()


class SegmentBuilder:
    """One segment built from parts (one, or one per worker, in document order)."""

    def __init__(self) -> None:
        self.parts: list[SegmentPart] = []
        self.summaries: list[PartSummary] = []

    def part(self, first: int) -> SegmentPart:
        made = SegmentPart(first)
        self.parts.append(made)
        return made

    def discard(self) -> None:
        for made in self.parts:
            made.discard()
        self.parts, self.summaries = [], []

    def files(
        self, name: str, summaries: list[PartSummary]
    ) -> tuple[dict[str, Any], Iterator[tuple[str, bytes]]]:
        """(the segment's state, its files one at a time): shards `NAME/pN.js` and document
        chunks `NAME/dN.js`. `summaries`: each part's, in the parts' order."""
        import numpy as np

        assert len(summaries) == len(self.parts)
        for summary, nxt in zip(summaries, [*summaries[1:], None], strict=True):
            assert nxt is None or summary.first + summary.docs == nxt.first, "segment parts out of order"
        postings = sum(s.postings for s in summaries)
        shards = 1
        while postings / shards > SHARD_POSTINGS and shards < 1 << 16:
            shards *= 2
        issues: dict[str, list[object]] = {}
        starts: list[list[object]] = []
        for summary in summaries:
            issues.update(summary.issues)
            starts.extend(summary.starts)
        state = {
            "docs": sum(s.docs for s in summaries),
            "shards": shards,
            "issues": issues,
            "starts": starts,
        }

        def generate() -> Iterator[tuple[str, bytes]]:
            groups = min(PARTITIONS, shards)
            for group in range(groups):
                buckets: dict[int, dict[str, str]] = {}
                blocks = [
                    data
                    for partition in range(group, PARTITIONS, groups)
                    for made, summary in zip(self.parts, summaries, strict=True)
                    for data in made.read_partition(partition, summary)
                ]
                keys = np.sort(np.frombuffer(b"".join(blocks), dtype=np.uint64)) if blocks else None
                if keys is not None and len(keys):
                    for gram, gaps, shard in _encode(keys, shards):
                        buckets.setdefault(shard, {})[gram] = gaps
                for shard in range(group, shards, groups):
                    bucket = dict(sorted(buckets.get(shard, {}).items()))
                    yield f"{name}/p{shard}.js", _js("postings", name, shard, bucket)
            chunk: list[Any] = []
            number = 0
            for made, summary in zip(self.parts, summaries, strict=True):
                for row in made.rows(summary):
                    chunk.append(row)
                    if len(chunk) == DOC_CHUNK:
                        yield f"{name}/d{number}.js", _js_rows(name, number, chunk)
                        chunk, number = [], number + 1
            if chunk:
                yield f"{name}/d{number}.js", _js_rows(name, number, chunk)

        return state, generate()


def _batch_keys(texts: list[str], first: int) -> npt.NDArray[np.uint64]:
    """Sorted, distinct postings (`gram << 20 | doc`) of a batch: texts are a title and a
    body per document, documents numbered from `first`."""
    import numpy as np

    joined = "".join(texts)
    points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint64)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    ends = np.cumsum(lengths)
    # A pair never crosses from one text to the next: the last character of each text has none.
    pairs = (points[:-1] << np.uint64(_PAIR_SHIFT)) | points[1:]
    keep_pair = np.ones(len(pairs), dtype=bool)
    last = ends[(lengths > 0)] - 1
    keep_pair[last[last < len(pairs)]] = False
    doc_of_text = first + np.arange(len(texts), dtype=np.uint64) // np.uint64(2)
    doc_of_char = np.repeat(doc_of_text, lengths)
    singles = points != 0x20
    keys = np.concatenate(
        (
            (points[singles] << np.uint64(_DOC_BITS)) | doc_of_char[singles],
            (pairs[keep_pair] << np.uint64(_DOC_BITS)) | doc_of_char[:-1][keep_pair],
        )
    )
    # Sorted, then each key kept once (np.unique hashes in numpy 2.3+: 100x slower here).
    keys.sort()
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys


def _fnv(codes: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """FNV-1a of each gram (a code point, or a pair `a << 21 | b`) over its UTF-16 code units."""
    import numpy as np

    mask = np.uint64((1 << _PAIR_SHIFT) - 1)
    high = codes >> np.uint64(_PAIR_SHIFT)
    low = codes & mask
    is_pair = high != 0
    units = []  # up to four code units per gram, with a flag for those that exist
    for char, present in ((np.where(is_pair, high, low), np.ones(len(codes), dtype=bool)), (low, is_pair)):
        astral = char >= np.uint64(0x10000)
        offset = char - np.uint64(0x10000)
        lead = np.where(astral, np.uint64(0xD800) + (offset >> np.uint64(10)), char)
        trail = np.uint64(0xDC00) + (offset & np.uint64(0x3FF))
        units.append((lead, present))
        units.append((trail, present & astral))
    value = np.full(len(codes), _FNV_OFFSET, dtype=np.uint64)
    for unit, present in units:
        mixed = ((value ^ unit) * np.uint64(_FNV_PRIME)) & np.uint64(0xFFFFFFFF)
        value = np.where(present, mixed, value)
    return value


def _encode(keys: npt.NDArray[np.uint64], shards: int) -> Iterator[tuple[str, str, int]]:
    """(gram, gap string, shard) for each gram of sorted distinct postings."""
    import numpy as np

    codes = keys >> np.uint64(_DOC_BITS)
    docs = (keys & np.uint64((1 << _DOC_BITS) - 1)).astype(np.int64)
    starts = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1])))
    ends = np.append(starts[1:], len(keys))
    previous = np.empty_like(docs)
    previous[1:] = docs[:-1]
    previous[starts] = -1
    chars = docs - previous + _BASE
    chars = np.where(chars >= _SURROGATES, chars + 0x800, chars).astype("<u4")
    gaps = chars.tobytes().decode("utf-32-le")
    distinct = codes[starts]
    mask = np.uint64((1 << _PAIR_SHIFT) - 1)
    high = (distinct >> np.uint64(_PAIR_SHIFT)).astype(np.int64)
    low = (distinct & mask).astype(np.int64)
    # Every gram's characters in one string: the first (when a pair), then the last.
    width = np.where(high != 0, 2, 1)
    text = np.zeros(int(width.sum()), dtype="<u4")
    place = np.cumsum(width) - width
    text[place[high != 0]] = high[high != 0]
    text[place + width - 1] = low
    names = text.tobytes().decode("utf-32-le")
    shard_of = (_fnv(distinct) % np.uint64(shards)).tolist()
    for n, (a, b, at, size) in enumerate(
        zip(starts.tolist(), ends.tolist(), place.tolist(), width.tolist(), strict=True)
    ):
        yield names[at : at + size], gaps[a:b], shard_of[n]


def _js(call: str, *args: object) -> bytes:
    text = json.dumps(list(args), ensure_ascii=False, separators=(",", ":"))[1:-1]
    # U+2028/2029 end lines in older JavaScript string literals.
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f"ECD_SEARCH.{call}({text});\n".encode()


def _js_rows(name: str, number: int, rows: list[str]) -> bytes:
    """A document chunk from rows already in JSON (as `_js("docs", name, number, rows)`)."""
    head = json.dumps([name, number], ensure_ascii=False, separators=(",", ":"))[1:-1]
    text = f"ECD_SEARCH.docs({head},[{','.join(rows)}]);\n"
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode("utf-8", "surrogatepass")


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
    """(file name, bytes) of the cross-script table the browser folds queries with:
    `zhkey.pairs()`, the very table `zhconv.fold` folds the index with (one character for
    one, no phrases), as one string of (character, key) pairs."""
    from ..zhkey import pairs

    table = "".join(char + folded for char, folded in pairs())
    data = f"ECD_SEARCH.zh({json.dumps({'chars': table}, ensure_ascii=False, separators=(',', ':'))});\n"
    return f"zh-{hashlib.blake2b(data.encode(), digest_size=6).hexdigest()}.js", data.encode()
