"""PDF -> the text lines the import pipeline reads, using the glyphs' positions on the page.

pdfminer.six (in a child process, see `pdf_worker.py`) gives runs of glyphs with their
positions; this module turns them into the lines a reader sees, in reading order:

1. lines: runs on one baseline are one line; a gap wider than two characters splits it
   (two columns, or a header's left and right parts);
2. page furniture: running headers, footers and page numbers are the lines at the top or
   bottom edge, apart from the text, that repeat (digits aside) at the same height on 40%
   of the pages, or that read as a page number (` - 20 - `, `第 20 页`, `20/31`). They are
   dropped, so a paragraph that crosses a page break continues as if the page were not
   there. (A one-page file shows no repetition: its header is reported as left-over text.)
3. columns: a page whose lines leave a vertical gutter free is read column by column; a
   line across the gutter, or alone at its height between the other column's lines (a
   section header set over both columns), starts a new band;
4. paragraphs: a blank line where a block ends (extra vertical space, or a change of font
   size: a title above its article, even when a page break took the space away) and where
   a paragraph ends (a first-line indent, or a sentence that stops well short of the right
   edge). The pipeline then reads blank-separated paragraphs, as it does for Word files.

The text also gets the few corrections PDF text needs: glyphs that fonts share with CJK
radicals come back as the radical (`⽉` U+2F49 for `月`), so radicals become ideographs;
a horizontal bar U+2015 is the Chinese dash U+2014 that shaping swapped; ligatures
(`ﬁ`) are letters again. A space that a PDF does not draw (at the end of a line, between
two Chinese characters) cannot be recovered.
"""

from __future__ import annotations

import itertools
import json
import re
import statistics
import subprocess
import sys
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InputError
from . import Decoded

MAX_PAGES = 2000
# Seconds for the child process; a module constant so that tests can shorten it.
TIMEOUT = 120.0

# --------------------------------------------------------------------------- glyph fixes

# Radicals (CJK Radicals Supplement, Kangxi Radicals) that Noto Sans CJK SC draws with the
# glyph of an ideograph, paired with it: a PDF writer that maps glyphs back to characters
# may pick the radical. Read from the font's cmap; tests/test_import_documents.py derives
# the pairs again from the installed font and compares. Other Kangxi radicals: NFKC.
_RADICAL_PAIRS = (
    "⺂乛⺃乚⺅亻⺇𠘨⺉刂⺋㔾⺍𭕄⺏尣⺐尢⺒巳⺓幺⺔彑⺕彐⺖忄⺘扌⺙攵⺛旡⺞歺⺟母⺠民⺡氵⺣灬⺤爫⺦丬⺨犭⺩𤣩⺭礻⺮𥫗⺯糹⺰纟"
    "⺱罓⺳㓁⺹耂⺺肀⺽𦥑⺾艹⻂衤⻅见⻆角⻇𧢲⻈讠⻉贝⻊𧾷⻋车⻌辶⻐钅⻑長⻒镸⻓长⻔门⻕𨸏⻖阝⻘青⻙韦⻚页⻛风⻜飞⻝食⻞𩙿⻟飠"
    "⻠饣⻡𩠐⻢马⻣骨⻤鬼⻥鱼⻦鸟⻧卤⻨麦⻩黄⻪黾⻫斉⻬齐⻮齿⻯竜⻰龙⻱龜⻲亀⻳龟⼀一⼁丨⼂丶⼃丿⼄乙⼅亅⼆二⼇亠⼈人⼉儿⼊入"
    "⼋八⼌冂⼍冖⼎冫⼏几⼐凵⼑刀⼒力⼓勹⼔匕⼕匚⼖匸⼗十⼘卜⼙卩⼚厂⼛厶⼜又⼝口⼞囗⼟土⼠士⼡夂⼢夊⼣夕⼤大⼥女⼦子⼧宀⼨寸"
    "⼩小⼪尢⼫尸⼬屮⼭山⼮巛⼯工⼰己⼱巾⼲干⼳幺⼴广⼵廴⼶廾⼷弋⼸弓⼺彡⼻彳⼼心⼽戈⼾户⼿手⽀支⽁攴⽂文⽃斗⽄斤⽅方⽆无⽇日"
    "⽈曰⽉月⽊木⽋欠⽌止⽍歹⽎殳⽏毋⽐比⽑毛⽒氏⽓气⽔水⽕火⽖爪⽗父⽘爻⽙爿⽚片⽛牙⽜牛⽝犬⽞玄⽟玉⽠瓜⽡瓦⽢甘⽣生⽤用⽥田"
    "⽦疋⽧疒⽨癶⽩白⽪皮⽫皿⽬目⽭矛⽮矢⽯石⽰示⽱禸⽲禾⽳穴⽴立⽵竹⽶米⽷糸⽸缶⽹网⽺羊⽻羽⽼老⽽而⽿耳⾀聿⾁肉⾂臣⾃自⾄至"
    "⾅臼⾆舌⾇舛⾈舟⾉艮⾊色⾋艸⾌虍⾍虫⾎血⾏行⾐衣⾑襾⾒見⾔言⾕谷⾖豆⾗豕⾘豸⾙貝⾚赤⾛走⾜足⾝身⾞車⾟辛⾠辰⾡辵⾢邑⾣酉"
    "⾤釆⾥里⾦金⾧長⾨門⾩阜⾪隶⾫隹⾬雨⾭靑⾮非⾯面⾰革⾱韋⾲韭⾳音⾴頁⾵風⾶飛⾷食⾸首⾹香⾺馬⾼高⾽髟⾾鬥⾿鬯⿀鬲⿁鬼⿂魚"
    "⿃鳥⿄鹵⿅鹿⿆麥⿇麻⿈黃⿉黍⿊黑⿋黹⿌黽⿍鼎⿎鼓⿏鼠⿑齊⿒齒⿓龍⿕龠"
)
RADICALS: dict[str, str] = {
    **{chr(c): unicodedata.normalize("NFKC", chr(c)) for c in range(0x2F00, 0x2FD6)},
    **{_RADICAL_PAIRS[i]: _RADICAL_PAIRS[i + 1] for i in range(0, len(_RADICAL_PAIRS), 2)},
    **{chr(c): unicodedata.normalize("NFKC", chr(c)) for c in range(0xFB00, 0xFB07)},  # ﬁ ﬂ ﬀ
    "\u2015": "\u2014",  # zh-Hans shaping draws — with the glyph of ―
}
_FIXES = str.maketrans(RADICALS)


def fix_glyphs(text: str) -> str:
    """Undo what font subsetting and shaping do to PDF text: radicals, U+2015, ligatures."""
    return text.translate(_FIXES)


# --------------------------------------------------------------------------- geometry


@dataclass
class PdfLine:
    """One visual line: left and right edge, baseline (points from the page top), font size."""

    x0: float
    x1: float
    baseline: float
    size: float
    text: str
    page: int

    @property
    def top(self) -> float:
        return self.baseline - 0.88 * self.size

    @property
    def bottom(self) -> float:
        return self.baseline + 0.12 * self.size


@dataclass(frozen=True)
class PdfPage:
    width: float
    height: float
    images: int
    lines: tuple[PdfLine, ...]


_PAGE_NUMBER = re.compile(
    r"^[-–—－―~～·•]?\s*\d{1,4}\s*[-–—－―~～·•]?$"  # - 20 -, 20
    r"|^第\s*\d{1,4}\s*页(?:\s*[/，,]?\s*共\s*\d{1,4}\s*页)?$"  # 第 20 页, 第 2 页 共 30 页
    r"|^\d{1,4}\s*/\s*\d{1,4}$"  # 2/22 (a browser's footer)
    r"|^(?:page|p\.)\s*\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?$",  # Page 20, page 2 of 30
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")


def page_lines(runs: Sequence[Sequence[object]], page: int) -> list[PdfLine]:
    """Glyph runs -> lines: one baseline, sorted left to right, split at wide gaps."""
    items = sorted(
        (PdfLine(float(r[0]), float(r[1]), float(r[2]), float(r[3]), str(r[4]), page) for r in runs),  # type: ignore[arg-type]
        key=lambda line: (line.baseline, line.x0),
    )
    rows: list[list[PdfLine]] = []
    for item in items:
        if rows and abs(rows[-1][0].baseline - item.baseline) < 0.3 * min(rows[-1][0].size, item.size):
            rows[-1].append(item)
        else:
            rows.append([item])
    lines: list[PdfLine] = []
    for row in rows:
        row.sort(key=lambda item: item.x0)
        current: PdfLine | None = None
        for item in row:
            size = max(item.size, current.size) if current else item.size
            if current is not None and item.x0 - current.x1 < 2.0 * size:
                gap = item.x0 - current.x1
                joint = " " if gap > 0.2 * size and not current.text.endswith(" ") else ""
                current.text += joint + item.text
                current.x1 = max(current.x1, item.x1)
                current.size = max(current.size, item.size)
                continue
            current = PdfLine(item.x0, item.x1, item.baseline, item.size, item.text, page)
            lines.append(current)
    for line in lines:
        line.text = line.text.strip()
    return [line for line in lines if line.text]


def _furniture_key(line: PdfLine) -> tuple[int, str]:
    return round(line.baseline / 3), _DIGITS.sub("#", line.text.replace(" ", ""))


def drop_furniture(pages: Sequence[list[PdfLine]], edge: int = 3) -> list[list[PdfLine]]:
    """Remove running headers, footers and page numbers (see the module's docstring).

    Candidates are the `edge` topmost and bottommost lines of a page that stand apart from
    the text next to them (more than two lines' space, or a smaller font); of those, the
    ones that repeat, digits aside, at the same height on 40% of the pages (at least two),
    or that read as a page number, go."""
    candidates: list[set[int]] = []
    counts: Counter[tuple[int, str]] = Counter()
    for lines in pages:
        order = sorted(range(len(lines)), key=lambda i: lines[i].baseline)
        near = {i for i in (*order[:edge], *order[-edge:]) if _apart(lines[i], lines)}
        candidates.append(near)
        counts.update({_furniture_key(lines[i]) for i in near})
    needed = max(2, int(0.4 * len(pages) + 0.999))
    kept: list[list[PdfLine]] = []
    for lines, near in zip(pages, candidates, strict=True):
        kept.append(
            [
                line
                for i, line in enumerate(lines)
                if not (
                    i in near and (_PAGE_NUMBER.match(line.text) or counts[_furniture_key(line)] >= needed)
                )
            ]
        )
    return kept


def _apart(line: PdfLine, lines: Sequence[PdfLine]) -> bool:
    """Does `line` stand apart from its nearest neighbour above or below (not beside it)?"""
    others = [o for o in lines if abs(o.baseline - line.baseline) >= 0.3 * min(o.size, line.size)]
    if not others:
        return True
    nearest = min(others, key=lambda o: abs(o.baseline - line.baseline))
    distance = abs(nearest.baseline - line.baseline)
    return distance > 2.2 * max(line.size, nearest.size) or line.size < 0.9 * nearest.size


def reading_order(lines: list[PdfLine]) -> list[list[PdfLine]]:
    """One page's lines as blocks in reading order: bands, and columns within a band."""
    lines = sorted(lines, key=lambda line: (line.baseline, line.x0))
    if len(lines) < 6:
        return [lines] if lines else []
    left = min(line.x0 for line in lines)
    right = max(line.x1 for line in lines)
    width = right - left
    narrow = [line for line in lines if line.x1 - line.x0 < 0.6 * width]
    gutter = _gutter(narrow, left, right) if len(narrow) >= 0.7 * len(lines) else None
    if gutter is None:
        return [lines]
    sides = {id(line): line.x1 <= gutter for line in lines}
    blocks: list[list[PdfLine]] = []
    band: list[PdfLine] = []

    def flush() -> None:
        if band:
            blocks.append([line for line in band if sides[id(line)]])
            blocks.append([line for line in band if not sides[id(line)]])
            band.clear()

    for line in lines:
        if _spans(line, lines, gutter, sides):
            flush()
            blocks.append([line])
        else:
            band.append(line)
    flush()
    return [block for block in blocks if block]


def _spans(line: PdfLine, lines: Sequence[PdfLine], gutter: float, sides: dict[int, bool]) -> bool:
    """Is `line` over both columns: across the gutter, or alone at its height with the
    other column's text above and below it (a header set over both columns)?"""
    if line.x0 < gutter < line.x1:
        return True
    side = sides[id(line)]
    margin = 0.6 * line.size
    above = below = False
    for other in lines:
        if sides[id(other)] == side or other.x0 < gutter < other.x1:
            continue
        if other.bottom > line.top - margin and other.top < line.bottom + margin:
            return False
        above = above or other.baseline < line.baseline
        below = below or other.baseline > line.baseline
    # With nothing below it in the other column, only a heading (larger than the text) is
    # taken to span: the last lines of a full left column beside a short right one do not.
    return above and (below or line.size > 1.1 * statistics.median(other.size for other in lines))


def _gutter(lines: Sequence[PdfLine], left: float, right: float) -> float | None:
    """The middle of a vertical strip, near the page's centre, that no line crosses."""
    spans = sorted((line.x0, line.x1) for line in lines)
    reach = spans[0][1]
    best: tuple[float, float] | None = None
    for x0, x1 in spans[1:]:
        if x0 > reach and (best is None or x0 - reach > best[1] - best[0]):
            best = (reach, x0)
        reach = max(reach, x1)
    if best is None:
        return None
    middle = (best[0] + best[1]) / 2
    size = statistics.median(line.size for line in lines)
    if best[1] - best[0] < size or not left + 0.25 * (right - left) < middle < right - 0.25 * (right - left):
        return None
    on_left = sum(x1 <= middle for _x0, x1 in spans)
    if min(on_left, len(spans) - on_left) < 0.2 * len(spans):
        return None
    return middle


def to_lines(pages: Sequence[PdfPage]) -> tuple[list[str], list[int]]:
    """Pages -> text lines, a blank line between blocks and between paragraphs; and the
    line number where each page starts."""
    blocks = [
        (page_no, block) for page_no, page in enumerate(pages) for block in reading_order(list(page.lines))
    ]
    every = [line for _page, block in blocks for line in block]
    if not every:
        return [], [1] * len(pages)
    body_size = Counter(round(line.size, 1) for line in every).most_common(1)[0][0]
    gaps = [
        after.top - before.bottom
        for _page, block in blocks
        for before, after in itertools.pairwise(block)
        if round(before.size, 1) == round(after.size, 1) == body_size and after.baseline > before.baseline
    ]
    normal_gap = statistics.median(gaps) if gaps else 0.3 * body_size
    blank_gap = normal_gap + 0.35 * body_size
    out: list[str] = []
    starts: list[int] = []
    previous: PdfLine | None = None
    previous_edges: tuple[float, float] = (0.0, 0.0)
    for page_no, block in blocks:
        while len(starts) <= page_no:
            starts.append(len(out) + 1)
        edges = _edges(block)
        for index, line in enumerate(block):
            if previous is not None and out and out[-1] != "":
                resized = abs(line.size - previous.size) > 0.1 * min(line.size, previous.size)
                same_flow = previous.page == line.page and line.baseline > previous.baseline
                spaced = same_flow and line.top - previous.bottom > blank_gap
                turned = index == 0  # a new column or page: the space between lost
                if resized or spaced or _new_paragraph(previous, previous_edges, line, edges, turned=turned):
                    out.append("")
            out.append(fix_glyphs(line.text))
            previous, previous_edges = line, edges
    while len(starts) < len(pages):
        starts.append(len(out) + 1)
    return out, starts


def _edges(block: Sequence[PdfLine]) -> tuple[float, float]:
    """The left and right edge of a block's text: where most lines start and end."""
    lefts = Counter(round(line.x0) for line in block)
    rights = Counter(round(line.x1) for line in block)
    left = lefts.most_common(1)[0][0] if lefts.most_common(1)[0][1] > 1 else min(lefts)
    right = rights.most_common(1)[0][0] if rights.most_common(1)[0][1] > 1 else max(rights)
    return float(min(left, min(lefts))), float(max(right, 0))


def _new_paragraph(
    before: PdfLine,
    before_edges: tuple[float, float],
    after: PdfLine,
    after_edges: tuple[float, float],
    *,
    turned: bool = False,
) -> bool:
    """Does `after` start a paragraph? A first-line indent starts one; a line that ends a
    sentence well short of the right edge ends one. Centred lines (a title that wraps) do
    neither. Lines of CJK text may stop a character or two short anywhere (a closing mark
    may not start a line), so "short" means more than three characters; where the text
    `turned` to a new column or page, the space between paragraphs is lost, and a sentence
    that ends short of the edge by half a character ends its paragraph."""
    from ..importer import ends_sentence

    em = before.size
    b_left = before.x0 - before_edges[0]
    b_right = before_edges[1] - before.x1
    a_left = after.x0 - after_edges[0]
    a_right = after_edges[1] - after.x1

    def centred(left: float, right: float) -> bool:
        return left >= em and abs(left - right) < 1.5 * em

    if centred(b_left, b_right) and centred(a_left, a_right):
        return False  # a centred title that wraps
    starts_indented = 1.5 * em <= a_left <= 4.5 * em
    short = b_right > (0.5 if turned else 3) * em
    return starts_indented or (short and ends_sentence(before.text))


# --------------------------------------------------------------------------- the worker


def _extract(data: bytes, path: str) -> list[PdfPage]:
    """Run the extractor in a child process with bounded memory and time."""
    argv = [sys.executable, "-m", "ecdigest.readers.pdf_worker", str(MAX_PAGES)]
    try:
        done = subprocess.run(argv, input=data, capture_output=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise InputError(
            f"reading this PDF took longer than {TIMEOUT:.0f} s; stopped",
            path=path,
            hint="a damaged or hostile PDF? export it again from the original",
        ) from None
    try:
        result = json.loads(done.stdout.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        result = {"error": "crashed", "detail": f"exit status {done.returncode}"}
    if "error" in result:
        raise _worker_error(str(result["error"]), str(result.get("detail", "")), path)
    return [
        PdfPage(
            float(page["width"]),
            float(page["height"]),
            int(page["images"]),
            tuple(page_lines(page["runs"], number)),
        )
        for number, page in enumerate(result["pages"])
    ]


def _worker_error(kind: str, detail: str, path: str) -> InputError:
    if kind == "password":
        return InputError(
            "the PDF is encrypted with a password", path=path, hint="export it again without a password"
        )
    if kind == "encrypted":
        return InputError(
            f"cannot decrypt this PDF ({detail})", path=path, hint="export it again without encryption"
        )
    if kind == "pages":
        return InputError(
            f"the PDF has {detail}; refusing to read it", path=path, hint="split it into issues"
        )
    if kind in ("memory", "crashed"):
        return InputError(
            "reading this PDF needs more memory than allowed (1 GB); stopped",
            path=path,
            hint="a damaged or hostile PDF? export it again from the original",
        )
    return InputError(
        f"not a readable PDF (damaged or truncated: {detail})",
        path=path,
        hint="export it again from the original",
    )


def read_pdf(data: bytes, *, path: str = "<stdin>") -> Decoded:
    """A PDF's text as lines for the pipeline; a PDF without text (a scan) is refused."""
    pages = _extract(data, path)
    if not pages:
        raise InputError("the PDF has no pages", path=path)
    kept = drop_furniture([list(page.lines) for page in pages])
    trimmed = [
        PdfPage(p.width, p.height, p.images, tuple(lines)) for p, lines in zip(pages, kept, strict=True)
    ]
    lines, starts = to_lines(trimmed)
    if not any(line.strip() for line in lines):
        scanned = sum(1 for page in pages if page.images)
        raise InputError(
            "the PDF has no text layer"
            + (f" ({scanned} of {len(pages)} pages are images: a scan?)" if scanned else ""),
            path=path,
            hint="ecdigest does not do OCR: run OCR first (e.g. ocrmypdf) or import a text or Word version",
        )
    return Decoded("\n".join(lines) + "\n", "pdf", unit="page", starts=tuple(starts), structured=True)
