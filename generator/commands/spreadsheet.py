"""Staff spreadsheets ⇄ activity files: the logic behind `kepu import` and `kepu export` (the CLI
is in staff.py).

Import is two-phase, like the validator: every row is converted and checked first; then the good
rows are written into a staging copy of the campaign and run through the real validator
(`validate.read_site`). Only files that pass are copied into the repository, and a last check there
undoes any that would not. Files come from a small YAML emitter of our own (model key order,
conservative quoting), so the same data always gives the same bytes, and an export → import
--update round trip changes nothing.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import functools
import io
import os
import re
import shutil
import tempfile
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml

from ..convert import FULLWIDTH, SLUG_RE, _shape, parse_when, suggest
from ..load import LoadError, decode
from ..model import Activity, Campaign, Slug, Url, When
from ..problems import Problem
from ..validate import display, read_site

HEADER_SCAN = 30  # banners, notes and merged title rows above the header are a few rows at most
MIN_HEADERS = 3  # a row with this many known column names is the header row


class SheetError(Exception):
    """A problem with the whole input (unreadable file, no header, unknown campaign): exit 2."""


# ---- reading tables -------------------------------------------------------------------------


@dataclass
class Table:
    file: str  # as shown in messages
    sheet: str | None  # None for CSV
    rows: list[tuple[int, list[Any]]]  # (row number as Excel shows it, cell values)

    def where(self, row: int) -> str:
        return f"{self.file}:{self.sheet}!{row}" if self.sheet is not None else f"{self.file}:{row}"


def read_tables(path: Path, shown: str) -> list[Table]:
    suffix = path.suffix.lower()
    if not path.is_file():
        raise SheetError("找不到这个文件")
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, shown)
    if suffix == ".csv":
        return [_read_csv(path, shown)]
    if suffix in (".xls", ".et", ".wps"):
        raise SheetError("不支持旧版 .xls/.et 文件：请在 Excel 或 WPS 中“另存为”.xlsx 后再导入")
    raise SheetError("只能导入 .xlsx 或 .csv 表格")


def _read_xlsx(path: Path, shown: str) -> list[Table]:
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as err:
        raise SheetError(f"无法打开这个 Excel 文件（{err}）：请确认是 .xlsx 格式、没有设置密码") from None
    try:
        tables = []
        for ws in wb.worksheets:
            ws.reset_dimensions()  # WPS and some exporters record a wrong sheet size; read every row
            rows = [(i, list(r)) for i, r in enumerate(ws.iter_rows(values_only=True), 1)]
            tables.append(Table(shown, ws.title, rows))
    finally:
        wb.close()
    return tables


def _read_csv(path: Path, shown: str) -> Table:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # Excel on Chinese Windows saves CSV as GBK; GB18030 is its superset
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise SheetError("无法识别文件编码：请在 Excel 中另存为“CSV UTF-8（逗号分隔）”") from None
    head = "\n".join(text.splitlines()[:HEADER_SCAN])
    delimiter = max(",\t;", key=head.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = [(i, list(r)) for i, r in enumerate(reader, 1)]
    except csv.Error as err:
        raise SheetError(f"CSV 格式错误（{err}）：请检查引号是否配对") from None
    return Table(shown, None, rows)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA (as Excel names columns)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))  # phone numbers and ids typed as numbers
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == time() else v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, date | time):
        return v.isoformat()
    text = str(v).replace("\r\n", "\n").replace("\r", "\n").replace("\u200b", "")
    return text.strip()


# ---- columns --------------------------------------------------------------------------------

# Special keys besides dotted field paths: the time cells, district, online/offline, file name.
SPECIAL = {"when": "开始和结束时间（start、end）", "date": "日期", "start": "开始时间", "end": "结束时间",
           "district": "辖区（名称或编号）", "mode": "线上/线下/线上线下（online、venue）",
           "slug": "活动编号（文件名）"}

_ALIASES: list[tuple[str, list[str]]] = [
    ("title", ["活动名称", "活动主题", "活动标题", "名称", "活动项目", "项目名称"]),
    ("organizer", ["主办单位", "举办单位", "主办方", "组织单位", "主办单位(全称)", "单位名称"]),
    ("co_organizers", ["承办单位", "协办单位", "合作单位", "承办方", "协办方"]),
    ("organizer_system", ["主办单位类型", "单位类型", "单位系统", "所属系统", "是否科协系统"]),
    ("level", ["活动级别", "级别", "活动层级"]),
    ("district", ["所属区县", "所属辖市区", "镇街", "所属地区", "区县", "辖区", "所属镇街", "所属区域",
                  "县(市、区)", "所属县(市、区)", "县(市)区", "所属县(市)区", "地区"]),
    ("category", ["活动类别", "类别", "活动类型", "类型"]),
    ("audiences", ["面向人群", "重点人群", "受众", "参与对象", "面向对象", "活动对象"]),
    ("topics", ["话题", "活动话题", "主题领域"]),
    ("when", ["活动时间", "时间", "举办时间", "起止时间"]),
    ("date", ["活动日期", "日期", "举办日期"]),
    ("start", ["开始时间", "开始日期"]),
    ("end", ["结束时间", "结束日期"]),
    ("mode", ["活动形式", "线上/线下", "线上线下", "线上或线下", "形式", "线上/线下/线上线下", "举办形式"]),
    ("venue.name", ["活动地点", "地点", "举办地点", "场地", "活动场地"]),
    ("venue.address", ["详细地址", "地址"]),
    ("venue.lat", ["纬度"]),
    ("venue.lng", ["经度"]),
    ("online.url", ["活动链接", "直播链接", "线上链接", "线上参与链接", "参与链接"]),
    ("registration.url", ["报名链接", "报名网址"]),
    ("registration.deadline", ["报名截止", "报名截止日期", "报名截止时间"]),
    ("registration.capacity", ["名额", "限额", "人数限制"]),
    ("contact.name", ["联系人"]),
    ("contact.phone", ["联系电话", "电话", "联系方式", "手机"]),
    ("contact.email", ["邮箱", "电子邮箱"]),
    ("kepuri_id", ["全国平台编号", "平台编号", "全国科普日平台编号", "平台活动编号"]),
    ("status", ["活动状态", "状态"]),
    ("description", ["活动简介", "活动内容", "简介", "内容简介", "活动介绍"]),
    ("subtheme", ["副主题"]),
    ("report.participants_offline", ["线下参与人数", "线下活动群众参与数量", "现场参与人数"]),
    ("report.participants_online", ["线上参与人数", "线上活动群众参与数量"]),
    ("report.volunteers", ["志愿者人数", "招募科技志愿者数量", "志愿者"]),
    ("report.media", ["媒体报道链接", "媒体报道", "报道链接"]),
    ("slug", ["活动编号"]),
]
ALIASES = {name: key for key, names in _ALIASES for name in names}


def norm_header(h: Any) -> str:
    """`* 活动名称（必填）` → `活动名称`: marks, notes in brackets and spaces do not matter."""
    s = cell_text(h).translate(FULLWIDTH).replace("（", "(").replace("）", ")")
    s = re.sub(r"\([^)]*(?:必填|选填|可选|格式|例|填写|如)[^)]*\)", "", s)
    return re.sub(r"[\s*＊:：]", "", s)


@dataclass(frozen=True)
class Column:
    index: int
    header: str  # as written in the sheet
    key: str  # a dotted field path or a SPECIAL key

    @property
    def label(self) -> str:
        return f"{column_letter(self.index)}列“{self.header}”"


def lookup(header: Any, maps: dict[str, str]) -> str | None:
    n = norm_header(header)
    if not n:
        return None
    for name in (n, re.sub(r"\([^)]*\)", "", n)):
        if name in maps:
            return maps[name]
        if name in ALIASES:
            return ALIASES[name]
    return None


def _unoptional(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp


def field_type(path: str) -> Any | None:
    """The model type of a dotted activity field (``venue.name`` → str), or None."""
    cls: Any = Activity
    parts = path.split(".")
    for i, part in enumerate(parts):
        if not dataclasses.is_dataclass(cls):
            return None
        hints, keys = _shape(cls)
        if part not in keys:
            return None
        cls = _unoptional(hints[keys[part].name])
        if i == len(parts) - 1:
            return cls
    return None


def _importable(tp: Any) -> bool:
    if typing.get_origin(tp) is list:
        return typing.get_args(tp)[0] in (str, Slug, Url)
    return typing.get_origin(tp) is Literal or tp in (str, Slug, Url, int, float, bool, date, When)


def mappable_fields(cls: Any = Activity, prefix: str = "") -> list[str]:
    """Every field a sheet column can fill (for --map and its help)."""
    hints, keys = _shape(cls)
    out = []
    for key, fld in keys.items():
        tp = _unoptional(hints[fld.name])
        if dataclasses.is_dataclass(tp):
            out += mappable_fields(tp, f"{prefix}{key}.")
        elif _importable(tp):
            out.append(f"{prefix}{key}")
    return out


def parse_maps(items: Iterable[str]) -> dict[str, str]:
    """`--map 列名=字段` options → normalized header → key. Raises SheetError in Chinese."""
    known = [*SPECIAL, *mappable_fields()]
    out = {}
    for item in items:
        name, sep, key = item.partition("=")
        name, key = norm_header(name), key.strip()
        if not sep or not name or not key:
            raise SheetError(f"--map {item}：请写成 列名=字段，如 --map 备注=description")
        if key not in known:
            raise SheetError(f"--map {item}：没有字段 {key}{suggest(key, known)}")
        out[name] = key
    return out


def find_header(table: Table, maps: dict[str, str]) -> tuple[int, list[Column], list[str]] | None:
    """(position in table.rows, mapped columns, unrecognized headers) of the first row with at
    least MIN_HEADERS known column names; None when the sheet has none."""
    for pos, (_, cells) in enumerate(table.rows[:HEADER_SCAN]):
        cols = []
        for i, cell in enumerate(cells):
            key = lookup(cell, maps)
            if key:
                cols.append(Column(i, cell_text(cell).replace("\n", ""), key))
        if len({c.key for c in cols}) >= MIN_HEADERS:
            mapped = {c.index for c in cols}
            unknown = [cell_text(c) for i, c in enumerate(cells)
                       if i not in mapped and cell_text(c) and norm_header(c) not in ("序号", "编号")]
            return pos, cols, unknown
    return None


# ---- names ----------------------------------------------------------------------------------

SUFFIXES = ("街道", "区", "县", "市", "镇", "乡")


def _bare(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def match_name(value: str, options: dict[str, str]) -> str | None:
    """The id whose id or name is ``value``; also without 区/县/市/镇/街道, or the one name that
    contains it (经开区 → 常州经开区). None when nothing or several match."""
    v = value.strip()
    if v.lower() in options:
        return v.lower()
    for key, name in options.items():
        if name == v:
            return key
    bare = _bare(v)
    hits = {k for k, n in options.items() if _bare(n) == bare}
    if len(hits) != 1 and len(bare) >= 2:
        hits = {k for k, n in options.items() if bare in n or (len(_bare(n)) >= 2 and _bare(n) in v)}
    return hits.pop() if len(hits) == 1 else None


def split_list(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[、,，;；\n]+", text) if p.strip()]


MODE_KEYS = {"offline": "线下", "online": "线上", "hybrid": "线上线下"}
SYSTEM_WORDS = {"kexie": "科协系统", "other": "其他系统"}
LEVEL_WORDS = {"city": "市级", "district": "区县级", "town": "镇街级", "unit": "单位"}
STATUS_WORDS = {"scheduled": "", "cancelled": "已取消", "postponed": "已延期"}
TRUE_WORDS = {"是", "有", "需要", "需", "要", "true", "yes", "y", "√", "✓"}
FALSE_WORDS = {"否", "无", "不需要", "不需", "不要", "false", "no", "n", "×", "✗"}


def mode_of(text: str) -> str | None:
    online = any(w in text for w in ("线上", "网上", "网络", "直播", "云"))
    offline = any(w in text for w in ("线下", "现场", "实地"))
    if online and offline or "混合" in text:
        return "hybrid"
    return "online" if online else "offline" if offline else None


def system_of(text: str) -> str | None:
    if text in SYSTEM_WORDS:
        return text
    if any(w in text for w in ("非", "其他", "其它")) or text in FALSE_WORDS:
        return "other"
    if "科协" in text or text in TRUE_WORDS:
        return "kexie"
    return None


def level_of(text: str) -> str | None:
    if text in LEVEL_WORDS:
        return text
    for key, words in (("town", ("镇", "街", "乡")), ("district", ("区", "县")), ("city", ("市",)),
                       ("unit", ("单位",))):
        if any(w in text for w in words):
            return key
    return None


def status_of(text: str) -> str | None:
    if text in STATUS_WORDS:
        return text
    if "取消" in text:
        return "cancelled"
    if "延期" in text or "推迟" in text:
        return "postponed"
    if text in ("正常", "如期", "如期举行", "照常"):
        return "scheduled"
    return None


# ---- times ----------------------------------------------------------------------------------

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


def when_text_iso(v: date | datetime) -> str:
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S" if v.second else "%Y-%m-%d %H:%M")
    return v.isoformat()


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


# ---- rows -----------------------------------------------------------------------------------


class _Delete:
    def __repr__(self) -> str:
        return "DELETE"


DELETE: Any = _Delete()  # "remove this key" in a row's values


@dataclass
class Row:
    number: int
    values: dict[str, Any] = field(default_factory=dict)  # dotted path → YAML value or DELETE
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bad: set[str] = field(default_factory=set)  # keys already reported, so "missing" is not said too
    district: str | None = None
    slug: str | None = None
    mode: str | None = None

    @property
    def title(self) -> str:
        return self.values.get("title", "")

    @property
    def first_day(self) -> date | None:
        v = self.values.get("start")
        if isinstance(v, str):
            v = parse_when(v)[0]
        return v.date() if isinstance(v, datetime) else v


def _int(text: str) -> int:
    t = re.sub(r"[,，\s人次个名约余场篇条]", "", text.translate(FULLWIDTH))
    if re.fullmatch(r"\d+(\.0+)?", t):
        return int(float(t))
    raise ValueError(f"“{text}”不是整数")


def _float(text: str) -> float:
    try:
        return float(text.translate(FULLWIDTH).replace("°", ""))
    except ValueError:
        raise ValueError(f"“{text}”不是数字") from None


def _bool(text: str) -> bool:
    t = text.lower()
    if t in TRUE_WORDS:
        return True
    if t in FALSE_WORDS:
        return False
    raise ValueError(f"“{text}”应为 是 或 否")


class RowReader:
    """Turns sheet rows into Row values, checking names against the campaign."""

    def __init__(self, c: Campaign, columns: list[Column], district: str | None, category: str | None):
        self.c = c
        self.columns = columns
        self.by_key: dict[str, Column] = {}
        for col in columns:
            self.by_key.setdefault(col.key, col)
        self.default_district = district or (next(iter(c.districts)) if len(c.districts) == 1 else None)
        self.default_category = category
        self.categories = {k: cat.name for k, cat in c.category_list.items()}

    def read(self, number: int, cells: list[Any]) -> Row | None:
        row = Row(number)
        raw: dict[str, tuple[Column, Any]] = {}
        for col in self.columns:
            value = cells[col.index] if col.index < len(cells) else None
            if cell_text(value) == "":
                continue
            if col.key in raw and col.key == "co_organizers":  # 承办单位 + 协办单位
                raw[col.key] = (col, f"{cell_text(raw[col.key][1])}、{cell_text(value)}")
            elif col.key not in raw:
                raw[col.key] = (col, value)
        if not raw:
            return None  # a blank row (or only 序号 filled in)
        spans: dict[str, Span] = {}
        for key, (col, value) in raw.items():
            try:
                if key in ("when", "date", "start", "end"):
                    span = cell_span(value, self.c.year)
                    if span:
                        spans[key] = span
                else:
                    self._cell(row, key, col, value)
            except ValueError as err:
                row.errors.append(f"{col.label}：{err}")
                row.bad.add("start" if key in ("when", "date", "start", "end") else key)
        if spans and "start" not in row.bad:
            values, problem = resolve_times(spans)
            if problem:
                cols = "、".join(self.by_key[k].label for k in spans)
                row.errors.append(f"{cols}：{problem}")
                row.bad.add("start")
            row.values.update(values)
        self._place(row, raw)
        if row.district is None and "district" not in raw and self.default_district:
            row.district = self.default_district
        if "category" not in row.values and "category" not in raw and self.default_category:
            self._cell(row, "category", None, self.default_category)
        return row

    def _cell(self, row: Row, key: str, col: Column | None, value: Any) -> None:
        text = cell_text(value)
        where = f"{col.label}：" if col else ""
        c = self.c
        if key == "district":
            found = match_name(text, c.districts)
            if found is None:
                row.errors.append(f"{where}没有辖区“{text}”{suggest(text, list(c.districts.values()))}")
                row.bad.add("district")
            row.district = found
        elif key == "category":
            found = match_name(text, self.categories)
            if found is None:
                row.errors.append(f"{where}没有类别“{text}”{suggest(text, list(self.categories.values()))}")
                row.bad.add("category")
            elif c.category_list[found].children:
                names = "、".join(self.categories[k] for k in c.category_list[found].children)
                row.errors.append(f"{where}“{text}”有子类别，请写其中一个：{names}")
                row.bad.add("category")
            else:
                row.values["category"] = found
        elif key in ("audiences", "topics"):
            allowed = c.audiences if key == "audiences" else c.topics
            ids = []
            for name in split_list(text):
                found = match_name(name, allowed)
                if found is None:
                    row.warnings.append(
                        f"{where}没有“{name}”{suggest(name, list(allowed.values()))}（这一项没有导入）"
                    )
                elif found not in ids:
                    ids.append(found)
            if ids:
                row.values[key] = ids
        elif key == "mode":
            row.mode = mode_of(text)
            if row.mode is None:
                row.errors.append(f"{where}“{text}”应为 线上、线下 或 线上线下")
        elif key == "slug":
            if not SLUG_RE.match(text):
                row.errors.append(f"{where}活动编号“{text}”只能用小写英文字母、数字和连字符")
            row.slug = text
        else:
            self._typed(row, key, where, value, text)

    def _typed(self, row: Row, key: str, where: str, value: Any, text: str) -> None:
        tp = field_type(key)
        words = {"organizer_system": (system_of, SYSTEM_WORDS), "level": (level_of, LEVEL_WORDS),
                 "status": (status_of, STATUS_WORDS)}
        if key in words:
            parse, allowed = words[key]
            found = parse(text)
            if found is None:
                row.errors.append(f"{where}“{text}”应为 {'、'.join(w for w in allowed.values() if w)}")
            else:
                row.values[key] = found
        elif typing.get_origin(tp) is list:
            # links may contain commas, so they are split on spaces, line breaks and 、 only
            items = re.split(r"[\s、；;]+", text) if key == "report.media" else split_list(text)
            row.values[key] = [i for i in items if i]
        elif typing.get_origin(tp) is Literal:
            choices = typing.get_args(tp)
            if text not in choices:
                row.errors.append(f"{where}“{text}”不是可用的值{suggest(text, choices)}")
            else:
                row.values[key] = text
        elif tp is int:
            row.values[key] = value if isinstance(value, int) and not isinstance(value, bool) else _int(text)
        elif tp is float:
            row.values[key] = float(value) if isinstance(value, int | float) else _float(text)
        elif tp is bool:
            row.values[key] = _bool(text)
        elif tp in (date, When):
            span = cell_span(value, self.c.year)
            if span is None or span.d1 is None or span.d2 or span.t2 or (tp is date and span.t1):
                raise ValueError(f"“{text}”不是{'一个日期' if tp is date else '一个时间'}")
            v = datetime.combine(span.d1, span.t1) if span.t1 else span.d1
            row.values[key] = when_text_iso(v) if isinstance(v, datetime) else v
        elif key == "description" and "\n" in text:
            row.values[key] = text + "\n"  # written as a `|` block, which ends with a line break
        else:
            row.values[key] = text

    def _place(self, row: Row, raw: dict[str, tuple[Column, Any]]) -> None:
        """活动形式, 活动地点 and 活动链接 together decide venue and online."""
        vals = row.values
        if row.mode == "online":
            name = vals.pop("venue.name", None)
            if name and name not in ("线上", "网上", "线上活动", "网络"):
                vals["online.platform"] = name  # 抖音直播间, 腾讯会议 …: where online
            vals["venue"] = DELETE
        elif row.mode == "offline":
            if "online.url" in vals:
                col = raw["online.url"][0]
                row.errors.append(f"{col.label}：活动形式是线下，却填了链接；线上线下同时进行请写“线上线下”")
            vals["online"] = DELETE


# ---- YAML -----------------------------------------------------------------------------------

_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")


def _printable(c: str) -> bool:
    o = ord(c)
    if o < 0x20 or 0x7F <= o < 0xA0 or c in "\u2028\u2029\ufeff" or 0xD800 <= o < 0xE000:
        return False  # YAML line breaks (NEL, LS, PS) and controls would change the text
    return o not in (0xFFFE, 0xFFFF)


@functools.lru_cache(maxsize=8192)
def _reads_back(s: str) -> bool:
    try:  # true, no, 9:30, 2022-09-15, 1e3, null …: YAML 1.1 would read something else
        return yaml.safe_load(s) == s
    except yaml.YAMLError:
        return False


def _needs_quotes(s: str, flow: bool) -> bool:
    if not s or s != s.strip() or s[0] in _INDICATORS or not all(map(_printable, s)):
        return True
    if ": " in s or " #" in s or s.endswith(":") or "\t" in s:
        return True
    if re.fullmatch(r"[\d\s().+-]+", s):
        return True  # phone numbers and platform ids: quoted, as the editing guide recommends
    if flow and any(ch in s for ch in ",[]{}"):
        return True
    return not _reads_back(s)


def _quoted(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif not _printable(ch):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def scalar(v: Any, flow: bool = False) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        text = repr(v)
        return text if "." in text or "n" in text else f"{v:.1f}"  # YAML 1.1 floats need a dot
    if isinstance(v, datetime | date):
        return when_text_iso(v)
    s = str(v)
    return _quoted(s) if _needs_quotes(s, flow) else s


def _literal_ok(s: str) -> bool:
    """Multi-line text as a `|` block when it reads back exactly; otherwise it is double-quoted."""
    body = s[:-1] if s.endswith("\n") else s
    lines = body.split("\n")
    return (
        "\n" in body and not body.endswith("\n") and lines[0][:1] not in (" ", "")
        and all(_printable(c) or c == "\t" for c in body.replace("\n", ""))
        and all(ln == ln.rstrip() for ln in lines)
    )


BLOCK_KEYS = {"venue"}  # a venue (name, address, coordinates) reads better one field a line
# Top-level order as in SPEC.md and the sample files; fields not listed follow in model order.
ORDER = ["title", "organizer", "co_organizers", "organizer_system", "level", "category", "audiences",
         "topics", "start", "end", "recurrence", "tentative", "status", "venue", "online", "subtheme",
         "description", "registration", "contact", "kepuri_id", "id", "report"]


def _flow(v: Any) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(scalar(i, flow=True) for i in v) + "]"
    return scalar(v, flow=True)


def _emit(key: str, v: Any, indent: int, out: list[str]) -> None:
    pad = " " * indent
    if isinstance(v, dict):
        flat = all(not isinstance(x, dict | list) or isinstance(x, list) and
                   all(not isinstance(i, dict | list) for i in x) for x in v.values())
        if flat and key not in BLOCK_KEYS:  # {freq: daily, until: …} on one line, as staff write it
            line = f"{pad}{key}: {{" + ", ".join(f"{k}: {_flow(x)}" for k, x in v.items()) + "}"
            if len(line) <= 100:
                out.append(line)
                return
        out.append(f"{pad}{key}:")
        for k, sub in v.items():
            _emit(k, sub, indent + 2, out)
    elif isinstance(v, list):
        flow = _flow(v)
        if all(not isinstance(i, dict | list) for i in v) and len(pad + key + flow) <= 100:
            out.append(f"{pad}{key}: {flow}")
            return
        out.append(f"{pad}{key}:")
        for item in v:
            if isinstance(item, dict):
                first = True
                for k, sub in item.items():
                    lines: list[str] = []
                    _emit(k, sub, indent + 4, lines)
                    lines[0] = f"{pad}  - {lines[0].lstrip()}" if first else lines[0]
                    out += lines
                    first = False
            else:
                out.append(f"{pad}  - {scalar(item)}")
    elif isinstance(v, str) and "\n" in v.rstrip("\n") and _literal_ok(v):
        chomp = "" if v.endswith("\n") else "-"
        out.append(f"{pad}{key}: |{chomp}")
        out += [f"{pad}  {ln}" if ln else "" for ln in v.rstrip("\n").split("\n")]
    else:
        out.append(f"{pad}{key}: {scalar(v)}")


def normalize(v: Any) -> Any:
    """YAML-loaded data in the form we compare and write: times as `YYYY-MM-DD HH:MM` text."""
    if isinstance(v, dict):
        return {str(k): normalize(x) for k, x in v.items()}
    if isinstance(v, list):
        return [normalize(x) for x in v]
    if isinstance(v, datetime):
        return when_text_iso(v.replace(tzinfo=None))
    return v


def ordered(data: dict[str, Any], cls: Any = Activity) -> dict[str, Any]:
    """Keys in model order (nested too); unknown keys keep their place at the end."""
    hints, keys = _shape(cls)
    out: dict[str, Any] = {}
    if cls is Activity:
        keys = {k: keys[k] for k in ORDER if k in keys} | keys
    for key, fld in keys.items():
        if key in data:
            v, sub = data[key], _unoptional(hints[fld.name])
            out[key] = ordered(v, sub) if isinstance(v, dict) and dataclasses.is_dataclass(sub) else v
    out.update((k, v) for k, v in data.items() if k not in out)
    return out


def dump(data: dict[str, Any], comments: Iterable[str] = ()) -> str:
    lines = [f"# {c}" for c in comments]
    for key, v in data.items():
        _emit(key, v, 0, lines)
    text = "\n".join(lines) + "\n"
    if normalize(yaml.safe_load(text)) != normalize(data):  # never write what would read back wrong
        raise ValueError("生成的 YAML 读回来与表格内容不一致（请把这一行报告给维护人员）")
    return text


_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:(?:\s|$)")


def _blocks(lines: list[str]) -> dict[str, tuple[int, int]]:
    """Top-level key → [first, end) line indices; comments and blank lines after a block belong
    to what follows."""
    starts = [(i, m[1]) for i, ln in enumerate(lines) if (m := _TOP_KEY.match(ln))]
    out = {}
    for n, (i, key) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        while end > i + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
            end -= 1
        out[key] = (i, end)
    return out


def splice(text: str, old: dict[str, Any], new: dict[str, Any]) -> str:
    """``text`` with only the changed top-level keys rewritten, so the file's comments and the
    layout of untouched fields stay; a full rewrite under the leading comments otherwise."""
    lines = text.rstrip("\n").split("\n")
    blocks = sorted(_blocks(lines).items(), key=lambda kv: kv[1][0])
    first = blocks[0][1][0] if blocks else len(lines)
    if {k for k, _ in blocks} == set(old):
        keys = list(new)
        after: dict[str | None, list[str]] = {}  # new keys go after the nearest earlier key
        for key in keys:
            if key not in old:
                prev = [k for k in keys[: keys.index(key)] if k in old]
                _emit(key, new[key], 0, after.setdefault(prev[-1] if prev else None, []))
        out = lines[:first] + after.get(None, [])
        for n, (key, (i, end)) in enumerate(blocks):
            nxt = blocks[n + 1][1][0] if n + 1 < len(blocks) else len(lines)
            if key in new:
                if normalize(old[key]) == normalize(new[key]):
                    out += lines[i:end]
                else:
                    _emit(key, new[key], 0, out)
            out += after.get(key, []) + lines[end:nxt]  # comments before the next key stay with it
        result = "\n".join(out) + "\n"
        try:
            if normalize(yaml.safe_load(result)) == normalize(new):
                return result
        except yaml.YAMLError:
            pass
    head = "".join(ln + "\n" for ln in lines[:first] if ln.startswith("#"))
    return head + dump(new)


def same(a: Any, b: Any) -> bool:
    """Equal as the validator reads them: `abc` and `abc\\n`, `9:30` and `09:30`, 0519 as text."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) or isinstance(b, dict):
        return a == b
    if isinstance(a, str | date) and isinstance(b, str | date):
        wa = a if isinstance(a, date) else parse_when(a)[0]
        wb = b if isinstance(b, date) else parse_when(b)[0]
        if wa is not None and wb is not None:
            return type(wa) is type(wb) and wa == wb
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, str | int | float) and isinstance(b, str | int | float):
        return str(a).strip() == str(b).strip()
    return a == b


def merge(old: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """``old`` with the sheet's values put in; a value equal to what is there keeps the old one
    (and so its exact bytes)."""
    new = copy.deepcopy(old)
    for path, value in values.items():
        *parents, last = path.split(".")
        node = new
        for p in parents:
            if not isinstance(node.get(p), dict):
                node[p] = {}
            node = node[p]
        if value is DELETE:
            if path == "end" and "end" in node and same(node["end"], values.get("start", new.get("start"))):
                continue  # `end:` equal to an all-day start is the same activity
            node.pop(last, None)
        elif last not in node or not same(node[last], value):
            node[last] = value
    return ordered(new)


# ---- slugs ----------------------------------------------------------------------------------


def slugify(title: str, syllables: int = 6, limit: int = 40) -> str:
    """`“银龄数字课堂”：智能手机…` → `yin-ling-shu-zi-ke-tang` (pypinyin, a leading year dropped:
    the campaign id has it)."""
    from pypinyin import lazy_pinyin

    text = re.sub(r"^\s*\d{4}\s*年", "", title.translate(FULLWIDTH))
    words = [w for chunk in lazy_pinyin(text) for w in re.findall(r"[a-z0-9]+", chunk.lower())]
    out = ""
    for w in words[:syllables]:
        cand = f"{out}-{w}" if out else w[:limit]
        if len(cand) > limit:
            break
        out = cand
    return out or "huodong"


def unique_slug(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


# ---- import ---------------------------------------------------------------------------------

ACTIVITY_SCHEMA = "schemas/activity.schema.json"


@dataclass
class Note:
    row: int  # 0: about the whole file
    level: Literal["error", "warning", "info"]
    text: str


@dataclass
class Planned:
    row: int
    rel: str  # posix path relative to the repository root
    text: str
    old: str | None  # the file's previous text, for an update
    changed: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    table: Table
    notes: list[Note] = field(default_factory=list)
    written: list[Planned] = field(default_factory=list)
    updated: list[Planned] = field(default_factory=list)
    unchanged: list[tuple[int, str]] = field(default_factory=list)
    skipped: set[int] = field(default_factory=set)  # rows with nothing written

    @property
    def failed(self) -> bool:
        return any(n.level == "error" for n in self.notes)


@dataclass
class Existing:
    rel: str
    district: str
    slug: str
    title: str
    first_day: date
    kepuri_id: str | None


def _rel(root: Path, shown: str) -> str:
    return Path(os.path.relpath(os.path.abspath(shown), os.path.abspath(root))).as_posix()


def load_campaign(root: Path, cid: str) -> tuple[Campaign, list[Problem]]:
    """The campaign as the validator reads it, and its problems (paths relative to ``root``)."""
    cdir = root / "campaigns" / cid
    if not (cdir / "campaign.yml").is_file():
        others = [p.name for p in (root / "campaigns").glob("*") if (p / "campaign.yml").is_file()]
        raise SheetError(f"没有专题 {cid}（找不到 {display(cdir / 'campaign.yml')}）{suggest(cid, others)}")
    site, problems = read_site(root, [cdir])
    found = [c for c in site.campaigns if c.id == cid]
    bad = [p for p in problems.errors if p.pos.path.endswith(("campaign.yml", "brands.yml"))]
    if not found or bad:
        lines = "\n".join(p.format() for p in bad)
        raise SheetError(f"专题 {cid} 的 campaign.yml 或 brands.yml 有错误，请先用 kepu check 修复：\n"
                         + lines)
    return found[0], problems.items


def _problem_key(p: Problem, root: Path) -> tuple[str, int, str]:
    prefix = display(root)
    msg = p.message if prefix == "." else p.message.replace(prefix + os.sep, "")
    return (_rel(root, p.pos.path), p.pos.line, msg)


def _schema_comment(rel: str) -> str:
    depth = rel.count("/")
    return f"yaml-language-server: $schema={'../' * depth}{ACTIVITY_SCHEMA}"


class Importer:
    def __init__(self, root: Path, cid: str, update: bool, dry_run: bool):
        self.root, self.cid, self.update, self.dry_run = root, cid, update, dry_run
        self.c, problems = load_campaign(root, cid)
        self.baseline = {_problem_key(p, root) for p in problems if p.level == "error"}
        adir = root / "campaigns" / cid / "activities"
        self.existing: dict[str, Existing] = {}
        for a in self.c.activities:
            self.existing[a.slug] = Existing(_rel(root, a.pos.path), a.district, a.slug, a.title,
                                             a.first_day, a.kepuri_id)
        # every file name counts, valid or not: two files with one name would clash in the URL
        files = adir.rglob("*") if adir.is_dir() else []
        self.taken = {p.stem for p in files if p.suffix in (".yml", ".yaml")} | set(self.existing)
        self.by_kepuri = {e.kepuri_id: e for e in self.existing.values() if e.kepuri_id}
        self.by_title = {(e.title, e.first_day): e for e in self.existing.values()}

    def target(self, row: Row) -> Existing | None:
        """The existing activity a row is about: by 活动编号, 全国平台编号, or title and first day."""
        if row.slug:
            return self.existing.get(row.slug)
        kid = row.values.get("kepuri_id")
        return self.by_kepuri.get(kid) or self.by_title.get((row.title, row.first_day))

    def run(self, table: Table, header: int, columns: list[Column], reader: RowReader) -> ImportResult:
        res = ImportResult(table)
        notes = res.notes
        seen: dict[tuple, int] = {}
        targets: dict[str, int] = {}
        planned: list[Planned] = []
        file_name = Path(table.file).name
        keys = {c.key for c in columns}
        for number, cells in table.rows[header + 1:]:
            row = reader.read(number, cells)
            if row is None:
                continue
            notes += [Note(number, "warning", w) for w in row.warnings]
            target = None if row.errors else self.target(row)
            if not row.errors and target is None and row.slug in self.taken:
                # a file the validator could not read, or a new file an earlier row claimed
                row.errors.append(f"活动编号 {row.slug} 已经有文件或被前面的行用了，没有覆盖："
                                  "请用 kepu check 检查那个文件，或换一个编号")
            if not row.errors:
                self._check_row(row, target, keys, reader)
            if not row.errors:
                place = row.values.get("venue.name") or row.values.get("online.url") or ""
                key = (row.title, row.first_day, place)
                rel = target.rel if target else None
                if rel and rel in targets:
                    row.errors.append(f"与第 {targets[rel]} 行是同一个活动（{rel}），这一行没有导入")
                elif row.title and key in seen:
                    row.errors.append(
                        f"与第 {seen[key]} 行重复（活动名称、日期和地点都相同），这一行没有导入"
                    )
                seen.setdefault(key, number)
                if rel:
                    targets.setdefault(rel, number)
            if row.errors:
                notes += [Note(number, "error", e) for e in row.errors]
                res.skipped.add(number)
                continue
            plan = self._plan(row, target, file_name, notes, res)
            if plan:
                planned.append(plan)
        self._validate(planned, columns, res)
        return res

    def _check_row(self, row: Row, target: Existing | None, keys: set[str], reader: RowReader) -> None:
        by_key = reader.by_key
        if target is not None:
            if row.district and row.district != target.district:
                col = by_key.get("district")
                row.errors.append(
                    f"{col.label + '：' if col else ''}现有文件 {target.rel} 在 {target.district} 文件夹，"
                    f"表中是 {row.district}：要换辖区请手工移动文件"
                )
            return
        v = row.values

        def need(key: str, what: str, col_key: str | None = None) -> None:
            col_key = col_key or key
            if key in row.bad:
                return
            if col_key not in keys and not (col_key == "when" and keys & {"date", "start"}):
                row.errors.append(f"表格没有“{what}”列（新活动必填；可用 --map 列名={key} 指定）")
            elif key not in v:
                col = by_key.get(col_key) or next((by_key[k] for k in ("start", "date") if k in by_key), None)
                row.errors.append(f"{col.label + '：' if col else ''}缺少{what}（新活动必填）")

        need("title", "活动名称")
        need("organizer", "主办单位")
        if "category" not in keys and "category" not in v:
            row.errors.append("表格没有“活动类别”列：请加一列，或用 --category 指定")
        else:
            need("category", "活动类别")
        need("start", "活动时间", "when")
        if row.district is None and "district" not in keys:
            row.errors.append("表格没有“所属区县”列：请加一列，或用 --district 指定")
        elif row.district is None and "district" not in row.bad:
            row.errors.append(f"{by_key['district'].label}：缺少所属区县")
        mode = row.mode
        has_venue, has_url = "venue.name" in v, "online.url" in v
        if mode in ("online", "hybrid") and not has_url:
            col = by_key.get("online.url")
            where = col.label + "：" if col else "表格没有“活动链接”列："
            row.errors.append(f"{where}线上活动需要活动链接（http/https）")
        if mode in ("offline", "hybrid") and not has_venue:
            col = by_key.get("venue.name")
            where = col.label + "：" if col else "表格没有“活动地点”列："
            row.errors.append(f"{where}线下活动需要活动地点")
        if mode is None and not has_venue and not has_url:
            row.errors.append("没有活动地点，也没有活动链接：至少填一项（线上活动填活动链接）")

    def _plan(self, row: Row, target: Existing | None, file_name: str, notes: list[Note],
              res: ImportResult) -> Planned | None:
        if target is not None:
            if not self.update:
                notes.append(Note(row.number, "warning", f"已有这个活动的文件 {target.rel}，没有覆盖"
                                  "（要用表格内容更新它，请加 --update）"))
                res.skipped.add(row.number)
                return None
            path = self.root / target.rel
            try:
                text = decode(path.read_bytes(), target.rel)
                old = yaml.safe_load(text)
            except (LoadError, OSError, yaml.YAMLError):
                old = None
            if not isinstance(old, dict):
                notes.append(Note(row.number, "error",
                                  f"现有文件 {target.rel} 无法读取：请先用 kepu check 找出问题并修复"))
                res.skipped.add(row.number)
                return None
            old = normalize(old)
            new = merge(old, row.values)
            if "contact" in new and "contact" not in old:
                new["contact"].setdefault("public", False)
            changed = [k for k in new if k not in old or normalize(old[k]) != normalize(new[k])]
            changed += [k for k in old if k not in new]
            if not changed:
                res.unchanged.append((row.number, target.rel))
                return None
            try:
                return Planned(row.number, target.rel, splice(text, old, new), text, changed)
            except ValueError as err:
                notes.append(Note(row.number, "error", str(err)))
                res.skipped.add(row.number)
                return None
        district = row.district or ""
        slug = row.slug or unique_slug(slugify(row.title), self.taken)
        self.taken.add(slug)
        rel = f"campaigns/{self.cid}/activities/{district}/{slug}.yml"
        data: dict[str, Any] = {}
        for path, value in row.values.items():
            if value is DELETE:
                continue
            *parents, last = path.split(".")
            node = data
            for p in parents:
                node = node.setdefault(p, {})
            node[last] = value
        if "contact" in data:
            data["contact"].setdefault("public", False)  # contacts are private unless staff say so
        try:
            comments = [_schema_comment(rel), f"由 kepu import 从 {file_name} 第 {row.number} 行导入"]
            text = dump(ordered(data), comments)
        except ValueError as err:
            notes.append(Note(row.number, "error", str(err)))
            res.skipped.add(row.number)
            return None
        return Planned(row.number, rel, text, None)

    def _validate(self, planned: list[Planned], columns: list[Column], res: ImportResult) -> None:
        """Stage every planned file in a copy of the campaign, run the real validator, drop the
        files it refuses (and anything that breaks other files), then write the rest."""
        cols_by_field: dict[str, Column] = {}  # validator field → the column it came from
        for col in columns:
            fields = ["start", "end"] if col.key in ("when", "date") else [col.key.split(".")[0]]
            for name in fields:
                cols_by_field.setdefault(name, col)
        pending = {p.rel: p for p in planned}
        warnings: dict[str, list[Problem]] = {}
        with tempfile.TemporaryDirectory(prefix="kepu-import-") as tmp:
            stage = Path(tmp)
            (stage / "campaigns").mkdir()
            if (self.root / "campaigns" / "brands.yml").is_file():
                shutil.copy2(self.root / "campaigns" / "brands.yml", stage / "campaigns" / "brands.yml")
            shutil.copytree(self.root / "campaigns" / self.cid, stage / "campaigns" / self.cid, symlinks=True)
            for p in planned:
                _write(stage / p.rel, p.text)
            while pending:
                _, problems = read_site(stage, [stage / "campaigns" / self.cid])
                by_rel: dict[str, list[Problem]] = {}
                for prob in problems.items:
                    by_rel.setdefault(_rel(stage, prob.pos.path), []).append(prob)
                bad = {r for r in pending if any(x.level == "error" for x in by_rel.get(r, []))}
                for prob in problems.errors:
                    rel = _rel(stage, prob.pos.path)
                    if rel in pending or _problem_key(prob, stage) in self.baseline:
                        continue
                    # a new error in another file: blame the files it names, or every new file
                    named = {r for r in pending if Path(r).name in prob.message}
                    bad |= named or set(pending)
                    by_rel.setdefault("", []).append(prob)
                if not bad:
                    warnings = {r: [x for x in by_rel.get(r, []) if x.level == "warning"] for r in pending}
                    break
                for rel in sorted(bad):
                    p = pending.pop(rel)
                    verb = "更新" if p.old is not None else "写入"
                    for prob in by_rel.get(rel, []) or by_rel.get("", []):
                        if prob.level == "error":
                            res.notes.append(Note(p.row, "error", _explain(prob, cols_by_field, stage)
                                                  + f"（{rel} 未通过校验，没有{verb}）"))
                    res.skipped.add(p.row)
                    _undo(stage / rel, p.old)
        for rel, probs in warnings.items():
            res.notes += [Note(pending[rel].row, "warning", _explain(x, cols_by_field, None) + f"（{rel}）")
                          for x in probs]
        if not self.dry_run:
            self._commit(list(pending.values()), cols_by_field, res)
        else:
            for p in pending.values():
                (res.updated if p.old is not None else res.written).append(p)

    def _commit(self, planned: list[Planned], cols_by_field: dict[str, Column], res: ImportResult) -> None:
        for p in planned:
            _write(self.root / p.rel, p.text)
        _, problems = read_site(self.root, [self.root / "campaigns" / self.cid])
        broken = {_rel(self.root, x.pos.path): x for x in problems.errors}
        for p in planned:
            if p.rel in broken:  # the staged check passed, so this is a safety net only
                res.notes.append(Note(p.row, "error", _explain(broken[p.rel], cols_by_field, None)
                                      + f"（{p.rel} 写入后校验未通过，已撤销）"))
                res.skipped.add(p.row)
                _undo(self.root / p.rel, p.old)
                continue
            (res.updated if p.old is not None else res.written).append(p)


def _explain(p: Problem, cols_by_field: dict[str, Column], stage: Path | None) -> str:
    col = cols_by_field.get(p.field.split(".")[0].split("[")[0]) if p.field else None
    what = f"{p.field}：{p.message}" if p.field else p.message
    if stage is not None:
        what = what.replace(display(stage) + os.sep, "")
    return f"{col.label}：{what}" if col else what


def _undo(path: Path, old: str | None) -> None:
    if old is None:
        path.unlink()
    else:
        _write(path, old)


def _write(path: Path, text: str) -> None:
    """Write whole or not at all (a crash never leaves half a file for the validator)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(text.encode("utf-8"))
    os.replace(tmp, path)


def run_import(root: Path, file: Path, shown: str, cid: str, *, maps: Iterable[str] = (),
               sheet: str | None = None, update: bool = False, dry_run: bool = False,
               district: str | None = None, category: str | None = None) -> ImportResult:
    """Everything `kepu import` does; raises SheetError for a problem with the whole input."""
    mapping = parse_maps(maps)
    importer = Importer(root, cid, update, dry_run)
    c = importer.c
    if district and district not in c.districts:
        found = match_name(district, c.districts)
        if found is None:
            raise SheetError(f"--district {district}：没有这个辖区{suggest(district, list(c.districts))}")
        district = found
    tables = read_tables(file, shown)
    if sheet is not None:
        names = [t.sheet or "" for t in tables]
        chosen = [t for t in tables if t.sheet == sheet]
        if not chosen:
            raise SheetError(f"没有工作表“{sheet}”{suggest(sheet, names)}")
        tables = chosen
    found_header = [(t, h) for t in tables if (h := find_header(t, mapping))]
    if not found_header:
        known = "、".join(names[0] for _, names in _ALIASES[:12])
        raise SheetError(
            f"找不到表头：前 {HEADER_SCAN} 行里没有一行含有至少 {MIN_HEADERS} 个能识别的列名（如 {known}）；"
            "列名不同时可用 --map 列名=字段"
        )
    table, (pos, columns, unknown) = found_header[0]
    reader = RowReader(c, columns, district, None)
    if category:
        found = match_name(category, reader.categories)
        if found is None or c.category_list[found].children:
            raise SheetError(f"--category {category}：没有这个类别（或它有子类别）"
                             f"{suggest(category, list(reader.categories.values()))}")
        reader.default_category = found
    res = importer.run(table, pos, columns, reader)
    if unknown:
        res.notes.insert(0, Note(0, "info", "这些列没有导入：" + "、".join(unknown)
                                 + "（需要时用 --map 列名=字段 指定）"))
    others = [t.sheet for t, _ in found_header[1:] if t.sheet]
    if others and sheet is None:
        res.notes.insert(0, Note(0, "info", f"只导入了工作表“{table.sheet}”；"
                                 f"{'、'.join(others)} 也像活动表，需要时用 --sheet 指定"))
    return res


# ---- export ---------------------------------------------------------------------------------

EXPORT_COLUMNS: list[tuple[str, str | None]] = [
    ("活动名称", "title"), ("主办单位", "organizer"), ("承办单位", "co_organizers"),
    ("主办单位类型", "organizer_system"), ("活动级别", "level"), ("所属区县", "district"),
    ("活动类别", "category"), ("面向人群", "audiences"), ("话题", "topics"), ("副主题", "subtheme"),
    ("开始时间", "start"), ("结束时间", "end"), ("活动形式", "mode"), ("活动地点", "venue.name"),
    ("详细地址", "venue.address"), ("纬度", "venue.lat"), ("经度", "venue.lng"), ("活动链接", "online.url"),
    ("报名链接", "registration.url"), ("联系人", "contact.name"), ("联系电话", "contact.phone"),
    ("全国平台编号", "kepuri_id"), ("活动状态", "status"), ("活动简介", "description"),
    ("线下参与人数", "report.participants_offline"), ("线上参与人数", "report.participants_online"),
    ("志愿者人数", "report.volunteers"), ("媒体报道链接", "report.media"),
    ("时间说明（仅供阅读，导入时不读）", None), ("活动编号", "slug"),
]


def export_row(a: Activity) -> list[Any]:
    from ..outputs.data import when_text

    c = a.campaign
    get: dict[str, Any] = {
        "title": a.title, "organizer": a.organizer, "co_organizers": "、".join(a.co_organizers),
        "organizer_system": SYSTEM_WORDS.get(a.organizer_system or "", ""),
        "level": LEVEL_WORDS.get(a.level or "", ""), "district": c.districts.get(a.district, a.district),
        "category": c.category_list[a.category].name if a.category in c.category_list else a.category,
        "audiences": "、".join(c.audiences.get(k, k) for k in a.audiences),
        "topics": "、".join(c.topics.get(k, k) for k in a.topics), "subtheme": a.subtheme or "",
        "start": when_text_iso(a.start), "end": when_text_iso(a.end) if a.end is not None else "",
        "mode": MODE_KEYS[a.mode],
        # an online-only activity's 活动地点 is its platform (抖音直播间 …), as import reads it
        "venue.name": a.venue.name if a.venue else (a.online.platform or "") if a.online else "",
        "venue.address": (a.venue.address or "") if a.venue else "",
        "online.url": a.online.url if a.online else "",
        "registration.url": (a.registration.url or "") if a.registration else "",
        "contact.name": (a.contact.name or "") if a.contact else "",
        "contact.phone": (a.contact.phone or "") if a.contact else "",
        "kepuri_id": a.kepuri_id or "", "status": STATUS_WORDS[a.status], "description": a.description or "",
        "report.media": "\n".join(a.report.media) if a.report else "", "slug": a.slug, None: when_text(a),
    }
    for key in ("participants_offline", "participants_online", "volunteers"):
        n = getattr(a.report, key) if a.report else None
        get[f"report.{key}"] = n if n is not None else ""
    for key in ("lat", "lng"):
        n = getattr(a.venue, key) if a.venue else None
        get[f"venue.{key}"] = n if n is not None else ""
    return [get[key] for _, key in EXPORT_COLUMNS]


def export_xlsx(c: Campaign, out: Path) -> int:
    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font, PatternFill

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "活动"
    ws.append([h for h, _ in EXPORT_COLUMNS])
    order = {d: i for i, d in enumerate(c.districts)}
    acts = sorted(c.activities, key=lambda a: (order.get(a.district, len(order)), a.start_key, a.slug))
    for r, a in enumerate(acts, 2):
        for col, value in enumerate(export_row(a), 1):
            cell = ws.cell(r, col)
            if isinstance(value, str):
                cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
                cell.data_type = "s"  # never a formula, even when the text starts with =
                cell.number_format = "@"  # text: Excel must not turn 09:30 or 0519-… into numbers
            else:
                cell.value = value
    bold = Font(bold=True)
    for col, (_, key) in enumerate(EXPORT_COLUMNS, 1):
        cell = ws.cell(1, col)
        cell.font = bold
        letter = column_letter(col - 1)
        ws.column_dimensions[letter].width = 40 if key in ("title", "description", None) else 16
        if key in ("slug", None):
            cell.fill = PatternFill("solid", fgColor="DDDDDD")
    ws.freeze_panes = "B2"
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return len(acts)
