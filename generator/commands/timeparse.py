"""Date and time cells as staff type them (`2022年9月15日 9:30—11:30`, `9月15日-21日`, Excel serials)
parsed into an activity's start, end and recurrence."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from ..convert import FULLWIDTH
from .tables import cell_text
from .yamlwrite import DELETE, when_text_iso

TIME_HELP = "请写成 2022-09-15 09:30-11:30、2022年9月15日 9:30—11:30 或 9月15日-9月21日"
_TIME_NORM = str.maketrans({"—": "-", "–": "-", "－": "-", "―": "-", "─": "-", "~": "-", "～": "-",
                            "〜": "-", "至": "-", "到": "-", "：": ":", "（": "(", "）": ")", "，": ","})
_SKIP = re.compile(r"[\s,、;；]+|\(?(?:周|星期|礼拜)[一二三四五六日天]\)?|每天|每日|全天|\(?暂定\)?|左右")
_DATE_Y = re.compile(r"(\d{4})\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})\s*[日号]?")
_DATE_MD = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?|(\d{1,2})[/.](\d{1,2})(?![\d:])")
_DAY = re.compile(r"(\d{1,2})\s*[日号]")
_TIME = re.compile(
    r"(上午|下午|中午|晚上|早上|晚间|夜间|晚)?\s*(\d{1,2})\s*"
    r"(?::\s*(\d{2})(?::(\d{2}))?|[点时]\s*(?:(半)|(\d{1,2})\s*分?)?)"
)
_TIME_DOT = re.compile(r"(上午|下午|中午|晚上|早上|晚)?\s*(\d{1,2})\.(\d{2})(?!\d)")  # 9.30 after a date
_SEP = re.compile(r"-+")
_PM = ("下午", "晚上", "晚间", "夜间", "晚")


@dataclass
class Span:
    """What one or more time cells said: a first date/time and an optional second one."""

    d1: date | None = None
    t1: time | None = None
    d2: date | None = None
    t2: time | None = None
    daily: bool = False  # 9月15日-9月21日 9:00-17:00: every day, not one long session
    tentative: bool = False


class TimeError(ValueError):
    pass


def _clock(h: int, mi: int, s: int, ap: str | None) -> time:
    if ap in _PM and h < 12 or ap == "中午" and h < 6:
        h += 12
    if not (0 <= h <= 23 and 0 <= mi <= 59 and 0 <= s <= 59):
        raise TimeError(f"时刻 {h}:{mi:02d} 不存在")
    return time(h, mi, s)


def _tokens(text: str) -> list[tuple[str, Any]]:
    s = text.translate(FULLWIDTH).translate(_TIME_NORM)
    out: list[tuple[str, Any]] = []
    i = 0
    while i < len(s):
        m = _SKIP.match(s, i)
        if m:
            i = m.end()
            continue
        after_date = bool(out) and (out[-1][0] in "DT" or len(out) > 1 and out[-2][0] == "T")
        if after_date and (m := _TIME_DOT.match(s, i)):
            out.append(("T", (int(m[2]), int(m[3]), 0, m[1])))
        elif m := _DATE_Y.match(s, i):
            out.append(("D", (int(m[1]), int(m[2]), int(m[3]))))
        elif m := _DATE_MD.match(s, i):
            mo, d = (m[1], m[2]) if m[1] else (m[3], m[4])
            out.append(("D", (None, int(mo), int(d))))
        elif m := _TIME.match(s, i):
            minute = 30 if m[5] else int(m[3] or m[6] or 0)
            out.append(("T", (int(m[2]), minute, int(m[4] or 0), m[1])))
        elif m := _DAY.match(s, i):
            out.append(("D", (None, None, int(m[1]))))
        elif m := _SEP.match(s, i):
            out.append(("-", None))
        else:
            part = f"中的“{s[i:i + 6]}”" if i else ""
            raise TimeError(f"无法识别“{text}”{part}：{TIME_HELP}")
        i = m.end()
    return out


def parse_span(text: str, year: int) -> Span:
    """`2022-09-15 09:30-11:30`, `2022年9月15日 9:30—11:30`, `9月15日-9月21日`, `9:30-11:30`,
    `9月15日-21日 每天9:00-17:00` … Dates without a year are in ``year``."""
    tokens = _tokens(text)
    parts: list[list[tuple[str, Any]]] = [[]]
    for tok in tokens:
        if tok[0] == "-":
            parts.append([])
        else:
            parts[-1].append(tok)
    shapes = ["".join(k for k, _ in p) for p in parts]
    if not tokens or any(s not in ("D", "DT", "T") for s in shapes) or len(parts) > 3:
        raise TimeError(f"无法识别“{text}”：{TIME_HELP}")
    span = Span(tentative="暂定" in text)
    if len(parts) == 3:  # D - D T - T: the same hours every day
        if shapes != ["D", "DT", "T"]:
            raise TimeError(f"无法识别“{text}”：{TIME_HELP}")
        first, second = parts[0] + [parts[1][1]], [parts[1][0], parts[2][0]]
        span.daily = True
    else:
        first, second = parts[0], parts[1] if len(parts) == 2 else []
    prev: tuple[int, int] | None = None
    ap1 = None
    for n, part in enumerate((first, second)):
        d = t = None
        for kind, val in part:
            if kind == "D":
                y, mo, day = val
                if mo is None and prev is None:
                    raise TimeError(f"“{text}”的开始日期缺少月份：{TIME_HELP}")
                y = y or (prev[0] if prev else year)
                mo = mo or prev[1]  # type: ignore[index]
                try:
                    d = date(y, mo, day)
                except ValueError:
                    raise TimeError(f"“{text}”中的日期 {y}年{mo}月{day}日 不存在") from None
                prev = (y, mo)
            else:
                h, mi, s, ap = val
                if n == 0:
                    ap1 = ap
                elif ap is None and ap1 in _PM and h < 12:
                    ap = ap1  # 下午2:30-4:30: the end is in the afternoon too
                t = _clock(h, mi, s, ap)
        if n == 0:
            span.d1, span.t1 = d, t
        else:
            span.d2, span.t2 = d, t
    return span


EXCEL_EPOCH = datetime(1899, 12, 30)


def cell_span(value: Any, year: int) -> Span | None:
    """A time cell as Excel gives it (datetime, date, time, a serial number) or as text."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return Span(value.date(), value.time().replace(microsecond=0) if value.time() != time() else None)
    if isinstance(value, date):
        return Span(value)
    if isinstance(value, time):
        return Span(t1=value.replace(microsecond=0))
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 0 <= value < 1:  # a time of day typed into a number cell
            return Span(t1=(EXCEL_EPOCH + timedelta(days=value, seconds=0.5)).time().replace(microsecond=0))
        if 20000 < value < 80000:  # 1954–2119 as Excel date serials
            moment = EXCEL_EPOCH + timedelta(days=value, seconds=0.5)
            moment = moment.replace(second=0, microsecond=0)
            return Span(moment.date(), moment.time() if moment.time() != time() else None)
        raise TimeError(f"数字 {cell_text(value)} 不是日期或时间：{TIME_HELP}")
    text = cell_text(value)
    return parse_span(text, year) if text else None


def resolve_times(spans: dict[str, Span]) -> tuple[dict[str, Any], str | None]:
    """Combine 活动时间 / 活动日期 / 开始时间 / 结束时间 into start, end, recurrence (YAML values).
    Returns (values, error)."""
    w, dt, s, e = (spans.get(k) for k in ("when", "date", "start", "end"))
    day_range = (dt.d1, dt.d2) if dt else (None, None)
    if s or e:
        s, e = s or Span(), e or Span()
        if s.d2 or s.t2:  # the whole range typed into 开始时间
            e = Span(s.d2 or e.d1, s.t2 or e.t1)
        span = Span(s.d1 or day_range[0], s.t1, e.d1, e.t1, tentative=s.tentative or e.tentative)
        if span.d1 is None and w and w.d1:
            span.d1 = w.d1
        if span.d2 is None and day_range[1] and span.t1 and span.t2:
            span.d2, span.daily = day_range[1], True
    elif w:
        span = dataclasses.replace(w)
        if span.d1 is None:
            span.d1 = day_range[0]
            if day_range[1] and span.t1 and span.t2 and span.d2 is None:
                span.d2, span.daily = day_range[1], True
    elif dt:
        span = dt
    else:
        return {}, "没有活动时间"
    if span.d1 is None:
        return {}, "没有日期（只有时刻）：请写上日期，如 2022-09-15 09:30-11:30"
    if span.t1 and not span.t2:
        return {}, "只有开始时刻，没有结束时刻：请写成 2022-09-15 09:30-11:30"
    if span.t2 and not span.t1:
        return {}, "只有结束时刻，没有开始时刻：请写成 2022-09-15 09:30-11:30"
    d2 = span.d2 or span.d1
    out: dict[str, Any] = {}
    if span.t1 and span.t2:
        start = datetime.combine(span.d1, span.t1)
        end = datetime.combine(span.d1 if span.daily else d2, span.t2)
        if end <= start or d2 < span.d1:
            return {}, f"结束（{when_text_iso(end)}）早于开始（{when_text_iso(start)}）"
        out["start"], out["end"] = when_text_iso(start), when_text_iso(end)
        if span.daily and d2 > span.d1:
            out["recurrence"] = {"freq": "daily", "until": d2}
    else:
        if d2 < span.d1:
            return {}, f"结束日期 {d2} 早于开始日期 {span.d1}"
        out["start"] = span.d1
        out["end"] = d2 if d2 != span.d1 else DELETE
    if span.tentative:
        out["tentative"] = True
    return out, None
