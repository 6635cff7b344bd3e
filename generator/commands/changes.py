"""`kepu changes --base REV`: what a pull request changes for visitors, as Markdown.

The check workflow appends it to the job summary ($GITHUB_STEP_SUMMARY): activities added,
changed, cancelled or removed, with their dates and districts, then the problems of the changed
files, so a reviewer sees the effect of a pull request without reading YAML.
"""

from __future__ import annotations

import argparse
import html
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..model import Activity
from ..outputs.text import when_text
from ..repo import find_root
from ..validate import display, read_site

Add = Callable[[str, str, Callable[[argparse.Namespace], int]], argparse.ArgumentParser]

ACTIVITY_FILE = re.compile(r"^campaigns/[^/]+/activities/.+\.ya?ml$")
KIND_ORDER = {"新增": 0, "取消": 1, "延期": 2, "修改": 3, "删除": 4}


def md_cell(text: str) -> str:
    """Text for one cell of a Markdown table: one line, no table or inline markup, no HTML
    (a title like ``A|B <b>`` must stay one cell of plain text)."""
    text = " ".join(str(text).split())
    text = html.escape(text, quote=False)
    return re.sub(r"([\\`*_\[\]|~#!])", r"\\\1", text)


@dataclass
class Change:
    kind: str
    path: str
    title: str
    when: str = ""
    district: str = ""


def _git(root: Path, *args: str) -> str:
    res = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, encoding="utf-8")
    if res.returncode != 0:
        raise RuntimeError(res.stderr.strip() or f"git {' '.join(args)} 失败")
    return res.stdout


def _old(root: Path, base: str, path: str) -> dict:
    try:
        data = yaml.safe_load(_git(root, "show", f"{base}:{path}"))
    except (RuntimeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def changed_files(root: Path, base: str) -> list[tuple[str, str, str]]:
    """(status letter, old path, new path) of activity files changed since the merge base."""
    out = []
    for line in _git(root, "diff", "--name-status", "-M", f"{base}...HEAD", "--", "campaigns").splitlines():
        status, *paths = line.split("\t")
        old, new = paths[0], paths[-1]
        if ACTIVITY_FILE.match(new) or ACTIVITY_FILE.match(old):
            out.append((status[0], old, new))
    return out


def changes(root: Path, base: str) -> tuple[list[Change], list[str]]:
    files = changed_files(root, base)
    present = [root / new for st, _old_path, new in files if st != "D" and (root / new).is_file()]
    by_path: dict[str, Activity] = {}
    warnings: list[str] = []
    if present:
        site, problems = read_site(root, present)
        for c in site.campaigns:
            for a in c.activities:
                by_path[display(Path(a.pos.path))] = a
        shown = {display(p) for p in present}
        warnings = [p.format() for p in problems.sorted() if p.pos.path in shown]
    out: list[Change] = []
    for status, old_path, new_path in files:
        if status == "D":
            old = _old(root, base, old_path)
            cid, _acts, did = old_path.split("/")[1:4]  # campaigns/<campaign>/activities/<district>/…
            names = _old(root, base, f"campaigns/{cid}/campaign.yml").get("districts") or {}
            district = str(names.get(did, did)) if isinstance(names, dict) else did
            title, start = str(old.get("title", "")), str(old.get("start", ""))
            out.append(Change("删除", old_path, title, start, district))
            continue
        a = by_path.get(display(root / new_path))
        if a is None:  # has errors: listed below the table
            out.append(Change("有错误", new_path, ""))
            continue
        was = _old(root, base, old_path).get("status", "scheduled") if status != "A" else None
        if status == "A":
            kind = "新增"
        elif a.status != was and a.status == "cancelled":
            kind = "取消"
        elif a.status != was and a.status == "postponed":
            kind = "延期"
        else:
            kind = "修改"
        district = a.campaign.districts.get(a.district, a.district)
        out.append(Change(kind, new_path, a.title, when_text(a), district))
    out.sort(key=lambda ch: (KIND_ORDER.get(ch.kind, 9), ch.path))
    return out, warnings


def markdown(found: list[Change], warnings: list[str]) -> str:
    lines = ["### 本次改动对访客的影响", ""]
    if not found:
        lines.append("没有改动活动文件。")
    else:
        counts = "，".join(f"{k} {n} 项" for k in KIND_ORDER | {"有错误": 9}
                          if (n := sum(ch.kind == k for ch in found)))
        lines += [counts, "", "| 变动 | 活动 | 日期 | 辖区 | 文件 |", "|---|---|---|---|---|"]
        lines += [f"| {ch.kind} | {md_cell(ch.title)} | {md_cell(ch.when)} | {md_cell(ch.district)} | "
                  f"{md_cell(ch.path)} |" for ch in found]
    if warnings:
        lines += ["", f"#### 改动文件的错误和警告（{len(warnings)} 条）", ""]
        lines += [f"- {md_cell(w)}" for w in warnings]
    return "\n".join(lines) + "\n"


def cmd_changes(args: argparse.Namespace) -> int:
    root = find_root()
    try:
        found, warnings = changes(root, args.base)
    except RuntimeError as err:
        print(f"错误: 读取 git 改动失败（需要完整历史，fetch-depth: 0）：{err}", file=sys.stderr)
        return 2
    sys.stdout.write(markdown(found, warnings))
    return 0


def add_changes(add: Add) -> None:
    p = add("changes", "列出相对某个提交新增、修改、取消的活动（Markdown 表格，供合并请求摘要）", cmd_changes)
    p.add_argument("--base", required=True, metavar="REV", help="比较的基准，如 origin/main")
