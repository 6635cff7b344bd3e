"""Staff workflow commands: `kepu import`, `export`, `new`, `stats`, `codeowners` (issue 5).

cli.py registers them through ``add_commands(add)``. Everything staff read is Chinese and names
the file, the sheet row and the column; problems with the input are messages and exit codes,
never tracebacks. The logic lives in importer.py and export.py (with tables, match, timeparse,
yamlwrite and slugs) and scaffold.py (new). openpyxl and pypinyin, and importer, export and
outputs.data, are imported inside the functions that use them, so `kepu check`, which loads this
module through cli.py, does not load them.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .. import branding
from ..convert import SLUG_RE, slug_hint, suggest
from ..model import Activity, Campaign
from ..outputs.cells import append_row, csv_row
from ..outputs.text import when_text
from ..problems import Problems, shown
from ..repo import find_root
from ..rules import report_deadline
from ..validate import display, owner_handles, read_site
from .match import ALIASES, SPECIAL, SYSTEM_RULES, match_name
from .scaffold import activity_text, campaign_text
from .slugs import Namer, unique_slug
from .tables import SheetError

if TYPE_CHECKING:
    from ..outputs.data import Stats
    from .importer import Planned

Add = Callable[[str, str, Callable[[argparse.Namespace], int]], argparse.ArgumentParser]


def _fail(message: str, where: str = "") -> int:
    print(f"{where + ': ' if where else ''}错误: {message}", file=sys.stderr)
    return 2


# ---- import / export ------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
    if not args.campaign:
        return _fail("请用 --campaign 指定专题编号，如 --campaign 2022-changzhou-kepuri")
    from .importer import run_import

    try:
        res = run_import(
            find_root(), Path(args.file), args.file, args.campaign, maps=args.map, sheet=args.sheet,
            update=args.update, dry_run=args.dry_run, district=args.district, category=args.category,
            public_contacts=args.public_contacts,
        )
    except SheetError as err:
        return _fail(str(err), args.file)
    except OSError as err:
        return _fail(f"无法读写文件：{err.strerror}（{err.filename}）", args.file)
    word = {"error": "错误", "warning": "警告", "info": "提示"}
    for note in (n for n in res.notes if n.row == 0):
        print(f"{args.file}: {word[note.level]}: {note.text}")
    will = "将" if args.dry_run else ""
    lines: list[tuple[int, int, str]] = []  # (row, order, text): each row's messages together
    for note in res.notes:
        if note.row:
            lines.append((note.row, 0, f"{res.table.where(note.row)}: {word[note.level]}: {note.text}"))
    for p in res.written:
        lines.append((p.row, 1, f"{will}写入 {p.rel}（第 {p.row} 行）"))
    for p in res.updated:
        lines.append((p.row, 1, f"{will}更新 {p.rel}（第 {p.row} 行；改动：{'、'.join(p.changed)}）"))
    for _, _, line in sorted(lines, key=lambda x: (x[0], x[1])):
        print(line)
    _print_ids(res.written, will)
    summary = f"写入 {len(res.written)} 个，更新 {len(res.updated)} 个，跳过 {len(res.skipped)} 行"
    if res.unchanged:
        summary += f"（另有 {len(res.unchanged)} 行与现有文件相同，没有改动）"
    print(f"试运行，没有写入任何文件：{summary}" if args.dry_run else summary)
    done = res.written + res.updated
    private = sum(p.private_contact for p in done)
    if private:
        print(f"联系方式：{private} 个活动的联系人和电话{will}不公开（contact.public: false）；要公开，"
              "在表格加“公开联系方式”列填“是”，或导入时加 --public-contacts")
    _print_systems(done)
    return 1 if res.failed else 0


def _print_ids(written: list[Planned], will: str) -> None:
    """The ids chosen for new activities: they become permanent URLs, so staff check them first."""
    named = [p for p in written if p.named]
    if not named:
        return
    rows = [("文件", "活动编号", "活动名称")] + [(p.rel, Path(p.rel).stem, p.title) for p in named]
    widths = [max(_width(r[i]) for r in rows) for i in range(2)]
    print(f"\n{will}新建活动的编号（会成为活动页的永久网址，第一次合并前请逐个检查；要换，"
          "在表格加“活动编号”列写上想要的编号再导入，或直接改文件名）：")
    for r in rows:
        print("  " + "  ".join(f"{r[i]}{' ' * (widths[i] - _width(r[i]))}" for i in range(2)) + "  " + r[2])
    print()


def _print_systems(done: list[Planned]) -> None:
    """Organiser systems inferred from names (campaigns/organizer_systems.yml)."""
    inferred = [p.inferred for p in done if p.inferred]
    if not inferred:
        return
    counts = Counter(system for _, system in inferred)
    line = (f"主办单位系统：表格没有填写的 {len(inferred)} 个按单位名称推断（{SYSTEM_RULES}），"
            f"科协系统 {counts['kexie']} 个，其他系统 {counts['other']} 个")
    unknown = sorted({name for name, system in inferred if system is None})
    if unknown:
        line += (f"，{counts[None]} 个无法判断、没有填写：{'、'.join(unknown)}"
                 "（请在表格“主办单位类型”列写“科协系统”或“其他系统”）")
    print(line)


def _load(cid: str | None) -> tuple[Campaign, int] | int:
    """The campaign for export/stats, and how many of its activity files were left out."""
    if not cid:
        return _fail("请用 --campaign 指定专题编号，如 --campaign 2022-changzhou-kepuri")
    from .importer import load_campaign

    try:
        c, problems = load_campaign(find_root(), cid)
    except SheetError as err:
        return _fail(str(err))
    broken = {p.pos.path for p in problems if p.level == "error"}
    if broken:
        print(f"警告: {len(broken)} 个活动文件有错误，没有计入（运行 kepu check campaigns/{cid} 查看）",
              file=sys.stderr)
    return c, len(broken)


def cmd_export(args: argparse.Namespace) -> int:
    loaded = _load(args.campaign)
    if isinstance(loaded, int):
        return loaded
    c = loaded[0]
    out = Path(args.output or f"{c.id}-活动.xlsx")
    if out.suffix.lower() != ".xlsx":
        return _fail("只能导出为 .xlsx 文件", str(out))
    from .export import export_xlsx

    try:
        n = export_xlsx(c, out)
    except OSError as err:
        return _fail(f"无法写入：{err.strerror}", str(out))
    print(f"已导出 {n} 个活动到 {out}（最后一列“活动编号”用于导入时对应原文件，请不要修改）")
    return 0


# ---- stats ----------------------------------------------------------------------------------

Figure = tuple[str, str, Any]  # (group, item, value)


def media_outlets(activities: list[Activity]) -> int:
    """参与媒体数量: distinct sites among the report links (data.Stats counts links only)."""
    hosts = {urlsplit(u).hostname for a in activities if a.report for u in a.report.media}
    return len(hosts - {None})


def sessions(a: Activity) -> int:
    """A repeating activity counts each session; a multi-day exhibition is one activity."""
    return len(a.occurrence_days()) if a.recurrence else 1


def figures(c: Campaign) -> tuple[list[Figure], list[Activity], date]:
    from ..outputs.data import campaign_stats

    s = campaign_stats(c)
    live = [a for a in c.activities if a.status != "cancelled"]
    rows: list[Figure] = [
        ("总体", "活动（项，不含已取消）", s.total),
        ("总体", "已取消（不计入）", s.cancelled),
        ("总体", "活动场次（重复活动按场计）", sum(sessions(a) for a in live)),
    ]
    rows += [("按辖区", name, n) for name, n in s.by_district]
    rows += [("按类别", name, n) for name, n in s.by_category]
    rows += [("按主办单位系统", name, n) for name, n in s.by_system]
    rows.append(("按主办单位系统", "科协系统以外的占比", share_text(s)))
    rows += [("按活动形式", name, n) for name, n in s.by_mode]
    rows += [("按重点人群", name, n) for name, n in s.by_audience]
    # the after-event part follows the 开展情况统计表 of the 新乡 notice (新科协〔2022〕10号)
    rows += [
        ("活动后数据", "已填写活动后数据的活动", f"{s.reported} / {s.total}"),
        ("科普活动开展次数", "举办活动次数", s.total),
        ("科普工作人员参与数量", "招募科技志愿者数量", s.volunteers),
        ("科普活动群众参与数量", "线下活动群众参与数量", s.participants_offline),
        ("科普活动群众参与数量", "线上活动群众参与数量", s.participants_online),
        ("宣传报道情况", "参与媒体数量", media_outlets(live)),
        ("宣传报道情况", "宣传报道数量", s.media),
    ]
    due = report_deadline(c)
    return rows, s.missing_report, due


def share_text(s: Stats) -> str:
    """The share outside the 科协 system, never claiming the 20% rule is met when the activities
    without organizer_system could change the answer."""
    if s.outside_share is None:
        return "无法计算：活动都没有填写 organizer_system"
    share = f"{s.outside_share:.1%}"
    if not s.unknown_system:
        return f"{share}（{'达到' if s.share_verdict == 'met' else '未达到'} 20% 的要求）"
    share += f"（{s.unknown_system} 项未填写，占比按已填写的计算）"
    if s.share_verdict == "met":
        return share + f"；未填写的即使都属科协系统也有 {s.share_low:.1%}，达到 20% 的要求"
    if s.share_verdict == "unmet":
        return share + f"；未填写的即使都不属科协系统也只有 {s.share_high:.1%}，未达到 20% 的要求"
    return share + (f"；是否达到 20% 的要求无法判断：未填写的都属科协系统时只有 {s.share_low:.1%}，"
                    f"都不属时为 {s.share_high:.1%}，请补填 organizer_system")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _missing_line(a: Activity) -> list[str]:
    c = a.campaign
    state = f"（{a.status_word}）" if a.status_word else ""
    return [c.districts.get(a.district, a.district), a.title + state, when_text(a), display(Path(a.pos.path))]


def stats_table(c: Campaign, today: date) -> str:
    rows, missing, due = figures(c)
    out = [f"{c.title}（{c.id}）活动统计", ""]
    width = max(_width(item) for _, item, _ in rows) + 2
    group = None
    for g, item, value in rows:
        if g != group:
            out.append(g)
            group = g
        out.append(f"  {item}{' ' * (width - _width(item))}{value}")
    late = "，已过截止日期" if today > due else ""
    out += ["", f"尚未填写活动后数据（report）的活动：{len(missing)} 项（截止 {due}{late}）"]
    out += ["  " + "  ".join(_missing_line(a)) for a in missing]
    return "\n".join(out) + "\n"


def stats_csv(c: Campaign) -> bytes:
    rows, missing, _ = figures(c)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["分组", "项目", "数值"])
    w.writerows(csv_row(list(r)) for r in rows)
    for a in missing:
        district, title, _, path = _missing_line(a)
        w.writerow(csv_row(["尚未填写活动后数据", f"{district} {title}", path]))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel then reads UTF-8 Chinese


def stats_xlsx(c: Campaign, out: Path) -> None:
    import openpyxl
    from openpyxl.styles import Alignment, Font

    rows, missing, due = figures(c)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "活动统计"
    append_row(ws, [f"{c.title} 活动统计"])
    ws.append(["分组", "项目", "数值"])
    start = 3
    for i, (g, item, value) in enumerate(rows, 3):
        append_row(ws, [g, item, value])
        last = i + 1 == len(rows) + 3 or rows[i - 2][0] != g
        if last:  # group cells merged, as in the paper 统计表
            if i > start:
                ws.merge_cells(start_row=start, start_column=1, end_row=i, end_column=1)
            ws.cell(start, 1).alignment = Alignment(vertical="center")
            start = i + 1
    for cell in (ws["A1"], ws["A2"], ws["B2"], ws["C2"]):
        cell.font = Font(bold=True)
    for letter, width in zip("ABC", (22, 30, 36), strict=True):
        ws.column_dimensions[letter].width = width
    ws2 = wb.create_sheet("待补充活动后数据")
    ws2.append([f"尚未填写活动后数据的活动（截止 {due}）"])
    ws2.append(["辖区", "活动名称", "时间", "文件"])
    for a in missing:
        append_row(ws2, _missing_line(a))
    for letter, width in zip("ABCD", (14, 48, 28, 70), strict=True):
        ws2.column_dimensions[letter].width = width
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)


def cmd_stats(args: argparse.Namespace) -> int:
    loaded = _load(args.campaign)
    if isinstance(loaded, int):
        return loaded
    c = loaded[0]
    fmt = args.format
    if fmt is None:
        suffix = Path(args.output).suffix.lower() if args.output else ""
        fmt = {".xlsx": "xlsx", ".csv": "csv"}.get(suffix, "table")
    out = Path(args.output) if args.output else None
    try:
        if fmt == "xlsx":
            out = out or Path(f"{c.id}-统计.xlsx")
            stats_xlsx(c, out)
        elif fmt == "csv":
            data = stats_csv(c)
            if out is None:
                sys.stdout.write(data.decode("utf-8-sig"))
                return 0
            out.write_bytes(data)
        else:
            text = stats_table(c, date.today())
            if out is None:
                sys.stdout.write(text)
                return 0
            out.write_text(text, encoding="utf-8")
    except OSError as err:
        return _fail(f"无法写入：{err.strerror}", str(out))
    print(f"统计表已写入 {out}")
    return 0


# ---- new ------------------------------------------------------------------------------------


def _checked_write(root: Path, file: Path, text: str) -> int:
    """Write a scaffold, then run the real validator on it; a file that fails is removed."""
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")
    _, problems = read_site(root, [file])
    errors = problems.errors
    if errors:
        file.unlink()
        for p in problems.sorted():
            print(p.format(), file=sys.stderr)
        return _fail(f"生成的文件没有通过检查，已删除：{display(file)}")
    print(f"已生成 {display(file)}：请按注释修改，改完运行 kepu check")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    print("用法：kepu new campaign 专题编号，或 "
          "kepu new activity --campaign 专题编号 --district 辖区 [活动编号]", file=sys.stderr)
    return 2


def cmd_new_campaign(args: argparse.Namespace) -> int:
    root = find_root()
    cid = args.id
    if not SLUG_RE.match(cid):
        return _fail(f"专题编号“{cid}”只能用小写英文字母、数字和连字符{slug_hint(cid)}")
    file = root / "campaigns" / cid / "campaign.yml"
    if file.exists():
        return _fail("文件已存在，没有覆盖", display(file))
    problems = Problems()
    brands = branding.read_brands(root / "campaigns" / "brands.yml", "campaigns/brands.yml", problems)
    if problems.errors or not brands:
        return _fail("campaigns/brands.yml 缺失或有错误，请先修复（kepu check）")
    brand = args.brand or next((b for b in sorted(brands, key=len, reverse=True)
                                if cid.endswith(f"-{b}") or f"-{b}-" in cid), None)
    if brand not in brands:
        names = "、".join(f"{k}（{b.name}）" for k, b in brands.items())
        hint = suggest(brand, brands) if brand else f"；可用的有：{names}"
        return _fail(f"{'没有品牌 ' + brand if brand else '无法从编号看出活动品牌'}：请用 --brand 指定{hint}")
    m = re.match(r"(\d{4})-", cid)
    year = args.year or (int(m[1]) if m else None)
    if year is None:
        return _fail("无法从编号看出年份：请用 --year 指定，或让编号以年份开头，如 2024-wuhu-kepuri")
    text = campaign_text(root, cid, brand, brands[brand], brands, year, args.region or "××市", args.title)
    return _checked_write(root, file, text)


def cmd_new_activity(args: argparse.Namespace) -> int:
    if not args.campaign or not args.district:
        return _fail("请用 --campaign 和 --district 指定专题和辖区，"
                     "如 --campaign 2022-changzhou-kepuri --district wujin")
    root = find_root()
    from .importer import load_campaign

    try:
        c, _ = load_campaign(root, args.campaign)
    except SheetError as err:
        return _fail(str(err))
    district = match_name(args.district, c.districts)
    if district is None:
        return _fail(f"没有辖区 {args.district}{suggest(args.district, list(c.districts))}")
    folder = root / "campaigns" / c.id / "activities" / district
    taken = {p.stem for p in folder.parent.rglob("*.y*ml")} | {a.slug for a in c.activities}
    # the same naming as kepu import: the campaign's and district's words are already in the path
    slug = args.slug or (Namer(c).choose(args.title, district, None, None, taken) if args.title
                         else unique_slug("xin-huodong", taken))
    if not SLUG_RE.match(slug):
        return _fail(f"活动编号“{slug}”只能用小写英文字母、数字和连字符{slug_hint(slug)}")
    file = folder / f"{slug}.yml"
    if file.exists() or slug in taken:
        return _fail(f"活动编号 {slug} 已经有文件了，没有覆盖：请换一个编号", display(file))
    return _checked_write(root, file, activity_text(root, c, district, slug, args.title))


# ---- codeowners -----------------------------------------------------------------------------

CODEOWNERS = Path(".github") / "CODEOWNERS"


def codeowners_text(campaigns: list[Campaign]) -> tuple[str, list[str]]:
    """The CODEOWNERS file and the problems in owners entries. Only validated owner handles and
    slug paths are written; the campaign title goes into a comment on one line, so no title can
    add a rule of its own."""
    lines = [
        "# 由 kepu codeowners 根据各专题 campaign.yml 的 owners 生成，请不要手工修改：",
        "# 改 owners 后运行 kepu codeowners 重新生成（CI 用 kepu codeowners --check 检查）。",
        "# 每个辖区文件夹里的活动文件，由对应的 GitHub 团队审核合并请求。",
    ]
    problems = []
    for c in sorted(campaigns, key=lambda c: c.id):
        if not c.owners:
            continue
        lines += ["", f"# {c.id}：{shown(' '.join(c.title.split()))}"]
        for district in c.districts:
            if district not in c.owners:
                continue
            teams, bad = owner_handles(c.owners[district])
            if bad or not (SLUG_RE.match(c.id) and SLUG_RE.match(district)):
                problems.append(
                    f"campaigns/{shown(c.id)}/campaign.yml: 错误: owners.{shown(district)}："
                    f"“{shown(c.owners[district])}”不是 GitHub 用户或团队：请写成 \"@组织/团队\" 或 "
                    "\"@用户名\"（要加引号）"
                )
                continue
            lines.append(f"/campaigns/{c.id}/activities/{district}/ {' '.join(teams)}")
    return "\n".join(lines) + "\n", problems


def cmd_codeowners(args: argparse.Namespace) -> int:
    root = find_root()
    site, problems = read_site(root)
    bad = [p for p in problems.errors if p.pos.path.endswith(("campaign.yml", "brands.yml"))]
    for p in bad:
        print(p.format(), file=sys.stderr)
    if bad:  # invalid owners are among them: bad input, exit 1 as kepu check does
        _fail("campaign.yml 有错误，owners 可能不完整：请先修复（kepu check）")
        return 1
    text, owner_problems = codeowners_text(site.campaigns)
    for line in owner_problems:
        print(line, file=sys.stderr)
    if owner_problems:
        return 1
    file = root / CODEOWNERS
    current = file.read_text(encoding="utf-8") if file.is_file() else None
    if args.check:
        if current != text:
            print(f"{CODEOWNERS.as_posix()}: 错误: 与各专题的 owners 不一致：请运行 kepu codeowners 并提交")
            return 1
        print(f"{CODEOWNERS.as_posix()} 是最新的")
        return 0
    if current == text:
        print(f"{CODEOWNERS.as_posix()} 已是最新，没有改动")
        return 0
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")
    print(f"已写入 {CODEOWNERS.as_posix()}")
    return 0


# ---- registration with cli.py ---------------------------------------------------------------


def _import_help() -> str:
    lines = ["能识别的列名（表头行前面的标题行会自动跳过）："]
    for key, names in ALIASES:
        lines.append(f"  {'、'.join(names)} → {SPECIAL.get(key, key)}")
    lines.append("其他列可用 --map 列名=字段 导入，如 --map 备注=description --map 经度=venue.lng")
    return "\n".join(lines)


def add_commands(add: Add) -> None:
    p = add("import", "把活动表格（.xlsx 或 .csv）转成活动文件，逐行报告问题", cmd_import)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = _import_help()
    p.add_argument("file", metavar="FILE", help="表格文件：.xlsx，或 UTF-8/GBK 编码的 .csv")
    p.add_argument("--campaign", metavar="ID", help="专题编号，如 2022-changzhou-kepuri（必填）")
    p.add_argument("--map", action="append", default=[], metavar="列名=字段",
                   help="指定列对应的字段，可写多次")
    p.add_argument("--sheet", metavar="NAME",
                   help="工作表名称（默认：第一个有表头的可见工作表；隐藏的工作表只在这里指定时导入）")
    p.add_argument("--dry-run", action="store_true", help="只显示会写入、更新和跳过什么，不写文件")
    p.add_argument("--update", action="store_true", help="已有的活动文件，用表格里有的列更新（其他字段保留）")
    p.add_argument("--district", metavar="D", help="表格没有“所属区县”列时，全部放进这个辖区")
    p.add_argument("--category", metavar="C", help="表格没有“活动类别”列时，全部用这个类别")
    p.add_argument("--public-contacts", action="store_true",
                   help="联系人和电话默认不公开；加这个选项则公开（表格的“公开联系方式”列优先）")

    p = add("export", "把专题的活动导出为 .xlsx 表格（可改后用 kepu import --update 导回）", cmd_export)
    p.add_argument("--campaign", metavar="ID", help="专题编号（必填）")
    p.add_argument("-o", "--output", metavar="FILE.xlsx", help="输出文件，默认 <专题编号>-活动.xlsx")

    p = add("stats", "专题的活动统计：按辖区、类别、主办单位系统、线上线下、人群，及活动后数据", cmd_stats)
    p.add_argument("--campaign", metavar="ID", help="专题编号（必填）")
    p.add_argument("--format", choices=["table", "csv", "xlsx"],
                   help="默认 table；xlsx 默认写入 <专题编号>-统计.xlsx")
    p.add_argument("-o", "--output", metavar="FILE", help="写入文件（按扩展名选择格式）")

    p = add("new", "新建专题或活动文件（带全部字段的中文说明，生成后即可通过检查）", cmd_new)
    sub = p.add_subparsers(dest="kind", metavar="campaign|activity")
    q = sub.add_parser("campaign", help="新建专题 campaigns/<编号>/campaign.yml",
                       description="新建专题 campaigns/<编号>/campaign.yml（草稿）")
    q.set_defaults(func=cmd_new_campaign)
    q.add_argument("id", metavar="ID", help="专题编号，如 2024-wuhu-kepuri（年份-地区-品牌）")
    q.add_argument("--brand", help="品牌编号（默认从编号末尾看出，如 kepuri）")
    q.add_argument("--year", type=int, help="年份（默认从编号开头看出）")
    q.add_argument("--region", help="覆盖地区，如 芜湖市")
    q.add_argument("--title", help="活动全称")
    q = sub.add_parser("activity", help="新建活动文件 activities/<辖区>/<活动编号>.yml",
                       description="新建活动文件 campaigns/<专题>/activities/<辖区>/<活动编号>.yml")
    q.set_defaults(func=cmd_new_activity)
    q.add_argument("slug", nargs="?", metavar="SLUG",
                   help="活动编号（小写拼音和连字符；默认由 --title 生成）")
    q.add_argument("--campaign", metavar="ID", help="专题编号（必填）")
    q.add_argument("--district", metavar="D", help="辖区编号或名称（必填）")
    q.add_argument("--title", help="活动名称（写进文件，并用来生成活动编号）")

    p = add("codeowners", "按各专题 campaign.yml 的 owners 生成 .github/CODEOWNERS", cmd_codeowners)
    p.add_argument("--check", action="store_true", help="只检查是否最新；不是最新时退出码为 1")
