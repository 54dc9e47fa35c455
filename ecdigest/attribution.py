"""The attribution line: `来源：{source}[ 编选：{compiled_by}] YYYY 年 MM 月 DD 日`.

Parsing tolerates what PDF text and hand typing produce: missing or extra spaces
(`《新民晚报》编选：` has none), ASCII or full-width colons, full-width digits.
The outlet is kept exactly as printed, marks included; only the date is normalised.
"""

from __future__ import annotations

import datetime as dt

from .dates import format_cn, parse_date
from .errors import UsageError
from .lazyre import lazy

_D = r"[0-9０-９]"
_DATE = (
    rf"{_D}{{4}}\s*年\s*{_D}{{1,2}}\s*月\s*{_D}{{1,2}}\s*日"
    rf"|{_D}{{4}}\s*[-/.－／．]\s*{_D}{{1,2}}\s*[-/.－／．]\s*{_D}{{1,2}}"
)
_LINE = lazy(
    r"^\s*来\s*源\s*[:：]\s*(?P<source>.*?)\s*"
    r"(?:编\s*选\s*[:：]\s*(?P<compiled>.*?)\s*)?"
    rf"(?P<date>{_DATE})\s*$"
)

# `dataclasses` costs ~7 ms of start-up: records.py makes the same classes without it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from dataclasses import dataclass as record
else:
    from .records import record
# Anything that starts like an attribution line, complete or not (for residue checks).
_PREFIX = lazy(r"^\s*来\s*源\s*[:：]")


@record(frozen=True)
class Attribution:
    source: str
    date: dt.date
    compiled_by: str | None = None


class AttributionError(UsageError):
    """Text that should be an attribution line but is not one."""


def looks_like_attribution(line: str) -> bool:
    """True for any line that begins `来源：`, parseable or not."""
    return bool(_PREFIX.match(line))


def parse(line: str) -> Attribution:
    """Parse one attribution line; raise `AttributionError` saying what is wrong."""
    match = _LINE.match(line)
    if not match:
        if not looks_like_attribution(line):
            raise AttributionError(
                f"not an attribution line: {line.strip()[:60]!r}",
                hint="expected 来源：《outlet》[ 编选：…] YYYY 年 MM 月 DD 日",
            )
        raise AttributionError(
            f"attribution line without a date at its end: {line.strip()[:60]!r}",
            hint="it must end with a date such as 2023 年 05 月 31 日",
        )
    source = match["source"].strip()
    if not source:
        raise AttributionError(
            f"attribution line names no source: {line.strip()[:60]!r}",
            hint="write the outlet after 来源：",
        )
    compiled = match["compiled"]
    if compiled is not None:
        compiled = compiled.strip()
        if not compiled:
            raise AttributionError(
                f"编选： is empty in {line.strip()[:60]!r}", hint="name who compiled it or drop 编选："
            )
    date = parse_date(match["date"], relative=False)
    return Attribution(source=source, date=date, compiled_by=compiled)


def try_parse(line: str) -> Attribution | None:
    """`parse`, or None when the line is not a complete attribution line."""
    try:
        return parse(line)
    except UsageError:
        return None


def format_line(
    source: str, date: dt.date, compiled_by: str | None = None, *, labels: tuple[str, str] = ("来源", "编选")
) -> str:
    """The line as the newsletter prints it (`labels`: 来源 and 编选 in an edition's script)."""
    middle = f" {labels[1]}：{compiled_by}" if compiled_by else ""
    return f"{labels[0]}：{source}{middle} {format_cn(date)}"


def format_attribution(value: Attribution) -> str:
    return format_line(value.source, value.date, value.compiled_by)
