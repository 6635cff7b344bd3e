"""Step 1, load: read YAML files into small trees that remember where every value came from.

PyYAML's node graph has the positions but no safe way to turn it into Python values without
expanding aliases, so we walk the nodes ourselves and keep, for every scalar, both the value
YAML 1.1 resolves and the raw text the clerk typed (that is how `9:30` → 570 gets a hint).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .problems import Pos, Problems

MAX_BYTES = 1_000_000  # a campaign or activity file is a few KB; anything this big is a mistake
MAX_DEPTH = 20  # staff files nest four levels at most; deeper input would exhaust the recursion limit


@dataclass
class YScalar:
    value: Any  # what YAML 1.1 resolves a plain scalar to (int, bool, date, str …)
    text: str  # exactly what was typed
    plain: bool  # unquoted, so YAML's implicit typing applied
    pos: Pos


@dataclass
class YMap:
    pos: Pos
    items: dict[str, YNode] = field(default_factory=dict)
    key_pos: dict[str, Pos] = field(default_factory=dict)


@dataclass
class YSeq:
    pos: Pos
    items: list[YNode] = field(default_factory=list)


YNode = YScalar | YMap | YSeq


class LoadError(Exception):
    def __init__(self, pos: Pos, message: str):
        self.pos, self.message = pos, message
        super().__init__(message)


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses aliases outright: staff never need them, and an alias bomb
    (billion laughs) must be stopped before anything is expanded."""

    path = ""
    depth = 0

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise LoadError(
                _pos(self.path, event.start_mark),
                "不支持 YAML 别名（*名称）和锚点：请把内容直接写出来",
            )
        if self.depth >= MAX_DEPTH:
            raise LoadError(
                _pos(self.path, self.peek_event().start_mark),
                f"嵌套层次太深（超过 {MAX_DEPTH} 层）：检查缩进和方括号、花括号是否配对",
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _pos(path: str, mark: yaml.Mark | None) -> Pos:
    if mark is None:
        return Pos(path)
    return Pos(path, mark.line + 1, mark.column + 1)


_SYNTAX_HINTS = [
    ("found character '\\t'", "不能用 Tab 键缩进，请改用空格"),
    ("mapping values are not allowed", "值里含有英文冒号时请给整个值加引号，或者这一行比上一行多缩进了"),
    ("could not find expected ':'", "这一行缺少“字段: 值”中的英文冒号，或上一行的引号没有闭合"),
    ("did not find expected key", "缩进不一致：同一层的字段要对齐"),
    ("found unexpected end of stream", "引号没有闭合"),
    ("found undefined tag handle", "不要使用 ! 开头的标签；以 ! 开头的文字请加引号"),
    ("could not determine a constructor", "不要使用 ! 开头的标签；以 ! 开头的文字请加引号"),
    ("expected ',' or ']'", "方括号 [ ] 没有闭合，或列表项之间缺少英文逗号"),
    ("expected ',' or '}'", "花括号 { } 没有闭合，或字段之间缺少英文逗号"),
    ("expected a single document", "一个文件只能写一个活动：请删掉 --- 分隔线及其后的内容"),
]


def _syntax_pos(path: str, err: yaml.MarkedYAMLError) -> Pos:
    """Where to point: an unclosed quote or bracket is only noticed further down (often at the
    end of the file), so point at the line where it was opened, not past the last line."""
    problem, context = err.problem_mark, err.context_mark
    at_end = "stream" in (err.problem or "") and "end" in (err.problem or "")
    opened = (err.context or "").startswith(("while parsing a flow", "while scanning a quoted"))
    if context is not None and (problem is None or at_end or opened):
        return _pos(path, context)
    return _pos(path, problem or context)


def _syntax_message(err: yaml.MarkedYAMLError) -> str:
    raw = f"{err.context or ''} {err.problem or ''}".strip()
    for needle, hint in _SYNTAX_HINTS:
        if needle in raw:
            return f"YAML 格式错误：{hint}（解析器原文：{raw}）"
    return f"YAML 格式错误：{raw}；请检查这一行及上一行的缩进、冒号和引号"


def decode(data: bytes, path: str) -> str:
    """UTF-8 (a BOM is fine); anything else gets a message saying what it is and how to fix it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        try:
            data.decode("gb18030")
        except UnicodeDecodeError:
            raise LoadError(
                Pos(path, line, 1), "文件不是 UTF-8 编码的文本：请用文本编辑器另存为 UTF-8"
            ) from None
        raise LoadError(
            Pos(path, line, 1),
            "文件是 GBK（GB2312/GB18030）编码，本系统只读 UTF-8：请在编辑器中选择“另存为”→ 编码"
            " “UTF-8”（记事本：编码选 UTF-8；VS Code：右下角点 GBK →“通过编码保存”→ UTF-8）",
        ) from None


def _convert(node: Node, loader: _Loader, problems: Problems) -> YNode:
    path = loader.path
    pos = _pos(path, node.start_mark)
    if isinstance(node, ScalarNode):
        plain = not node.style  # PyYAML says None for plain scalars, libyaml says ""
        try:
            # a string is its text: skip PyYAML's constructor machinery for the commonest case
            value = node.value if node.tag == _STR else loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as err:
            raise LoadError(pos, _syntax_message(err)) from None
        except yaml.YAMLError as err:
            raise LoadError(pos, f"无法读取这个值：{err}") from None
        except (ValueError, OverflowError):
            # e.g. 2022-02-30 resolved as a timestamp: keep the text; the field's type decides
            # (a date field says the day does not exist, a text field takes it as typed)
            value = node.value
        return YScalar(value, node.value, plain, pos)
    if isinstance(node, SequenceNode):
        return YSeq(pos, [_convert(n, loader, problems) for n in node.value])
    if isinstance(node, MappingNode):
        out = YMap(pos)
        for knode, vnode in node.value:
            kpos = _pos(path, knode.start_mark)
            if not isinstance(knode, ScalarNode):
                raise LoadError(kpos, "字段名必须是简单的文字")
            key = knode.value
            if not knode.style and key in ("<<",):
                raise LoadError(kpos, "不支持 YAML 合并键 <<：请把字段直接写出来")
            if not knode.style and isinstance(_key_value(knode, loader), bool):
                problems.error(
                    kpos,
                    f"YAML 会把不带引号的 {key} 读成布尔值（是/否），不是文字：请写成 \"{key}\"",
                )
            if key in out.items:
                first = out.key_pos[key]
                problems.error(kpos, f"字段 {key} 重复出现（第 {first.line} 行已经写过）：请删掉其中一个")
                continue
            out.items[key] = _convert(vnode, loader, problems)
            out.key_pos[key] = kpos
        return out
    raise LoadError(pos, "无法识别的 YAML 内容")


def _key_value(knode: ScalarNode, loader: _Loader) -> Any:
    """What YAML 1.1 makes of a plain key (only to spot yes/no/on/off); never raises."""
    try:
        return loader.construct_object(knode)
    except (yaml.YAMLError, ValueError, OverflowError):
        return knode.value


_STR = "tag:yaml.org,2002:str"


class _CachedResolver(yaml.resolver.Resolver):
    """The implicit tag of a plain scalar depends only on its text: remember it for short texts
    (keys, dates, ids repeat across thousands of files), since PyYAML tries its regular
    expressions in Python for every scalar the C parser reports."""

    _tags: dict[tuple[str, tuple[bool, bool]], str] = {}

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is not ScalarNode or len(value) > 40:
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tag = self._tags.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(self._tags) < 50_000:  # bounded: titles and addresses are unique
                self._tags[key] = tag
        return tag


_FastLoader: type | None = None
if getattr(yaml, "__with_libyaml__", False):
    from yaml.cyaml import CParser

    class _FastLoader(CParser, yaml.constructor.SafeConstructor, _CachedResolver):  # type: ignore[no-redef]
        """yaml.CSafeLoader with the cached resolver."""

        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            _CachedResolver.__init__(self)


def _fast_ok(text: str) -> bool:
    """libyaml is ~10x faster (it matters at 100,000 files) but recurses without PyYAML's depth
    guard, so it only gets files that cannot nest deeply: few brackets, little indentation."""
    if _FastLoader is None or text.count("[") + text.count("{") > MAX_DEPTH:
        return False
    return all(len(line) - len(line.lstrip(" ")) <= 2 * MAX_DEPTH for line in text.splitlines())


def _no_aliases(node: Node) -> bool:
    """libyaml shares the node of an anchor with its aliases; a node met twice is an alias."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            return False
        seen.add(id(n))
        if isinstance(n, SequenceNode):
            stack.extend(n.value)
        elif isinstance(n, MappingNode):
            for k, v in n.value:
                stack.extend((k, v))
    return True


def _parse_fast(text: str, path: str, problems: Problems) -> YNode | None | bool:
    """The libyaml path for well-formed files; False means "use the careful path" (any error,
    alias or oddity), so every message still comes from one place."""
    loader = _FastLoader(text)
    loader.path = path
    try:
        root = loader.get_single_node()
        if root is None or not _no_aliases(root):
            return False
        return _convert(root, loader, problems)
    except (yaml.YAMLError, LoadError, ValueError, RecursionError):
        return False
    finally:
        loader.dispose()


def parse_text(text: str, path: str, problems: Problems) -> YNode | None:
    """Parse one YAML document. Syntax errors become problems; returns None then."""
    if _fast_ok(text):
        mark = len(problems.items)
        fast = _parse_fast(text, path, problems)
        if fast is not False:
            return fast
        del problems.items[mark:]  # the careful path reports again, with its own positions
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as err:  # control characters (NUL, …) anywhere in the file
        line = text[: err.position].count("\n") + 1
        problems.error(
            Pos(path, line, err.position - (text.rfind("\n", 0, err.position) + 1) + 1),
            f"文件里有不可见的控制字符（#x{err.character:04x}）：可能是从网页或 Word 复制带来的，"
            "请删掉这一处后重新输入",
        )
        return None
    loader.path = path
    try:
        root = loader.get_single_node()
        if root is None:
            problems.error(Pos(path, 1, 1), "文件是空的")
            return None
        return _convert(root, loader, problems)
    except LoadError as err:
        problems.error(err.pos, err.message)
    except yaml.MarkedYAMLError as err:
        pos, message = _syntax_pos(path, err), _syntax_message(err)
        found = err.problem_mark.line + 1 if err.problem_mark is not None else 0
        if found > pos.line:
            end = "直到文件末尾" if "stream" in (err.problem or "") else f"到第 {found} 行"
            message += f"（从第 {pos.line} 行开始，{end}都没有闭合）"
        problems.error(pos, message)
    except yaml.YAMLError as err:
        problems.error(Pos(path), f"YAML 格式错误：{err}")
    finally:
        loader.dispose()
    return None


def _special(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "命名管道（FIFO）"
    if stat.S_ISSOCK(mode):
        return "套接字"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "设备文件"
    return "目录" if stat.S_ISDIR(mode) else "特殊文件"


def read_bytes(file: Path, display: str, inside: Path | None = None) -> bytes:
    """The bytes of a staff file, refusing what would hang or exhaust memory: a FIFO blocks on
    open, /dev/zero never ends, so the type is checked before opening and the read is bounded.
    ``inside``: a file (or symlink) must resolve into this folder, so a link cannot publish
    something from elsewhere on the machine."""
    try:
        st = file.stat()  # follows symlinks: a link to /dev/zero is a device
    except OSError as err:
        raise LoadError(Pos(display), f"无法读取文件：{_os_reason(err)}") from None
    if not stat.S_ISREG(st.st_mode):
        raise LoadError(
            Pos(display), f"这不是普通文件，而是{_special(st.st_mode)}：请换成普通的 YAML 文本文件"
        )
    if inside is not None:
        target = _resolved(file)
        if not target.is_relative_to(_real_folder(str(inside))):
            raise LoadError(
                Pos(display),
                f"这是指向仓库以外（{target}）的符号链接：请把文件本身放进仓库，不要用链接",
            )
    def too_big(size: int) -> LoadError:
        return LoadError(
            Pos(display),
            f"文件有 {size // 1024} KB，超过 {MAX_BYTES // 1_000_000} MB 上限："
            "一个活动一个文件，图片不要写进 YAML",
        )

    if st.st_size > MAX_BYTES:
        raise too_big(st.st_size)
    try:
        # O_NONBLOCK: should the file be swapped for a FIFO after the stat, open still returns
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as err:
        raise LoadError(Pos(display), f"无法读取文件：{_os_reason(err)}") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise LoadError(Pos(display), "这不是普通文件：请换成普通的 YAML 文本文件")
        # Sized by the file, one byte over to notice one that grew since: a read of MAX_BYTES
        # allocated (and gave back) a megabyte for every file, 20 µs against 5 µs. Bounded even
        # if the file grows while it is read.
        want = min(st.st_size, MAX_BYTES) + 1
        data = fh.read(want)
        if len(data) == want and want <= MAX_BYTES:
            data += fh.read(MAX_BYTES + 1 - want)
    if len(data) > MAX_BYTES:
        raise too_big(len(data))
    return data


@lru_cache(maxsize=4096)
def _real_folder(folder: str) -> Path:
    """A folder with every link in its path resolved, once per folder: resolving a path lstats
    each of its parts, and a national campaign's 200,000 files share a few thousand folders."""
    return Path(folder).resolve()


def forget_folders() -> None:
    """Resolve folders anew from here on: each read of the repository starts with this, so that
    a long-lived process (kepu serve) sees a folder that became a link since its last read."""
    _real_folder.cache_clear()


def _resolved(file: Path) -> Path:
    """``file`` with links resolved (Path.resolve), the folder part from _real_folder."""
    try:
        if not stat.S_ISLNK(os.lstat(file).st_mode):
            return _real_folder(str(file.parent)) / file.name
    except OSError:
        pass
    return file.resolve()


def _os_reason(err: OSError) -> str:
    reasons = {
        errno.ENOENT: "文件不存在（可能是指向不存在文件的符号链接）",
        errno.EACCES: "没有读取权限",
        errno.ELOOP: "符号链接循环指向自身",
        errno.EISDIR: "这是一个文件夹",
    }
    return reasons.get(err.errno or 0, err.strerror or str(err))


def read_yaml(file: Path, display: str, problems: Problems, inside: Path | None = None) -> YNode | None:
    try:
        text = decode(read_bytes(file, display, inside), display)
    except LoadError as err:
        problems.error(err.pos, err.message)
        return None
    except OSError as err:
        problems.error(Pos(display), f"无法读取文件：{_os_reason(err)}")
        return None
    if "\t" in text and re.search(r"^\t", text, re.M):
        line = text[: text.index("\t")].count("\n") + 1
        problems.error(Pos(display, line, 1), "不能用 Tab 键缩进，请改用空格")
        return None
    return parse_text(text, display, problems)
