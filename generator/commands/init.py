"""`kepu init`: turn a checkout of this repository into a new deployment.

Sets site_name, site_url, extra.organiser and extra.icp in mkdocs.yml and removes (or keeps) the
sample campaigns. mkdocs.yml is edited line by line rather than loaded and dumped again: a dump
would drop its comments, which document the plugin options for the deployment's staff.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from ..outputs.site import EXAMPLE_SITE_URL  # not from the plugin: `kepu check` need not load MkDocs
from ..repo import find_root

Add = Callable[[str, str, Callable[[argparse.Namespace], int]], argparse.ArgumentParser]


# (argument name, mkdocs.yml key path, question)
FIELDS = [
    ("site_name", ("site_name",), "网站名称（如 某某市科普活动日历）"),
    ("site_url", ("site_url",), "网站的正式网址（如 https://kepu.某某科协.cn/）"),
    ("organiser", ("extra", "organiser"), "主办单位（页脚显示，如 某某市科学技术协会）"),
    ("icp", ("extra", "icp"), "ICP 备案号（如 京ICP备12345678号-1；还没有就留空）"),
]


class InitError(Exception):
    pass


def check_site_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InitError(f"网址“{url}”不对：应以 https:// 开头，如 https://kepu.某某科协.cn/")
    if url.rstrip("/").lower() == EXAMPLE_SITE_URL.rstrip("/"):
        raise InitError(f"{EXAMPLE_SITE_URL} 是示例网址：请填写本网站的正式网址")
    return url if url.endswith("/") else url + "/"


def _scalar(value: str) -> str:
    # JSON strings are YAML double-quoted scalars: any text (colons, #, quotes) stays one value
    return json.dumps(value, ensure_ascii=False) if value else '""'


def set_value(text: str, path: tuple[str, ...], value: str) -> str:
    """Set a top-level key, or a key of a top-level mapping (``extra.icp``), in YAML text,
    changing only that line (or adding it); comments and layout elsewhere stay as they are."""
    line = f"{path[-1]}: {_scalar(value)}"
    if len(path) == 1:
        pattern = re.compile(rf"^{re.escape(path[0])}:[^\n]*$", re.M)
        if pattern.search(text):
            return pattern.sub(lambda _: line, text, count=1)
        return f"{line}\n{text}"
    parent = re.search(rf"^{re.escape(path[0])}:[ \t]*(#[^\n]*)?\n((?:[ \t]+[^\n]*\n|[ \t]*\n)*)", text, re.M)
    if parent is None:
        return text.rstrip("\n") + f"\n\n{path[0]}:\n  {line}\n"
    block = parent.group(2)
    indent = re.match(r"[ \t]+", block).group(0) if block.strip() else "  "  # type: ignore[union-attr]
    child = re.compile(rf"^{re.escape(indent)}{re.escape(path[1])}:[^\n]*$", re.M)
    if child.search(block):
        block = child.sub(lambda _: indent + line, block, count=1)
    else:
        block = f"{indent}{line}\n{block}"
    return text[: parent.start(2)] + block + text[parent.end(2):]


def _get(config: dict, path: tuple[str, ...]) -> str:
    node: object = config
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return "" if node is None else str(node)


def sample_campaigns(root: Path) -> list[Path]:
    out = []
    for cfile in sorted((root / "campaigns").glob("*/campaign.yml")):
        try:
            data = yaml.safe_load(cfile.read_text(encoding="utf-8-sig"))
        except (OSError, yaml.YAMLError):
            continue  # kepu check reports it; a broken file is never taken for a sample
        if isinstance(data, dict) and data.get("sample") is True:
            out.append(cfile.parent)
    return out


def _ask(question: str, current: str) -> str:
    shown = f"（回车保留：{current}）" if current else ""
    answer = input(f"{question}{shown}：").strip()
    return answer or current


def cmd_init(args: argparse.Namespace) -> int:
    root = find_root()
    cfg = root / "mkdocs.yml"
    if not cfg.is_file():
        print(f"{cfg}: 错误: 找不到 mkdocs.yml（请在仓库根目录运行）", file=sys.stderr)
        return 2
    text = cfg.read_text(encoding="utf-8")
    current = yaml.safe_load(text) or {}
    interactive = sys.stdin.isatty() and not args.yes
    samples = sample_campaigns(root)
    values: dict[str, str] = {}
    try:
        for name, path, question in FIELDS:
            given = getattr(args, name)
            if given is None and interactive:
                while True:
                    answer = _ask(question, _get(current, path))
                    try:
                        given = check_site_url(answer) if name == "site_url" else answer
                        break
                    except InitError as err:
                        print(f"错误: {err}", file=sys.stderr)
            if given is None:
                given = _get(current, path)
                if name == "site_url" and given.rstrip("/").lower() in ("", EXAMPLE_SITE_URL.rstrip("/")):
                    raise InitError("请用 --site-url 指定网站的正式网址，如 --site-url https://kepu.某某科协.cn/")
            if name == "site_url":
                given = check_site_url(given)
            values[name] = given.strip()
        keep = args.samples
        if keep is None and samples:
            names = "、".join(p.name for p in samples)
            if not interactive:
                raise InitError(f"有 {len(samples)} 个示例活动专题（{names}）：请用 --keep-samples 保留"
                                "或 --drop-samples 删除")
            answer = input(f"删除 {len(samples)} 个示例活动专题（{names}）吗？[Y/n]：")
            keep = answer.strip().lower() in ("n", "no", "否")
    except InitError as err:
        print(f"错误: {err}", file=sys.stderr)
        return 2
    except EOFError:
        print("\n错误: 输入已结束，没有改动任何文件", file=sys.stderr)
        return 2

    for name, path, _question in FIELDS:
        text = set_value(text, path, values[name])
    written = yaml.safe_load(text)  # the line edits must mean what they say
    if any(_get(written, path) != values[name] for name, path, _q in FIELDS):
        print(f"{cfg}: 错误: 没能按行改写（格式与预期不同），没有改动任何文件；请手动修改", file=sys.stderr)
        return 1
    cfg.write_text(text, encoding="utf-8")
    print(f"已更新 {cfg.name}：网站名称 {values['site_name']}，网址 {values['site_url']}，"
          f"主办单位 {values['organiser'] or '（空）'}，备案号 {values['icp'] or '（空，页脚不显示）'}")
    if samples and not keep:
        for folder in samples:
            shutil.rmtree(folder)
        print(f"已删除 {len(samples)} 个示例活动专题：{'、'.join(p.name for p in samples)}")
    elif samples:
        print(f"保留了 {len(samples)} 个示例活动专题（页面上标明“示例”）")
    print("下一步：kepu new campaign <专题编号> 新建活动专题，kepu check 校验，kepu build 生成网站")
    return 0


def add_init(add: Add) -> None:
    p = add("init", "把这个仓库设为新的部署：网站名称、网址、主办单位、备案号，删除或保留示例活动", cmd_init)
    p.add_argument("--site-name", metavar="名称", help="网站名称（mkdocs.yml 的 site_name）")
    p.add_argument("--site-url", metavar="网址", help="网站的正式网址（site_url），如 https://kepu.某某科协.cn/")
    p.add_argument("--organiser", metavar="单位", help="主办单位，显示在页脚（extra.organiser）")
    p.add_argument("--icp", metavar="备案号", help="ICP 备案号，显示在页脚（extra.icp）；空字符串表示不显示")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--keep-samples", dest="samples", action="store_true", default=None,
                       help="保留示例活动专题")
    group.add_argument("--drop-samples", dest="samples", action="store_false", help="删除示例活动专题")
    p.add_argument("-y", "--yes", action="store_true", help="不提问：没给的值保持 mkdocs.yml 里原来的")
