"""`kepu import`: sheet rows converted and checked, planned as new or updated activity files, checked
by the real validator in a staging copy, then written."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from ..convert import FULLWIDTH, SLUG_RE, parse_when, suggest
from ..load import LoadError, decode
from ..model import Campaign, When
from ..problems import Problem
from ..validate import display, read_site
from .match import (
    ALIASES,
    FALSE_WORDS,
    LEVEL_WORDS,
    STATUS_WORDS,
    SYSTEM_WORDS,
    TRUE_WORDS,
    Column,
    field_type,
    find_header,
    infer_system,
    level_of,
    load_system_rules,
    match_name,
    mode_of,
    parse_maps,
    split_list,
    status_of,
    system_of,
)
from .slugs import Namer
from .tables import HEADER_SCAN, MIN_HEADERS, SheetError, Table, cell_text, read_tables
from .timeparse import Span, cell_span, resolve_times
from .yamlwrite import DELETE, dump, merge, normalize, ordered, splice, when_text_iso

# ---- rows -----------------------------------------------------------------------------------


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
    title: str = ""
    named: bool = False  # the id was chosen here (no 活动编号 in the sheet): staff should review it
    private_contact: bool = False  # has a contact that is not published
    inferred: tuple[str, str | None] | None = None  # (organiser, system) when the sheet did not say


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
    """Two-phase, like the validator: every row is converted and checked first; then the good rows
    are written into a staging copy of the campaign and run through the real validator
    (`validate.read_site`). Only files that pass are copied into the repository, and a last check
    there undoes any that would not."""

    def __init__(self, root: Path, cid: str, update: bool, dry_run: bool, public_contacts: bool = False):
        self.root, self.cid, self.update, self.dry_run = root, cid, update, dry_run
        self.public_contacts = public_contacts
        self.c, problems = load_campaign(root, cid)
        self.namer = Namer(self.c)
        self.system_rules = load_system_rules(root)
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
            for col in columns:
                if codes := table.removed.get((number, col.index)):
                    row.warnings.append(f"{col.label}：删除了看不见的控制字符 {codes}"
                                        "（多半来自复制粘贴，请核对这一格的内容）")
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
            plan = (self._plan_update(row, target, notes, res) if target is not None
                    else self._plan_new(row, file_name, notes, res))
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

    def _plan_update(self, row: Row, target: Existing, notes: list[Note],
                     res: ImportResult) -> Planned | None:
        """The existing file with the row's values merged in; None when nothing changes or it cannot be."""
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
        if isinstance(new.get("contact"), dict) and any(k.startswith("contact.") for k in row.values):
            self._contact(new)
        inferred = None
        if not new.get("organizer_system") and new.get("organizer") and "organizer" in row.values:
            system = infer_system(new["organizer"], self.system_rules)
            inferred = (new["organizer"], system)
            if system:
                new["organizer_system"] = system
        changed = [k for k in new if k not in old or normalize(old[k]) != normalize(new[k])]
        changed += [k for k in old if k not in new]
        if not changed:
            res.unchanged.append((row.number, target.rel))
            return None
        try:
            return Planned(row.number, target.rel, splice(text, old, new), text, changed, row.title,
                           private_contact=_private(new), inferred=inferred)
        except ValueError as err:
            notes.append(Note(row.number, "error", str(err)))
            res.skipped.add(row.number)
            return None

    def _plan_new(self, row: Row, file_name: str, notes: list[Note], res: ImportResult) -> Planned | None:
        """A new file under the row's district, named from its 活动编号 or title."""
        district = row.district or ""
        venue = row.values.get("venue.name")
        slug = row.slug or self.namer.choose(row.title, row.district, row.first_day,
                                             venue if isinstance(venue, str) else None, self.taken)
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
            self._contact(data)
        inferred = None
        if "organizer_system" not in data and data.get("organizer"):
            system = infer_system(data["organizer"], self.system_rules)
            inferred = (data["organizer"], system)
            if system:
                data["organizer_system"] = system
        try:
            comments = [_schema_comment(rel), f"由 kepu import 从 {file_name} 第 {row.number} 行导入"]
            text = dump(ordered(data), comments)
        except ValueError as err:
            notes.append(Note(row.number, "error", str(err)))
            res.skipped.add(row.number)
            return None
        return Planned(row.number, rel, text, None, title=row.title, named=not row.slug,
                       private_contact=_private(data), inferred=inferred)

    def _contact(self, data: dict[str, Any]) -> None:
        """Contacts are private unless the sheet's column or --public-contacts says otherwise."""
        contact = data["contact"]
        if set(contact) <= {"public"}:  # 公开联系方式 filled in, but no contact to publish
            del data["contact"]
            return
        contact.setdefault("public", self.public_contacts)

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


def _private(data: dict[str, Any]) -> bool:
    contact = data.get("contact")
    return isinstance(contact, dict) and contact.get("public") is False


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
               district: str | None = None, category: str | None = None,
               public_contacts: bool = False) -> ImportResult:
    """Everything `kepu import` does; raises SheetError for a problem with the whole input."""
    mapping = parse_maps(maps)
    importer = Importer(root, cid, update, dry_run, public_contacts)
    c = importer.c
    if district and district not in c.districts:
        found = match_name(district, c.districts)
        if found is None:
            raise SheetError(f"--district {district}：没有这个辖区{suggest(district, list(c.districts))}")
        district = found
    tables = read_tables(file, shown, sheet)
    hidden = [t.sheet for t in tables if t.hidden and not t.rows]
    found_header = [(t, h) for t in tables if (h := find_header(t, mapping))]
    if not found_header:
        known = "、".join(names[0] for _, names in ALIASES[:12])
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
    if hidden:
        res.notes.insert(0, Note(0, "info", f"隐藏的工作表 {'、'.join(map(str, hidden))} 没有读取"
                                 "（需要时用 --sheet 指定）"))
    others = [t.sheet for t, _ in found_header[1:] if t.sheet]
    if others and sheet is None:
        res.notes.insert(0, Note(0, "info", f"只导入了工作表“{table.sheet}”；"
                                 f"{'、'.join(others)} 也像活动表，需要时用 --sheet 指定"))
    return res
