"""Sheet columns and cell words matched to the model: header aliases, --map, the fields a column can
fill, and names of districts, categories and audiences as staff write them."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml

from ..convert import FULLWIDTH, field_shape, suggest
from ..model import Activity, Slug, Url, When
from .tables import HEADER_SCAN, MIN_HEADERS, SheetError, Table, cell_text, column_letter

SYSTEM_RULES = "campaigns/organizer_systems.yml"

# ---- columns --------------------------------------------------------------------------------

# Special keys besides dotted field paths: the time cells, district, online/offline, file name.
SPECIAL = {"when": "开始和结束时间（start、end）", "date": "日期", "start": "开始时间", "end": "结束时间",
           "district": "辖区（名称或编号）", "mode": "线上/线下/线上线下（online、venue）",
           "slug": "活动编号（文件名）"}

ALIASES: list[tuple[str, list[str]]] = [
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
    ("contact.public", ["联系电话是否公开", "公开联系方式", "联系方式是否公开", "是否公开联系方式",
                        "联系人是否公开", "是否公开联系电话", "公开联系电话"]),
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
HEADER_KEYS = {name: key for key, names in ALIASES for name in names}


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
        if name in HEADER_KEYS:
            return HEADER_KEYS[name]
    return None


def unoptional(tp: Any) -> Any:
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
        hints, keys = field_shape(cls)
        if part not in keys:
            return None
        cls = unoptional(hints[keys[part].name])
        if i == len(parts) - 1:
            return cls
    return None


def _importable(tp: Any) -> bool:
    if typing.get_origin(tp) is list:
        return typing.get_args(tp)[0] in (str, Slug, Url)
    return typing.get_origin(tp) is Literal or tp in (str, Slug, Url, int, float, bool, date, When)


def mappable_fields(cls: Any = Activity, prefix: str = "") -> list[str]:
    """Every field a sheet column can fill (for --map and its help)."""
    hints, keys = field_shape(cls)
    out = []
    for key, fld in keys.items():
        tp = unoptional(hints[fld.name])
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


def bare(name: str) -> str:
    """A place name without its 区/县/市/镇/街道 suffix (郫都区 → 郫都), kept when it is all there is."""
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
    short = bare(v)
    hits = {k for k, n in options.items() if bare(n) == short}
    if len(hits) != 1 and len(short) >= 2:
        hits = {k for k, n in options.items() if short in n or (len(bare(n)) >= 2 and bare(n) in v)}
    return hits.pop() if len(hits) == 1 else None


def split_list(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[、,，;；\n]+", text) if p.strip()]


MODE_KEYS = {"offline": "线下", "online": "线上", "hybrid": "线上线下"}
SYSTEM_WORDS = {"kexie": "科协系统", "other": "其他系统"}
LEVEL_WORDS = {"city": "市级", "district": "区县级", "town": "镇街级", "unit": "单位"}
STATUS_WORDS = {"scheduled": "", "cancelled": "已取消", "postponed": "已延期"}
TRUE_WORDS = {"是", "有", "需要", "需", "要", "true", "yes", "y", "√", "✓", "公开"}
FALSE_WORDS = {"否", "无", "不需要", "不需", "不要", "false", "no", "n", "×", "✗", "不公开"}


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


def load_system_rules(root: Path) -> list[tuple[str, list[str]]]:
    """campaigns/organizer_systems.yml: [(system, words)] in order; the first rule with a word in
    the organiser's name decides. No file: nothing is inferred."""
    path = root / SYSTEM_RULES
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise SheetError(f"{SYSTEM_RULES}：无法读取（{err}）") from None
    rules = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(rules, list):
        raise SheetError(f"{SYSTEM_RULES}：应有 rules: 列表，每项 {{system: kexie 或 other, words: [词, …]}}")
    out = []
    for i, rule in enumerate(rules, 1):
        words = rule.get("words") if isinstance(rule, dict) else None
        ok = (isinstance(words, list) and all(isinstance(w, str) and w for w in words)
              and rule.get("system") in SYSTEM_WORDS)
        if not ok:
            raise SheetError(f"{SYSTEM_RULES}：rules 第 {i} 项应为 "
                             "{system: kexie 或 other, words: [词, …]}")
        out.append((rule["system"], rule["words"]))
    return out


def infer_system(organizer: str, rules: list[tuple[str, list[str]]]) -> str | None:
    """kexie / other by the first rule that has a word in the name; None when no rule does."""
    name = organizer.translate(FULLWIDTH)
    for system, words in rules:
        if any(w in name for w in words):
            return system
    return None
