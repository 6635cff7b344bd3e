"""Typed conversion of located YAML trees into the model dataclasses (part of step 2, validate).

Driven by the model's type hints, so adding a field to ``model.py`` is enough for it to be read,
checked, put in the JSON Schema and required in the editing guide. Every refusal says which
file, line and field, what was expected and how to write it.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
import types
import typing
from datetime import date, datetime
from typing import Any, Literal, Union
from urllib.parse import urlsplit

from .load import YMap, YNode, YScalar, YSeq
from .model import Slug, Text, Url, When
from .problems import Pos, Problems


@functools.cache
def field_shape(cls: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Type hints and YAML key → field of a model class (cached: called once per file)."""
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if not f.metadata.get("derived")]
    return hints, {(f.metadata.get("key") or f.name): f for f in fields}


def _positions(node: YMap, prefix: str = "") -> dict[str, Pos]:
    """Value positions by dotted name (``start``, ``venue.lat``, ``recurrence.until``,
    ``audiences[2]``), so a rule about a nested field or a list item points at its own line,
    not at the first line of the mapping or list."""
    out: dict[str, Pos] = {}
    for key, sub in node.items.items():
        out[f"{prefix}{key}"] = sub.pos
        if isinstance(sub, YMap):
            out.update(_positions(sub, f"{prefix}{key}."))
        elif isinstance(sub, YSeq):
            out.update({f"{prefix}{key}[{i + 1}]": item.pos for i, item in enumerate(sub.items)})
    return out


def is_required(fld: dataclasses.Field) -> bool:
    return fld.default is dataclasses.MISSING and fld.default_factory is dataclasses.MISSING


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = _Invalid()

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FULLWIDTH = str.maketrans("０１２３４５６７８９：－／．　", "0123456789:-/. ")
# re.ASCII: without it \d also matches full-width digits (２０２２), which must get a hint instead
ISO_RE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[ \t]+|T)(\d{1,2}):(\d{2})(?::(\d{2}))?)?$", re.ASCII
)
CN_RE = re.compile(
    r"^(\d{4})\s*[年/.]\s*(\d{1,2})\s*[月/.]\s*(\d{1,2})\s*[日号]?"
    r"\s*(?:(?:上午|下午|晚上)?\s*(\d{1,2})\s*[:：点时]\s*(\d{1,2}|半)?\s*分?)?$",
    re.ASCII,
)

# Bounds that no output can go beyond: years outside these make "year 10000" in iCalendar and
# date arithmetic (window 9999-12-31), and no campaign plans a century ahead.
MIN_YEAR, MAX_YEAR = 2000, 2100
# Fields whose text may span lines (Markdown); every other text is one line in a title, a
# table cell, an iCalendar property or CODEOWNERS, where a line break would start something new.
MULTILINE_FIELDS = {"description"}
# Characters no output can carry: C0 controls, DEL, C1 controls (HTML and RFC 5545 forbid them,
# a terminal runs ESC sequences), lone surrogates (UTF-8 cannot encode them: build would crash)
# and the non-characters U+FFFE/U+FFFF. YAML refuses them typed raw, but "\x1b", "\u0000" and
# "\ud800" escapes in double quotes get through, so every text value is checked here.
# kepu import strips the same set from cells (commands/tables.py); a lone CR is refused here too
CONTROL_CHARS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
BAD_CHAR_RE = re.compile(f"[\r{CONTROL_CHARS}]")
LINE_BREAK_RE = re.compile("[\t\n\u2028\u2029]")  # also refused in one-line fields
CHAR_NAME = {"\t": "Tab（制表符）", "\n": "换行", "\u2028": "行分隔符", "\u2029": "段分隔符"}

KIND_WORD = {
    str: "文字",
    int: "整数",
    float: "数字",
    bool: "true 或 false",
    date: "日期（如 2022-09-15）",
}


def char_problem(text: str, multiline: bool) -> str:
    """Why a text value cannot be published as it is, or "" when it can."""
    if multiline:  # a CR LF escape is a line break like LF; writers normalise it
        text = text.replace("\r\n", "\n")
    m = BAD_CHAR_RE.search(text) or (None if multiline else LINE_BREAK_RE.search(text))
    if m is None:
        return ""
    c = m.group()
    at = f"第 {m.start() + 1} 个字符"
    if c in CHAR_NAME:
        return (
            f"{at}是{CHAR_NAME[c]}：这个字段只能写一行，请删掉{CHAR_NAME[c]}"
            "（用空格或中文标点隔开；多行内容请写在 description 里）"
        )
    if "\ud800" <= c <= "\udfff":
        return f"{at}是不成对的代理码位 \\u{ord(c):04x}，不是真正的文字：请删掉这个转义，直接输入文字"
    return (
        f"{at}是看不见的控制字符（U+{ord(c):04X}）：可能是从网页或 Word 复制带来的，"
        "或写了 \\x、\\u 转义；请删掉这一处后重新输入"
    )


def year_problem(day: date) -> str:
    if MIN_YEAR <= day.year <= MAX_YEAR:
        return ""
    return f"年份 {day.year} 超出 {MIN_YEAR}–{MAX_YEAR}：是不是年份写错了？"


def suggest(word: str, choices: typing.Iterable[str]) -> str:
    """A "did you mean" hint for a mistyped name, or the list of allowed names."""
    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"，是否想写 {close[0]}？"
    if choices and len(choices) <= 30:
        return "；可用的有：" + "、".join(choices)
    return ""


def slug_hint(text: str) -> str:
    fixed = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if fixed and SLUG_RE.match(fixed):
        return f"，例如 {fixed}"
    return "（中文名称请用拼音，如 wujin）"


def parse_when(text: str) -> tuple[date | datetime | None, str]:
    """Parse the ISO forms staff should write. Returns (value, hint); the hint says how to
    rewrite the common near misses (full-width digits, 2022年9月15日 9:30, 2022/9/15)."""
    m = ISO_RE.match(text.strip())
    if m:
        y, mo, d, h, mi, s = m.groups()
        try:
            if h is None:
                return date(int(y), int(mo), int(d)), ""
            return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0)), ""
        except ValueError:
            return None, "这个日期或时间不存在（检查月份、日期和小时）"
    norm = text.translate(FULLWIDTH).strip()
    fixed = ""
    m = ISO_RE.match(norm)
    if m:
        fixed = norm
    else:
        m = CN_RE.match(norm)
        if m:
            y, mo, d, h, mi = m.groups()
            fixed = f"{int(y):04d}-{int(mo):02d}-{int(d):02d}"
            if h is not None:
                hour = int(h) + (12 if ("下午" in norm or "晚上" in norm) and int(h) < 12 else 0)
                minute = 30 if mi == "半" else int(mi or 0)
                fixed += f" {hour:02d}:{minute:02d}"
    if fixed and norm != text.strip() and ISO_RE.match(norm):
        return None, f"含全角数字或符号，请改成半角：{fixed}"
    if fixed:
        return None, f"请写成 {fixed}（年-月-日 时:分，24 小时制）"
    return None, "请写成 2022-09-15（全天）或 2022-09-15 09:30"


class Converter:
    def __init__(self, problems: Problems):
        self.problems = problems

    def err(self, node: YNode, where: str, message: str) -> Any:
        self.problems.error(node.pos, message, where)
        return INVALID

    # -- entry point ------------------------------------------------------------------------

    def convert(self, node: YNode, tp: Any, where: str) -> Any:
        origin = typing.get_origin(tp)
        if origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if isinstance(node, YScalar) and node.plain and node.value is None:
                return None
            if len(args) == 1:
                return self.convert(node, args[0], where)
            # str | SomeDataclass: a scalar is the short form, a mapping the long one
            want = dict if isinstance(node, YMap) else str
            for a in args:
                if (want is dict) == dataclasses.is_dataclass(a):
                    return self.convert(node, a, where)
            return self.err(node, where, "格式不对：应为文字，或带 name 等字段的映射")
        if origin is Literal:
            return self.literal(node, typing.get_args(tp), where)
        if origin is list:
            return self.list(node, typing.get_args(tp)[0], where)
        if origin is dict:
            return self.dict(node, typing.get_args(tp)[1], where)
        if dataclasses.is_dataclass(tp):
            return self.dataclass(node, tp, where)
        return self.scalar(node, tp, where)

    # -- containers -------------------------------------------------------------------------

    def list(self, node: YNode, item: Any, where: str) -> Any:
        if isinstance(node, YScalar) and node.plain and node.value is None:
            return []
        if not isinstance(node, YSeq):
            example = "[a, b]" if not dataclasses.is_dataclass(item) else "以 - 开头的多行"
            return self.err(node, where, f"应为列表，写成 {example}")
        out = [self.convert(n, item, f"{where}[{i + 1}]") for i, n in enumerate(node.items)]
        return [v for v in out if v is not INVALID]

    def dict(self, node: YNode, value: Any, where: str) -> Any:
        if isinstance(node, YScalar) and node.plain and node.value is None:
            return {}
        if not isinstance(node, YMap):
            return self.err(node, where, "应为“编号: 名称”形式的多行映射")
        out = {}
        for key, sub in node.items.items():
            if self.bad_key(node, key, where):
                continue
            if not SLUG_RE.match(key):
                self.problems.error(
                    node.key_pos[key], f"编号“{key}”只能用小写英文字母、数字和连字符{slug_hint(key)}", where
                )
                continue
            v = self.convert(sub, value, f"{where}.{key}")
            if v is not INVALID:
                out[key] = v
        return out

    def dataclass(self, node: YNode, cls: Any, where: str) -> Any:
        if cls is Text and isinstance(node, YScalar):
            text = self.scalar(node, str, where)
            return INVALID if text is INVALID else Text(text=text)
        if not isinstance(node, YMap):
            return self.err(node, where, "应为包含多个字段的映射（每个字段一行，或写成 {a: 1, b: 2}）")
        hints, keys = field_shape(cls)
        values: dict[str, Any] = {}
        bad = False
        prefix = f"{where}." if where else ""
        for key, sub in node.items.items():
            if self.bad_key(node, key, f"{prefix}{key}".rstrip(".")):
                continue
            if key not in keys:
                self.problems.error(
                    node.key_pos[key], f"不认识的字段 {key}{suggest(key, keys)}", f"{prefix}{key}"
                )
                continue
            fld = keys[key]
            v = self.convert(sub, hints[fld.name], f"{prefix}{key}")
            if v is INVALID:
                bad = bad or is_required(fld)
                continue
            values[fld.name] = v
        for key, fld in keys.items():
            if is_required(fld) and key not in node.items:
                self.problems.error(
                    node.pos, f"缺少必填字段 {key}（{fld.metadata['doc']}）", f"{prefix}{key}".rstrip(".")
                )
                bad = True
        if bad:
            return INVALID
        obj = cls(**values)
        if hasattr(obj, "field_pos"):
            obj.field_pos = _positions(node)
            obj.field_pos.update({f"{k}:key": p for k, p in node.key_pos.items()})
            obj.pos = node.pos
        return obj

    def bad_key(self, node: YMap, key: str, where: str) -> bool:
        """A key with a control character or line break: reported before any message repeats
        it (a lone surrogate cannot even be printed)."""
        message = char_problem(key, multiline=False)
        if message:
            shown = BAD_CHAR_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", where)
            shown = LINE_BREAK_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", shown)
            self.problems.error(node.key_pos[key], f"字段名或编号的{message}", shown)
        return bool(message)

    # -- scalars ----------------------------------------------------------------------------

    def literal(self, node: YNode, choices: tuple[str, ...], where: str) -> Any:
        text = self.scalar(node, str, where)
        if text is INVALID:
            return INVALID
        if text not in choices:
            return self.err(node, where, f"“{text}”不是可用的值{suggest(text, choices)}")
        return text

    def scalar(self, node: YNode, tp: Any, where: str) -> Any:
        if not isinstance(node, YScalar):
            return self.err(node, where, f"应为单个值（{KIND_WORD.get(tp, '文字')}），不是列表或映射")
        v, text = node.value, node.text
        if node.plain and v is None:
            return self.err(node, where, "值是空的：请填写，或删掉这个字段")
        # first, so that no later message echoes a character that cannot be shown or printed
        if message := char_problem(text.strip(), where.rsplit(".", 1)[-1] in MULTILINE_FIELDS):
            return self.err(node, where, message)
        if node.plain and isinstance(v, bool) and tp is not bool:
            return self.err(
                node, where,
                f"YAML 会把不带引号的 {text} 读成布尔值（是/否）：要写文字请加引号，如 \"{text}\"",
            )
        if node.plain and isinstance(v, int) and not isinstance(v, bool) and ":" in text:
            if tp not in (When, date):  # text, number …: quoting keeps what was typed
                return self.err(
                    node, where, f"YAML 1.1 会把 {text} 读成六十进制数字 {v}：要写文字请加引号，如 \"{text}\""
                )
            return self.err(
                node, where,
                f"YAML 1.1 会把 {text} 读成六十进制数字 {v}，不是时间：请写完整的日期和时间，"
                f"如 2022-09-15 {int(text.split(':')[0]):02d}:{text.split(':')[1]}",
            )
        if tp is bool:
            if isinstance(v, bool) and text.lower() in ("true", "false"):
                return v
            return self.err(node, where, f"应为 true 或 false，不要写 {text}（yes/no、是/否 容易被误读）")
        if tp in (int, float):
            if isinstance(v, int | float) and not isinstance(v, bool) and (tp is float or isinstance(v, int)):
                return v
            half = text.translate(FULLWIDTH)
            hint = f"：含全角数字，请改成半角 {half}" if half != text else ""
            return self.err(node, where, f"应为{KIND_WORD[tp]}，不是“{text}”{hint}")
        if tp in (date, When):
            day = self.when(node, tp, where)
            if day is not INVALID and (message := year_problem(day)):
                return self.err(node, where, message)
            return day
        # str, Slug, Url
        s = v if isinstance(v, str) else text
        s = s.strip()
        if not s:
            return self.err(node, where, "值是空的：请填写，或删掉这个字段")
        if tp is Slug and not SLUG_RE.match(s):
            return self.err(node, where, f"编号“{s}”只能用小写英文字母、数字和连字符{slug_hint(s)}")
        if tp is Url:
            parts = urlsplit(s)
            if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in s):
                return self.err(node, where, f"链接“{s}”无效：只接受 http:// 或 https:// 开头的完整网址")
        return s

    def when(self, node: YScalar, tp: Any, where: str) -> Any:
        """A date (tp date) or a date or naive datetime (tp When), with a rewrite hint."""
        v, text = node.value, node.text
        if tp is date:
            if isinstance(v, date) and not isinstance(v, datetime):
                return v
            parsed, hint = parse_when(text)
            if isinstance(parsed, date) and not isinstance(parsed, datetime):
                return parsed
            return self.err(node, where, f"应为日期，不是“{text}”：{hint or '请只写日期，如 2022-09-15'}")
        if isinstance(v, datetime):
            if v.tzinfo is not None:
                return self.err(node, where, "不要写时区：时间按活动所在时区（默认北京时间）理解")
            return v
        if isinstance(v, date):
            return v
        parsed, hint = parse_when(text)
        if parsed is not None:
            return parsed
        return self.err(node, where, f"无法识别的时间“{text}”：{hint}")
