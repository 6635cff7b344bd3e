"""Words visitors read: dates in full, schedules in words, weekday and word maps, plain text.

One place for the wording (SPEC "Words visitors see"): pages, open data, search and the staff
tables all say a date the same way, e.g. ``2024年9月21日（星期六）14:00–17:00``."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..model import Activity

WEEKDAY_KEYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
WEEKDAY_CN = "一二三四五六日"
MODE_WORD = {"offline": "线下", "online": "线上", "hybrid": "线上线下"}
SYSTEM_WORD = {"kexie": "科协系统", "other": "其他系统", None: "未填写"}
LEVEL_WORD = {"city": "市级", "district": "区县级", "town": "镇街级", "unit": "单位", None: ""}


def date_text(d: date, year: bool = True) -> str:
    """2024年9月21日（星期六）; without the year when the context already says it."""
    return f"{f'{d.year}年' if year else ''}{d.month}月{d.day}日（星期{WEEKDAY_CN[d.weekday()]}）"


def short_day(d: date) -> str:
    return f"{d.month}月{d.day}日"


def day_hours(a: Activity) -> str:
    """The time of a one-day activity under its day's heading: 09:00–17:00, or 全天."""
    s, e = a.start, a.end_value
    if isinstance(s, datetime) and isinstance(e, datetime):
        return f"{s:%H:%M}–{e:%H:%M}"
    return "全天"


def first_session_day(a: Activity) -> date:
    """The day of the first session: a repeating activity's first written day may be excepted
    or off its weekly pattern."""
    return a.occurrence_days()[0] if a.recurrence else a.first_day


def one_day(a: Activity) -> bool:
    """Held on a single day, once (listed under that day with its hours only)."""
    return a.recurrence is None and a.first_day == a.last_day


def _rule_words(a: Activity) -> str:
    r = a.recurrence
    assert r is not None
    if r.freq == "daily":
        return "每天" if r.interval == 1 else f"每{r.interval}天"
    wds = sorted(set(r.byday), key=WEEKDAY_KEYS.index) or [WEEKDAY_KEYS[a.first_day.weekday()]]
    days = "、".join("周" + WEEKDAY_CN[WEEKDAY_KEYS.index(d)] for d in wds)
    return f"每{days}" if r.interval == 1 else f"每{r.interval}周的{days}"


def span_text(first: date, last: date) -> str:
    """2023年9月16日（星期六）至9月24日（星期日）: both ends, the year once when it is the same."""
    return f"{date_text(first)}至{date_text(last, year=last.year != first.year)}"


def when_text(a: Activity) -> str:
    """When an activity takes place, in full: date(s) with year and weekday, hours, and for a
    repeating activity its schedule in words (listed once, not under every day)."""
    s, e = a.start, a.end_value
    r = a.recurrence
    if r is not None:
        days = a.occurrence_days()
        first, last = (days[0], days[-1]) if days else (a.first_day, r.until)
        text = f"{span_text(first, last)} {_rule_words(a)}"
        if isinstance(s, datetime) and isinstance(e, datetime):
            text += f" {s:%H:%M}–{e:%H:%M}"
        skipped = [d for d in r.except_ if first <= d <= last]
        if skipped:
            text += "，" + "、".join(short_day(d) for d in skipped) + "除外"
        return text
    if isinstance(s, datetime) and isinstance(e, datetime):
        if s.date() == e.date():
            return f"{date_text(s.date())}{s:%H:%M}–{e:%H:%M}"
        return f"{date_text(s.date())}{s:%H:%M} 至 {date_text(e.date(), year=e.year != s.year)}{e:%H:%M}"
    if a.first_day == a.last_day:
        return f"{date_text(a.first_day)}全天"
    return span_text(a.first_day, a.last_day) + "（每天全天）"


def sessions(a: Activity) -> list[tuple[datetime, datetime]]:
    """Every session as (start, end), aware, in the campaign's zone. An all-day session runs
    from midnight to the midnight after its last day; a span of several days without a
    recurrence is one session (an exhibition open throughout is listed once)."""
    tz = ZoneInfo(a.campaign.timezone)
    s, e = a.start, a.end_value

    def at(d: date, t: time) -> datetime:
        return datetime.combine(d, t, tz)

    if isinstance(s, datetime) and isinstance(e, datetime):
        length = e - s
        days = a.occurrence_days() if a.recurrence else [s.date()]
        return [(at(d, s.time()), at(d, s.time()) + length) for d in days]
    if a.recurrence:
        return [(at(d, time()), at(d + timedelta(1), time())) for d in a.occurrence_days()]
    return [(at(a.first_day, time()), at(a.last_day + timedelta(1), time()))]


def iso_minute(t: datetime) -> str:
    """2023-09-16T09:00+08:00: what the visitor's browser parses (Date accepts this form)."""
    return t.isoformat(timespec="minutes")


def sessions_attr(a: Activity) -> str:
    """The sessions for the visitor's script: "start/end start/end …" (see kepu.js)."""
    return " ".join(f"{iso_minute(s)}/{iso_minute(e)}" for s, e in sessions(a))


_TAG_RE = re.compile(r"<[^>]+>")


def html_to_text(clean_html: str) -> str:
    """Sanitised HTML as one line of plain text (for search, meta tags and JSON-LD)."""
    return " ".join(html.unescape(_TAG_RE.sub(" ", clean_html)).split())
