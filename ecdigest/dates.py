"""Dates as editors write them: ISO, `2023/5/31`, `2023 年 05 月 31 日`, full-width digits, `today`.

Everything is NFKC-normalised first, so `２０２３年５月３１日` reads like `2023年5月31日`.
Only unambiguous forms are read: the year comes first in every all-numeric form
(`2023-05-31`, `2023/5/31`, `20230531`, ISO dates with a time); `05/06/2023`,
`05 06 2023`, `230529` and `1 2 3` are refused, not guessed. python-dateutil is only the
fallback for Western forms with a month name and a four-digit year (`May 31, 2023`), and
is never used in fuzzy mode: fuzzy parsing turns `2023年5月31日` into 2024-05-31.

Every date ecdigest reads or computes lies from EARLIEST to LATEST: before 1900 an
email's Date header cannot say it (RFC 5322), and 9998-12-31 leaves a day of margin below
the calendar's end (year 9999) for time-zone arithmetic. The clock (`ECDIGEST_NOW`) must
lie there too, so "today", "yesterday" and "the future" never fall off the calendar.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from functools import lru_cache

from .errors import UsageError
from .lazyre import lazy

DEFAULT_TIMEZONE = "Asia/Shanghai"

_RELATIVE = {"today": 0, "今天": 0, "今日": 0, "yesterday": -1, "昨天": -1, "昨日": -1}

# Year first, any of - / . or 年月日 between the parts, optional spaces anywhere.
_YMD = lazy(r"^\s*(?P<y>\d{4})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})\s*日?\s*$")
# All-numeric forms with the year last are ambiguous (05/06/2023: May or June?).
_AMBIGUOUS = lazy(r"^\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*\d{2,4}\s*$")
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(9998, 12, 31)
RANGE_TEXT = f"{EARLIEST.isoformat()} to {LATEST.isoformat()}"


def in_range(value: dt.date) -> bool:
    """True for a date from EARLIEST to LATEST (see the module's docstring)."""
    return EARLIEST <= value <= LATEST


class DateError(UsageError):
    """A date that cannot be read, or that does not exist."""


def normalize(text: str) -> str:
    """NFKC (full-width digits and colons become ASCII) and trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


@lru_cache(maxsize=8)
def _zone(name: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"unknown timezone {name!r}", hint="use an IANA name such as Asia/Shanghai"
        ) from None


def zone(name: str | None = None) -> dt.tzinfo:
    """The tzinfo for an IANA name (the newsletter's timezone by default)."""
    return _zone(name or DEFAULT_TIMEZONE)


def now(tz: str | None = None) -> dt.datetime:
    """The current time in the newsletter's timezone, aware.

    `ECDIGEST_NOW` (ISO date or datetime) fixes the clock, for tests and reproducible runs.
    """
    fixed = os.environ.get("ECDIGEST_NOW")
    if fixed:
        try:
            value = dt.datetime.fromisoformat(fixed)
        except ValueError:
            raise UsageError(
                f"ECDIGEST_NOW={fixed!a} is not an ISO date or datetime",
                hint="e.g. 2023-06-05 or 2023-06-05T09:00:00+08:00",
            ) from None
        if not in_range(value.date()):
            raise UsageError(
                f"ECDIGEST_NOW={fixed} is out of range: the clock must say {RANGE_TEXT}",
                hint="e.g. ECDIGEST_NOW=2023-06-05T09:00:00+08:00",
            )
        if value.tzinfo is None:
            return value.replace(tzinfo=zone(tz))
        return value.astimezone(zone(tz))
    return dt.datetime.now(zone(tz))


def today(tz: str | None = None) -> dt.date:
    """Today's date where the newsletter is edited."""
    return now(tz).date()


def _make(year: int, month: int, day: int, original: str) -> dt.date:
    try:
        return _checked(dt.date(year, month, day), original)
    except ValueError as exc:
        raise DateError(f"{original!r} is not a real date: {exc}") from None


def _checked(value: dt.date, original: str) -> dt.date:
    if not in_range(value):
        raise DateError(
            f"{original!r} is out of range: ecdigest reads dates from {RANGE_TEXT}",
            hint="write it as YYYY-MM-DD",
        )
    return value


def parse_date(text: str, *, tz: str | None = None, relative: bool = True) -> dt.date:
    """Read a date in any form the newsletter uses; raise `DateError` if impossible.

    `relative=False` refuses `today`/`yesterday` (for stored data, which must not drift).
    """
    original = text
    text = normalize(text)
    if not text:
        raise DateError("empty date", hint="write it as YYYY-MM-DD")
    lowered = text.lower()
    if lowered in _RELATIVE:
        if not relative:
            raise DateError(f"{original!r} is relative", hint="write it as YYYY-MM-DD")
        # The clock is within EARLIEST..LATEST (now()), so one day either way cannot overflow.
        return _checked(today(tz) + dt.timedelta(days=_RELATIVE[lowered]), original)
    match = _YMD.match(text)
    if match:
        return _make(int(match["y"]), int(match["m"]), int(match["d"]), original)
    iso = _iso(text)
    if iso is not None:
        return _checked(iso, original)
    if _AMBIGUOUS.match(text):
        raise DateError(f"{original!r} is ambiguous (day/month order)", hint="write it as YYYY-MM-DD")
    if re.search(r"[\u3400-\u9fff]", text):
        raise DateError(
            f"cannot read the date {original!r}", hint="write it as 2023 年 05 月 31 日 or YYYY-MM-DD"
        )
    if not re.search(r"[^\W\d_]", text):
        # Only digits and separators, and not year-first: `05 06 2023`, `230529`, `1 2 3`.
        numbers = re.findall(r"\d+", text)
        if len(numbers) < 3 and sum(map(len, numbers)) < 6:
            raise DateError(
                f"{original!r} is not a complete date (year, month and day are needed)",
                hint="write it as YYYY-MM-DD",
            )
        raise DateError(
            f"{original!r} is ambiguous (which part is the year, the month, the day?)",
            hint="write it as YYYY-MM-DD",
        )
    value = _parse_western(text, original)
    if not re.search(r"(?<!\d)\d{4}(?!\d)", text):
        # `May 5 23`: is 23 the year or the day?
        raise DateError(
            f"{original!r} has no four-digit year", hint="write it as YYYY-MM-DD or e.g. May 31, 2023"
        )
    return _checked(value, original)


def _iso(text: str) -> dt.date | None:
    """An ISO 8601 date, or the date of an ISO datetime (`20230531`, `2023-05-31 10:00`)."""
    if not text[:4].isdigit():
        return None
    for parse in (dt.date.fromisoformat, lambda value: dt.datetime.fromisoformat(value).date()):
        try:
            return parse(text)
        except ValueError:
            continue
    return None


def _parse_western(text: str, original: str) -> dt.date:
    from dateutil import parser

    # Two different defaults reveal a missing component: "May 2023" must not become May 1st.
    first = dt.datetime(2000, 1, 1)
    second = dt.datetime(2001, 2, 2)
    try:
        a = parser.parse(text, default=first, fuzzy=False)
        b = parser.parse(text, default=second, fuzzy=False)
    except (ValueError, OverflowError, parser.ParserError) as exc:
        message = str(exc)
        if "out of range" in message or "must be in" in message:
            raise DateError(f"{original!r} is not a real date: {message}") from None
        raise DateError(f"cannot read the date {original!r}", hint="write it as YYYY-MM-DD") from None
    if a.date() != b.date():
        raise DateError(
            f"{original!r} is not a complete date (year, month and day are needed)",
            hint="write it as YYYY-MM-DD",
        )
    return a.date()


def format_cn(value: dt.date) -> str:
    """`2023 年 05 月 31 日`, the newsletter's own form."""
    return f"{value.year:04d} 年 {value.month:02d} 月 {value.day:02d} 日"
