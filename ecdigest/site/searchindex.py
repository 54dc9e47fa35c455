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

Building it (`SegmentBuilder`) is plain Python, spooled to disk: each batch of documents
(BATCH_CHARS of folded text) becomes, for each gram, the list of its documents (a set of a
text's characters and one of its pairs, `map(add, text, text[1:])`, then one append per
posting, with the garbage collector paused: it would walk the batch's lists again and
again), then columns in C loops (grams, first and last documents, gap strings), cut by
partition (FNV-1a of the gram modulo 256, from tables of the code units' low bytes, so a
partition's grams land in known shards) and marshalled to an unlinked temporary file; at
the end each group of partitions is read back, its pieces joined in document order and
written out shard by shard. Memory stays bounded by a batch and a group, whatever the
archive's size, and forked workers (a cold build) each spool their own stretch of
documents.

numpy arrays did the same work (a posting as `gram << 20 | doc`, sorted) in 2.2-2.5 s
where this took 8.7-8.9 s for 1,000 issues (22 million characters; 5-6 s against 24-37 s
for 3,000), at nearly twice the memory: about 3 s of a ~55 s cold build on two workers,
which decides no target, so not worth a dependency (bench/RESULTS.md "Build (web archive)").
With the collector paused and the columns made in C loops it takes ~37 % less (round six
there: 45.0 -> 28.0 s of CPU for today's 1,000-issue archive, 38.6 million postings); what
is left is one append per posting.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import sys
import tempfile
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import add, and_, itemgetter, sub, xor
from typing import Any

from ..search import fold
from ..zhconv import fold as script_fold

VERSION = 2  # 2: the cross-script key (zhconv.fold) in every posting
DELTA_MAX = 26  # issues in the delta before the main segment is rebuilt (half a year)
SHARD_POSTINGS = 20_000  # a shard's target size, in postings (about a byte each)
DOC_CHUNK = 250  # documents per chunk of titles
EXCERPT = 60  # characters of body shown under a result
# Characters of folded text per batch (~5 MB of sets and lists). A cold build's worker holds one
# batch on top of what it forked with: 600,000 made its peak 208 MB at 3,000 issues, 150,000
# 194 MB (target 200), in 132 -> 123 s, the site byte-identical (bench/RESULTS.md, Build).
BATCH_CHARS = 150_000
PARTITIONS = 256  # spool partitions (a power of two)
_BASE = 0x30
_SURROGATES = 0xD800
# A segment holds at most ~1.1 million documents (20,000 issues of 55): a gap is one code point.
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
_UTF16 = "utf-16-le" if sys.byteorder == "little" else "utf-16-be"  # native: read as unsigned shorts


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


def _fnv1a_code_points(text: str) -> int:
    """`fnv1a` without encoding the text first (a code point above U+FFFF as its two
    surrogates): 2x faster for a gram, and the parent hashes every distinct gram."""
    value = _FNV_OFFSET
    for char in text:
        code = ord(char)
        if code >= 0x10000:
            code -= 0x10000
            value = ((value ^ (0xD800 + (code >> 10))) * _FNV_PRIME) & 0xFFFFFFFF
            code = 0xDC00 + (code & 0x3FF)
        value = ((value ^ code) * _FNV_PRIME) & 0xFFFFFFFF
    return value


def grams(text: str) -> set[str]:
    """Every character and adjacent pair of a folded text (the space alone aside): what
    the index holds for a text (the reference for `SegmentBuilder`'s arrays)."""
    found = set(text)
    found.update(a + b for a, b in itertools.pairwise(text))
    found.discard(" ")
    return found


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
        """Spool the pending documents' postings: per partition, one marshalled block of
        columns (grams, first documents, last documents, gap strings after the first)."""
        if not self._pending:
            return
        import marshal

        texts = self._pending
        doc = first = self._pending_first
        with _collector_paused():
            chars: defaultdict[str, list[int]] = defaultdict(list)
            pairs: defaultdict[str, list[int]] = defaultdict(list)
            for number in range(0, len(texts), 2):
                title, body = texts[number], texts[number + 1]
                found = set(title)
                found.update(body)
                found.discard(" ")
                for gram in found:
                    chars[gram].append(doc)
                found = set(map(add, title, title[1:]))
                found.update(map(add, body, body[1:]))
                for gram in found:
                    pairs[gram].append(doc)
                doc += 1
            self._pending, self._pending_chars = [], 0
            self._pending_first = self.summary.first + self.summary.docs
            grams = [*chars, *pairs]
            lists = [*chars.values(), *pairs.values()]
            # Grams in partition order (any order within one: the shards sort them).
            where = _partitions(grams[: len(chars)], 1) + _partitions(grams[len(chars) :], 2)
            del chars, pairs
            order = sorted(range(len(grams)), key=where.__getitem__)
            grams = list(map(grams.__getitem__, order))
            lists = list(map(lists.__getitem__, order))
            firsts = list(map(itemgetter(0), lists))
            lasts = list(map(itemgetter(-1), lists))
            tails = _tails(lists, doc - first)
            self.summary.postings += sum(map(len, lists))
            del lists
            bounds = [self._position]
            pieces = []
            start = 0
            for partition in range(PARTITIONS):
                end = bisect_right(order, partition, start, key=where.__getitem__)
                if end > start:
                    data = marshal.dumps(
                        (grams[start:end], firsts[start:end], lasts[start:end], tails[start:end])
                    )
                    pieces.append(data)
                    bounds.append(bounds[-1] + len(data))
                else:
                    bounds.append(bounds[-1])
                start = end
        os.pwrite(self._postings.fileno(), b"".join(pieces), self._position)
        self.summary.blocks.append(bounds)
        self._position = bounds[-1]

    def close(self) -> PartSummary:
        self.flush()
        self._compact()
        return self.summary

    def _compact(self) -> None:
        """Merge the spooled batches into one block per partition (appended to the spool):
        done by each worker of a cold build at once, it leaves the parent's serial merge
        one piece per gram and part instead of one per gram and batch (7 million pieces at
        1,000 issues). The pieces join as `_merge` joins them, so the index is the same."""
        summary = self.summary
        if len(summary.blocks) <= 1:
            return
        import marshal

        bounds = [self._position]
        with _collector_paused():
            for partition in range(PARTITIONS):
                blocks = self.read_partition(partition, summary)
                data = marshal.dumps(_merge(blocks)) if blocks else b""
                if data:
                    os.pwrite(self._postings.fileno(), data, bounds[-1])
                bounds.append(bounds[-1] + len(data))
        summary.blocks = [bounds]
        self._position = bounds[-1]

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
                with _collector_paused():
                    grams, firsts, _, tails = _merge(blocks)
                    gaps = map(add, _heads(firsts), tails)
                    for shard, gram, gap in zip(_shards(grams, shards - 1), grams, gaps, strict=True):
                        buckets.setdefault(shard, {})[gram] = gap
                    del grams, firsts, tails, gaps
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


def _encode_one(gap: int) -> str:
    gap += _BASE
    return chr(gap + 0x800 if gap >= _SURROGATES else gap)


_FAST = _SURROGATES - _BASE  # gaps below this are one table look-up
_CHARS: list[str] = []  # made on first use (55,000 strings: ~5 ms every build would pay)

Columns = tuple[list[str], list[int], list[int], list[str]]  # grams, firsts, lasts, tails


def _chars() -> list[str]:
    if not _CHARS:
        _CHARS.extend(chr(gap + _BASE) for gap in range(_FAST))
    return _CHARS


def _tails(lists: list[list[int]], span: int) -> list[str]:
    """Each ascending list's gaps after its first document, one character each; `span`:
    the documents the lists cover (a gap is less)."""
    table = _chars() if span <= _FAST else [_encode_one(gap) for gap in range(span)]
    get = table.__getitem__
    join = "".join
    return [join(map(get, map(sub, docs[1:], docs))) if len(docs) > 1 else "" for docs in lists]


def _heads(firsts: list[int]) -> list[str]:
    """Each first document as its gap from -1 (the start of a gap string)."""
    table = _chars()
    return [table[first + 1] if first + 1 < _FAST else _encode_one(first + 1) for first in firsts]


def _merge(blocks: list[bytes]) -> Columns:
    """The columns of every gram in the spooled blocks (read in document order): a gram's
    pieces joined, each next piece's first document as its gap from the last one before."""
    import marshal

    if len(blocks) == 1:
        one: Columns = marshal.loads(blocks[0])
        return one
    table = _chars()
    merged: dict[str, list[Any]] = {}
    get = merged.get
    for data in blocks:
        grams, firsts, lasts, tails = marshal.loads(data)
        for gram, first, last, tail in zip(grams, firsts, lasts, tails, strict=True):
            held = get(gram)
            if held is None:
                merged[gram] = [first, last, tail]
                continue
            gap = first - held[1]
            link = table[gap] if gap < _FAST else _encode_one(gap)
            pieces = held[2]
            if pieces.__class__ is str:
                held[2] = [pieces, link, tail]
            else:
                pieces += (link, tail)
            held[1] = last
    values = merged.values()
    return (
        list(merged),
        [held[0] for held in values],
        [held[1] for held in values],
        [tail if tail.__class__ is str else "".join(tail) for _, _, tail in values],
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The garbage collector off while the postings are made: millions of lists of numbers
    and strings, which hold no cycles, and which its collections would walk again and
    again (a quarter of the index's time)."""
    import gc

    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


_STEP = bytes(((state ^ low) * _FNV_PRIME) & 0xFF for state in range(256) for low in range(256))


def _partition(gram: str) -> int:
    """FNV-1a of the gram modulo 256 (PARTITIONS): its low byte, which depends only on
    the low bytes of the state and of each UTF-16 code unit."""
    state = _FNV_OFFSET & 0xFF
    for char in gram:
        code = ord(char)
        if code < 0x10000:
            state = _STEP[state << 8 | (code & 0xFF)]
        else:
            code -= 0x10000
            state = _STEP[state << 8 | ((0xD800 + (code >> 10)) & 0xFF)]
            state = _STEP[state << 8 | ((0xDC00 + (code & 0x3FF)) & 0xFF)]
    return state


_PT: list[bytes] = []  # made on first use: the partition of one and of two UTF-16 low bytes


def _partitions(grams: list[str], width: int) -> bytes:
    """`_partition` of every gram, each `width` (1 or 2) characters long: in C loops, through
    tables of the code units' low bytes, when they are all in the Basic Multilingual Plane
    (else one gram at a time)."""
    if not _PT:
        one = bytes(_STEP[(_FNV_OFFSET & 0xFF) << 8 | low] for low in range(256))
        pairs = bytes(x for a in range(256) for b in range(256) for x in (a, b))
        two = bytearray(1 << 16)
        # Indexed by the two low bytes read as one native unsigned short, as below.
        for key, a, b in zip(memoryview(pairs).cast("H"), pairs[0::2], pairs[1::2], strict=True):
            two[key] = _STEP[one[a] << 8 | b]
        _PT.extend((one, bytes(two)))
    joined = "".join(grams)
    data = joined.encode("utf-16-le", "surrogatepass")
    if len(joined) != width * len(grams) or len(data) != 2 * len(joined):
        return bytes(map(_partition, grams))
    lows = data[0::2]
    if width == 1:
        return lows.translate(_PT[0])
    return bytes(map(_PT[1].__getitem__, memoryview(lows).cast("H")))


_FNV16: list[Any] = []  # made on first use: FNV-1a's low 16 bits after one code unit, and a step


def _shards(grams: list[str], mask: int) -> list[int]:
    """`_fnv1a_code_points(gram) & mask` of every gram (of one or two characters; `mask` <
    65536: a shard count's bits), in C loops where every character is in the Basic
    Multilingual Plane: the hash's low 16 bits depend only on the code units' (a table for
    the first unit, one for the multiplication after the second)."""
    if not _FNV16:
        from array import array

        first = array("H", [((_FNV_OFFSET ^ unit) * _FNV_PRIME) & 0xFFFF for unit in range(1 << 16)])
        step = array("H", [(value * _FNV_PRIME) & 0xFFFF for value in range(1 << 16)])
        _FNV16.extend((first, step))
    first, step = _FNV16
    padded = "".join(map(str.ljust, grams, itertools.repeat(2), itertools.repeat("\0")))
    data = padded.encode(_UTF16, "surrogatepass")
    if len(padded) != 2 * len(grams) or len(data) != 4 * len(grams):
        return [_fnv1a_code_points(gram) & mask for gram in grams]
    units = memoryview(data).cast("H")
    after_one = list(map(first.__getitem__, units[0::2]))
    hashes = list(map(step.__getitem__, map(xor, after_one, units[1::2])))
    for single in itertools.compress(range(len(grams)), map((1).__eq__, map(len, grams))):
        hashes[single] = after_one[single]
    return list(map(and_, hashes, itertools.repeat(mask)))


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
