"""Indonesian news dates, parsed exactly.

Every format that `../shared/sources.md` records is recognised by its own pattern; anything
else gives None, and the caller stores `published = null` with a warning. Never "now":
a guessed date corrupts the timelines analysts read.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

ZONES = {
    "WIB": timezone(timedelta(hours=7), "WIB"),
    "WITA": timezone(timedelta(hours=8), "WITA"),
    "WIT": timezone(timedelta(hours=9), "WIT"),
}
# A date without a zone on a Jambi site is local time.
DEFAULT_ZONE = ZONES["WIB"]

MONTHS = {
    "januari": 1, "jan": 1, "februari": 2, "feb": 2, "pebruari": 2, "maret": 3, "mar": 3,
    "april": 4, "apr": 4, "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7,
    "agustus": 8, "agu": 8, "agt": 8, "ags": 8, "aug": 8, "september": 9, "sep": 9,
    "sept": 9, "oktober": 10, "okt": 10, "oct": 10, "november": 11, "nov": 11, "nop": 11,
    "desember": 12, "des": 12, "dec": 12, "may": 5,
}  # fmt: skip
_WEEKDAY = r"(?:(?:senin|selasa|rabu|kamis|jum'?at|sabtu|minggu|ahad)\s*,?\s*)?"
_ZONE = r"(?:\s*(?P<zone>WIB|WITA|WIT))?"
_TIME = r"(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.](?P<second>\d{2}))?"

# "Minggu 17-05-2026,06:57 WIB" (Disway), also with "/" and without the weekday.
_NUMERIC = re.compile(
    rf"^{_WEEKDAY}(?P<day>\d{{1,2}})[-/](?P<month>\d{{1,2}})[-/](?P<year>\d{{4}})"
    rf"\s*,?\s*(?:{_TIME})?{_ZONE}$",
    re.IGNORECASE,
)
# "Rabu, 18 November 2026 09:15 WIB", "Rabu, 04 Februari 2026 - 16:20:18 WIB",
# "Rabu, 1 April 2026 | 13:12 WIB", "17 Nop 2026".
_WORDED = re.compile(
    rf"^{_WEEKDAY}(?P<day>\d{{1,2}})\s+(?P<month>[a-z]+)\.?\s+(?P<year>\d{{4}})"
    rf"\s*(?:[-|,]|pukul)?\s*(?:{_TIME})?{_ZONE}$",
    re.IGNORECASE,
)
# "2026-02-23 17:18:45" (meta pubdate) and ISO 8601 with or without an offset.
_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)


def parse_date(text: str | None) -> datetime | None:
    """A timezone-aware datetime for a date string in a known format, else None."""
    if not text:
        return None
    cleaned = " ".join(text.replace("\xa0", " ").split())
    if _ISO.match(cleaned):
        return _from_iso(cleaned)
    for pattern in (_NUMERIC, _WORDED):
        match = pattern.match(cleaned)
        if match:
            return _from_parts(match)
    if re.match(r"^[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} ", cleaned):
        try:  # RFC 822, as in RSS feeds
            parsed = parsedate_to_datetime(cleaned)
        except (TypeError, ValueError):
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=DEFAULT_ZONE)
    return None


def _from_iso(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=DEFAULT_ZONE)


def _from_parts(match: re.Match[str]) -> datetime | None:
    month_text = match.group("month")
    month = int(month_text) if month_text.isdigit() else MONTHS.get(month_text.lower())
    if month is None:
        return None
    zone = ZONES[match.group("zone").upper()] if match.group("zone") else DEFAULT_ZONE
    try:
        return datetime(
            int(match.group("year")),
            month,
            int(match.group("day")),
            int(match.group("hour") or 0),
            int(match.group("minute") or 0),
            int(match.group("second") or 0),
            tzinfo=zone,
        )
    except ValueError:  # 31 February and the like
        return None
