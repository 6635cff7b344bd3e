"""Activity files written and updated from sheet values: the same data always gives the same bytes,
and an update rewrites only the keys that changed, keeping the file's comments and order."""

from __future__ import annotations

import copy
import dataclasses
import functools
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import yaml

from ..convert import field_shape, parse_when
from ..model import Activity
from .match import unoptional

# A small emitter of our own rather than a YAML library's dumper: model key order, conservative
# quoting and `|` blocks exactly as the editing guide shows them, so an export → import --update
# round trip changes nothing. Every text is read back with yaml.safe_load before it is written.


class _Delete:
    def __repr__(self) -> str:
        return "DELETE"


DELETE: Any = _Delete()  # "remove this key" in a row's values (merge drops it from the file)


def when_text_iso(v: date | datetime) -> str:
    """A date or time as activity files write it: `2022-09-15`, `2022-09-15 09:30`."""
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S" if v.second else "%Y-%m-%d %H:%M")
    return v.isoformat()


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
    hints, keys = field_shape(cls)
    out: dict[str, Any] = {}
    if cls is Activity:
        keys = {k: keys[k] for k in ORDER if k in keys} | keys
    for key, fld in keys.items():
        if key in data:
            v, sub = data[key], unoptional(hints[fld.name])
            out[key] = ordered(v, sub) if isinstance(v, dict) and dataclasses.is_dataclass(sub) else v
    out.update((k, v) for k, v in data.items() if k not in out)
    return out


def _comment(text: str) -> str:
    """One comment line whatever the text (a file name may hold a line break): every character YAML
    reads as a line break, or that is a control character, becomes a space."""
    return "# " + "".join(c if _printable(c) else " " for c in text)


def dump(data: dict[str, Any], comments: Iterable[str] = ()) -> str:
    lines = [_comment(c) for c in comments]
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
