"""Step 2, validate: read every campaign and activity into the model and check every rule.

Pelican-style two phases: everything is read and checked first and every problem collected, so a
clerk fixes ten mistakes in one round; only a clean result goes on to the page and feed steps.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import stat
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import compress
from operator import attrgetter
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import branding
from .cache import Cache, Record, Table, file_key
from .cache import key as content_key
from .convert import INVALID, SLUG_RE, Converter, slug_hint, suggest
from .load import MAX_BYTES, forget_folders, read_yaml
from .model import DEFAULT_AUDIENCES, Activity, Brand, Campaign, Category, CategorySpec, Lean, Site
from .parallel import fork_map
from .problems import Pos, Problem, Problems
from .rules import deadline_kinds, late_additions, missing_systems  # cross-file rules (late additions: git)

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
YAML_EXTS = (".yml", ".yaml")
MAX_SPAN_DAYS = 366  # a campaign's period or window: one year at most
MAX_INTERVAL = 366  # recurrence interval: every day … once a year
MAX_SESSIONS = 400  # sessions of one activity: each is a row on pages and an event in feeds
# registration capacity and reported head counts: far above any real event (an online one
# included), far below 2**53, past which JavaScript readers of the open data lose digits
MAX_COUNT = 1_000_000_000
# files whose problems `kepu check FILE` reports besides those of FILE: what every file depends on
ALWAYS_SHOWN = ("campaign.yml", "brands.yml")
# CODEOWNERS owners as GitHub spells them: @user (letters, digits, hyphens, at most 39) or
# @org/team (team slugs also have _ and .). ASCII only, so nothing else can reach .github/CODEOWNERS.
OWNER_RE = re.compile(r"@[A-Za-z0-9][A-Za-z0-9-]{0,38}(/[A-Za-z0-9_][A-Za-z0-9_.-]*)?")
OWNER_SPLIT = re.compile(r"[\s,，、]+")


def owner_handles(value: str) -> tuple[list[str], list[str]]:
    """An ``owners:`` value split into owners (spaces or commas between them), and those that
    are not a GitHub user or team."""
    owners = [t for t in OWNER_SPLIT.split(value) if t]
    if not owners:
        return [], [value]
    return owners, [t for t in owners if not OWNER_RE.fullmatch(t)]


# What `kepu check` refuses because no output could show it safely (or reading it would hang):
# the editing guide lists exactly these sentences (tests/test_docs.py) and tests/test_refuse.py
# has a failing case for every key, so the three stay in step.
REFUSALS = {
    "control": "看不见的控制字符，包括写成转义的 `\\x1b`、`\\x07`、`\\u0000`，以及不成对的代理码位"
    "（如 `\\ud800`）：任何字段都不能有。",
    "line-break": "只能写一行的字段里的换行和 Tab：除 `description`（活动介绍）以外，标题、名称、编号、"
    "主办单位、场地名称和地址、辖区和类别名称、专题标题、品牌标签等都只能写一行。",
    "year": "2000 年以前或 2100 年以后的年份和日期（专题年份、`start`、`end`、`period`、`window`、"
    "截止日期、`until`、`except` 等）。",
    "interval": "`interval` 小于 1 或大于 366。",
    "count": "超过 10 亿的名额（`capacity`）和活动后人数（`participants_offline`、`participants_online`、"
    "`volunteers`）。",
    "sessions": "按重复规则展开后超过 400 场的活动。",
    "span": "超过一年（366 天）的 `period` 或 `window`。",
    "label": "brands.yml 的 `label` 里除 `{year}`、`{edition}` 以外的花括号写法，包括格式（如 `{year:>10}`）"
    "和取属性、下标（如 `{year.real}`、`{year[0]}`）。",
    "special-file": "不是普通文件的 YAML 文件：命名管道（FIFO）、设备、套接字，以及指向它们的符号链接"
    "（如指向 `/dev/zero`）。",
    "symlink-outside": "指向仓库以外的符号链接（活动文件、campaign.yml、brands.yml）；指向仓库以内的可以。",
    "symlink-folder": "指向文件夹的符号链接（如 activities 里的辖区文件夹）：里面的活动文件不会读取，"
    "请把文件夹本身放进仓库。",
    "too-big": "超过 1 MB 的 YAML 文件。",
    "alias": "YAML 的锚点引用、别名（`*名称`）和合并键 `<<`。",
    "encoding": "不是 UTF-8 编码的文件（如 GBK）。",
}


def display(path: Path) -> str:
    """Paths in messages are relative to where staff ran the command, as editors expect."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def read_site(
    root: Path, only: list[Path] | None = None, *, parallel: bool = True, cache: Cache | None = None,
) -> tuple[Site, Problems]:
    """Read and check the repository at ``root``. ``only`` limits checking to some campaign
    folders or files (their campaign is still read whole, since rules span files). ``parallel``:
    big campaigns are read on every core (see parallel.fork_map). ``cache``: the checked model
    of files unchanged since the last build is taken from it (cache.py); when ``only`` names
    files, only what the rules spanning files need of the others (model.Lean), and the
    campaign's ``activities`` are those records."""
    problems = Problems()
    forget_folders()
    cdir = root / "campaigns"
    dirs = sorted(p for p in cdir.iterdir() if p.is_dir()) if cdir.is_dir() else []
    brands: dict[str, Brand] = {}
    if dirs or (cdir / "brands.yml").exists():  # an empty repository has nothing to brand yet
        brands = branding.read_brands(cdir / "brands.yml", display(cdir / "brands.yml"), problems)
    campaigns: list[Campaign] = []
    shown: set[str] | None = None  # files named: only their problems (and ALWAYS_SHOWN's) are reported
    if only:
        wanted = {p.resolve() for p in only}
        shown = {display(p) for p in wanted if p.is_file()} or None
        # a path selects the campaigns it is inside of, or that are inside of it (campaigns/, .)
        dirs = [
            d for d in dirs
            if any(w == d.resolve() or d.resolve() in w.parents or w in d.resolve().parents for w in wanted)
        ]
    brands_key = file_key(cdir / "brands.yml") if cache else ""
    for d in dirs:
        c = read_campaign(d, brands, problems, parallel=parallel, cache=cache, brands_key=brands_key,
                          shown=shown)
        if c is not None:
            campaigns.append(c)
    deadline_kinds(campaigns, problems)
    late_additions(root, campaigns, problems)
    missing_systems(campaigns, problems)
    if shown:  # individual files: report their problems and the campaign files they depend on
        problems.items = [
            p for p in problems.items if p.pos.path in shown or p.pos.path.endswith(ALWAYS_SHOWN)
        ]
    return Site(campaigns=campaigns, brands=brands), problems


def read_campaign(
    d: Path, brands: dict, problems: Problems, *, parallel: bool = True, cache: Cache | None = None,
    brands_key: str = "", shown: set[str] | None = None,
) -> Campaign | None:
    """``shown``: with a cache, the activity files outside it are taken from the cache's lean
    record (model.Lean), read only where that has none of their content; the campaign's
    ``activities`` are then such records, enough for the rules spanning files and no more."""
    cfile = d / "campaign.yml"
    shown_cfile = display(cfile)
    if not SLUG_RE.match(d.name):
        problems.error(
            Pos(display(d)), f"活动文件夹名“{d.name}”只能用小写英文字母、数字和连字符{slug_hint(d.name)}"
        )
    if not cfile.exists():
        problems.error(
            Pos(shown_cfile), "缺少 campaign.yml：每个活动文件夹都要有一个（可用 kepu new campaign 生成）"
        )
        return None
    tree = read_yaml(cfile, shown_cfile, problems, inside=d.parent.parent)  # the repository
    if tree is None:
        return None
    campaign = Converter(problems).convert(tree, Campaign, "")
    if campaign is INVALID:
        return None
    campaign.id = d.name
    if cache is not None:
        campaign.source_key = content_key(file_key(cfile), brands_key, d.name)
    check_campaign(campaign, problems)
    branding.apply(campaign, brands, problems)
    adir = d / "activities"
    files: list[Lean] = []  # every activity file read, for the rules spanning files
    if adir.is_dir():

        def read_one(path: Path) -> ReadResult:
            found = Problems()
            a = read_activity(path, adir, campaign, brands, found)
            if a is None:
                return None, None, found.items
            lean = Lean.of(a)
            a.campaign = None  # sent back without a copy of the campaign; reattached below
            # The file's own checks are done: positions only serve messages (about 7 KB an
            # activity, which adds up at national size), so the model keeps none; the few the
            # rules spanning files name are in its Lean record.
            a.field_pos = {}
            return a, lean, found.items

        if cache is not None and shown is not None:
            files, found = _read_lean(cache.record(f"lean-{d.name}"), campaign.source_key, adir, shown,
                                      read_one, parallel=parallel)
            problems.items += found
            check_ids(problems, files)
            # the records stand in for the models: what `kepu check` does after this (rules.py,
            # outputs.site.check_paths) reads only what they hold. Left in file order: nothing
            # said about a campaign depends on the order of its activities but check_ids'.
            campaign.activities = files  # type: ignore[assignment]
            return campaign
        # not is_file(): a FIFO, device or dangling link must be reported, not silently skipped
        paths = _files_under(adir)
        # reading and checking a file is independent of the others: both cores for big campaigns
        if cache is None:
            results = fork_map(read_one, paths, parallel=parallel, min_items=1000)
        else:
            record = cache.record(f"lean-{d.name}")  # started before any stat it records (stat_trusted)
            results = _read_cached(cache.table(f"read-{d.name}"), campaign.source_key, adir, paths, read_one,
                                   parallel=parallel, lean=record)
        for a, lean, items in results:
            problems.items.extend(items)
            if a is not None:
                a.campaign = campaign
                campaign.activities.append(a)
            if lean is not None:
                files.append(lean)
    check_ids(problems, files)
    campaign.activities.sort(key=lambda a: (a.start_key, a.district, a.slug))
    return campaign


@contextlib.contextmanager
def _no_collection() -> Iterator[None]:
    """No garbage collection while the many records a check keeps to its end are made: the
    collector would go through them again and again for nothing (a quarter of a second at
    200,000 files). Not around reading files, whose garbage it is there for."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _names_under(folder: str) -> list[str]:
    """The path under ``folder`` of everything there that is not a folder, in Path.parts order:
    each folder's entries sorted by name, a subfolder's files in its place. A link to a folder
    is listed but not entered, so that read_activity reports it rather than its activities
    going missing without a word. Strings, not
    Paths: a national campaign has 200,000 files, and a Path costs microseconds to make."""
    out: list[str] = []

    def walk(top: str, prefix: str) -> None:
        try:
            with os.scandir(top) as it:
                entries = sorted(it, key=attrgetter("name"))
        except OSError:
            return
        for e in entries:
            try:
                is_dir = e.is_dir()
            except OSError:
                is_dir = False
            if not is_dir or e.is_symlink():  # a link to a folder is listed, to be reported
                out.append(prefix + e.name)
            else:
                walk(e.path, f"{prefix}{e.name}/")

    walk(str(folder), "")
    return out


def _files_under(folder: Path) -> list[Path]:
    """Everything under ``folder`` that is not a folder, in Path order (what sorted rglob + not
    is_dir() gave), without a stat of every file (the listing has their types)."""
    return [folder / n for n in _names_under(str(folder))]


# what reading one activity file gives: its checked model, its record for the rules spanning
# files, its problems (messages, also warnings, so a cached file still shows them)
ReadResult = tuple[Activity | None, Lean | None, list[Problem]]
# The lean record of a campaign (cache.Record "lean-<campaign>"), what `kepu check FILE` takes for
# every other activity file: what the files depend on (as _read_cached's ``holds``), then per file
# in file order its path in the activities folder, stat, content key and Lean as a plain tuple
# (None: no activity), and the problems of a file that are reported whichever file is checked
# (ALWAYS_SHOWN), by path. Columns of plain values: 200,000 files load in a twentieth of a second.
LeanColumns = tuple[str, list[str], list[tuple[int, ...]], list[str], list[tuple | None],
                    dict[str, tuple[Problem, ...]]]
LeanRow = tuple[str, tuple[int, ...], str, tuple | None, tuple[Problem, ...]]


def _stat_sig(path: str) -> tuple[int, ...] | None:
    """Size, times and inode of a regular file the cache may stand for; None for anything else
    (a missing file, FIFO, device or one too big), which is always read the careful way."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_BYTES:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def _lean_row(name: str, sig: tuple[int, ...], content: str, result: ReadResult) -> LeanRow:
    lean = result[1]
    return (name, sig, content, tuple(lean) if lean is not None else None,
            tuple(p for p in result[2] if p.pos.path.endswith(ALWAYS_SHOWN)))


def _lean_columns(holds: str, rows: list[LeanRow]) -> LeanColumns:
    kept = {name: items for name, _, _, _, items in rows if items}
    return holds, *([r[k] for r in rows] for k in range(4)), kept  # type: ignore[return-value]


def _load_lean(record: Record, holds: str) -> tuple[int, LeanColumns]:
    """(mtime below which a stat in it is trusted, the columns) of the lean record, empty when
    there is none or it was made for other campaign.yml, brands.yml or working folder."""
    with _no_collection():  # 200,000 records that live to the end: nothing to collect among them
        loaded = record.load()
    if loaded is not None:
        trusted_before, value = loaded
        if isinstance(value, tuple) and len(value) == 6 and value[0] == holds:
            return trusted_before, value
    return 0, (holds, [], [], [], [], {})


def _read_cached(
    table: Table, campaign_key: str, files_root: Path, files: list[Path],
    read_one: Callable[[Path], ReadResult], *, parallel: bool, lean: Record | None = None,
) -> list[ReadResult]:
    """``read_one`` of every file, taken from the cache table for files whose content (and
    campaign.yml, brands.yml) is what it was: their checked model and their problems, so a
    warning still shows on every build. A file is known unchanged by its size, times and inode
    when those are old enough to trust (Table.stat_trusted), else by hashing its bytes. Only
    regular files are cached; anything else goes the careful way (read_bytes refuses it).
    ``lean``: the campaign's lean record, written again (LeanColumns) when it differs."""
    results: list[ReadResult | None] = [None] * len(files)
    content: dict[int, str] = {}  # index → content key of the file's bytes
    todo: list[int] = []
    made: dict[int, tuple[str, tuple[int, ...]]] = {}  # index → (table key, stat) of a miss
    stamps: dict[int, tuple[str, tuple[int, ...]]] = {}  # index → (table key, stat) of a cached file
    # keyed by the path under the campaign folder: display() (os.path.relpath) would be most of a
    # warm read's time, and the table is the campaign's own
    names = [str(p)[len(str(files_root)) + 1:] for p in files]
    # what a cached model holds besides its file: the campaign, and the paths in its positions and
    # messages, which are relative to where the command runs (display)
    holds = content_key(campaign_key, display(files_root))
    for i, path in enumerate(files):
        k = content_key(names[i])
        sig = _stat_sig(str(path))
        if sig is None:
            todo.append(i)
            continue
        stamps[i] = (k, sig)
        entry = table.get(k)
        if entry is None:  # nothing to compare with: hashed where it is read (on every core)
            made[i] = (k, sig)
            todo.append(i)
            continue
        if entry[0] == sig and entry[2] == holds and table.stat_trusted(k, sig[1]):
            table.put(k, entry)
            results[i], content[i] = entry[3], entry[1]
            continue
        try:
            content[i] = content_key(path.read_bytes())
        except OSError:
            del stamps[i]
            todo.append(i)
            continue
        if entry[1] == content[i] and entry[2] == holds:
            table.put(k, (sig, content[i], holds, entry[3]))
            results[i] = entry[3]
            continue
        made[i] = (k, sig)
        todo.append(i)
    unhashed = frozenset(i for i in todo if i in made and i not in content)

    def read_hashed(i: int) -> tuple[ReadResult, str | None]:
        """``read_one``, and the content key of a file not hashed yet. Hashed first: the key
        must not stand for content newer than what was read (the bytes are in the page cache
        for the second read)."""
        hashed = None
        if i in unhashed:
            with contextlib.suppress(OSError):  # read_one reports it
                hashed = content_key(files[i].read_bytes())
        return read_one(files[i]), hashed

    fresh = fork_map(read_hashed, todo, parallel=parallel, min_items=1000)
    for i, (result, hashed) in zip(todo, fresh, strict=True):
        results[i] = result
        if hashed is not None:
            content[i] = hashed
        elif i in unhashed:
            del stamps[i]  # gone or unreadable: no lean row (as for a file the loop above cannot read)
        if i in made and i in content:
            k, sig = made[i]
            table.put(k, (sig, content[i], holds, result))
    for i, result in enumerate(results):
        assert result is not None
        if result[0] is not None and i in content:  # the key the outputs cache its pages under
            result[0].source_key = content_key(campaign_key, names[i], content[i])
    table.save()  # before read_campaign attaches the campaign: entries hold activities without it
    if lean is not None:
        rows = [_lean_row(names[i], sig, content[i], results[i]) for i, (_, sig) in stamps.items()]  # type: ignore[arg-type]
        columns = _lean_columns(holds, rows)
        if _load_lean(lean, holds)[1] != columns:
            lean.save(columns)
    return results  # type: ignore[return-value]


def _read_lean(
    record: Record, campaign_key: str, files_root: Path, shown: set[str],
    read_one: Callable[[Path], ReadResult], *, parallel: bool,
) -> tuple[list[Lean], list[Problem]]:
    """The Lean record of every activity file, in file order, and the problems that may be
    reported. Files in ``shown`` are read and checked (all their problems); every other one is
    taken from the lean record when its content is what the record says (known as in
    _read_cached), and read otherwise. The record is written again only when other files had to
    be read (a cache from before, or files edited since), so that the next check need not read
    them again. At 200,000 files every step here counts: names, not Paths; one lstat per file."""
    root = str(files_root)
    names = _names_under(root)
    holds = content_key(campaign_key, display(files_root))
    trusted_before, (_, r_names, r_sigs, r_contents, r_leans, r_kept) = _load_lean(record, holds)
    if r_names == names:  # no file added or removed since the record was written
        js: list[int | None] | range = range(len(names))
    else:
        where = dict(zip(r_names, range(len(r_names)), strict=True)).get
        js = [where(name) for name in names]
    # the named files as names under the activities folder (display() of each of 200,000 files
    # would take longer than the rest of the check)
    here = os.getcwd()
    named = {n for s in shown
             if display(files_root / (n := os.path.relpath(os.path.join(here, s), root))) == s}

    def stamp(i: int) -> tuple[tuple[int, ...], str] | None:
        """File ``i``'s stat and content key; None for what is never stored (as in _read_cached:
        anything but a regular file, or one that cannot be read)."""
        path = f"{root}/{names[i]}"
        sig = _stat_sig(path)
        if sig is None:
            return None
        try:
            with open(path, "rb") as fh:
                return sig, content_key(fh.read())
        except OSError:
            return None

    make, lstat, regular, prefix = tuple.__new__, os.lstat, stat.S_ISREG, f"{root}/"
    leans: list[Lean | None] = [None] * len(names)
    problems: list[Problem] = []
    todo: list[int] = []  # files to read: named, new, edited, or not regular
    stamps: dict[int, tuple[tuple[int, ...], str]] = {}  # index → (stat, content key) of a file read
    restat: dict[int, tuple[int, ...]] = {}  # index → stat now, of a file known unchanged by its bytes
    with _no_collection():
        for i, j in enumerate(js):
            name = names[i]
            if j is None or name in named:
                todo.append(i)
                continue
            try:
                st = lstat(prefix + name)
            except OSError:
                todo.append(i)
                continue
            # the common case inline: unchanged by its stat, which is old enough to trust
            # (Table.stat_trusted); else by its bytes
            if not (r_sigs[j] == (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
                    and st.st_mtime_ns < trusted_before and regular(st.st_mode)):
                now = stamp(i)
                if now is None or now[1] != r_contents[j]:
                    if now is not None:
                        stamps[i] = now
                    todo.append(i)
                    continue
                restat[i] = now[0]
            if r_leans[j] is not None:
                leans[i] = make(Lean, r_leans[j])
            if r_kept and name in r_kept:
                problems += r_kept[name]
    stamps.update({i: now for i in todo if i not in stamps and (now := stamp(i)) is not None})
    fresh = dict(zip(todo, fork_map(read_one, [files_root / names[i] for i in todo], parallel=parallel,
                                    min_items=1000), strict=True))
    for i, result in fresh.items():
        leans[i] = result[1]
        problems += result[2]
    if any(names[i] not in named for i in todo):  # every file as it is now
        rows: list[LeanRow] = []
        for i, name in enumerate(names):
            if i in fresh:
                if i in stamps:
                    rows.append(_lean_row(name, *stamps[i], fresh[i]))
            else:
                j = js[i]
                assert j is not None
                rows.append((name, restat.get(i, r_sigs[j]), r_contents[j], r_leans[j], r_kept.get(name, ())))
        record.save(_lean_columns(holds, rows))
    return [a for a in leans if a is not None], problems


def check_campaign(c: Campaign, problems: Problems) -> None:
    fp = c.field_pos

    def where(name: str) -> Pos:
        return fp.get(name, c.pos)

    if not 2000 <= c.year <= 2100:
        problems.error(where("year"), f"年份 {c.year} 不合理", "year")
    for name in ("period", "window"):
        rng = getattr(c, name)
        if rng is None:
            continue
        if rng.end < rng.start:
            problems.error(where(name), "结束日期早于开始日期", name)
        elif (days := (rng.end - rng.start).days + 1) > MAX_SPAN_DAYS:
            problems.error(
                where(name),
                f"从 {rng.start} 到 {rng.end} 共 {days} 天，超过一年（{MAX_SPAN_DAYS} 天）："
                "一个活动专题只管一年，请检查结束日期，跨年的请分成两个专题",
                name,
            )
        if rng.start.year != c.year and rng.end.year != c.year:
            problems.error(where(name), f"日期不在 {c.year} 年：是不是年份写错了？", name)
    if c.window and not (c.window.start <= c.period.start and c.period.end <= c.window.end):
        problems.error(where("window"), "window（系列活动日期范围）必须包含 period（集中开展时间）", "window")
    try:
        ZoneInfo(c.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.error(
            where("timezone"), f"未知时区 {c.timezone}：请写 Asia/Shanghai 这样的 IANA 名称", "timezone"
        )
    if not c.audiences:
        c.audiences = dict(DEFAULT_AUDIENCES)
    cats: dict[str, Category] = {}
    for key, spec in c.categories.items():
        if isinstance(spec, CategorySpec):
            cats[key] = Category(key, spec.name, None, list(spec.children))
            for child, name in spec.children.items():
                if child in cats or child in c.categories:
                    problems.error(where("categories"), f"类别编号 {child} 重复", "categories")
                cats[child] = Category(child, name, key)
        else:
            cats[key] = Category(key, spec)
    c.category_list = cats
    for key, value in c.owners.items():
        if key not in c.districts:
            problems.error(
                where("owners"), f"owners 中的 {key} 不是辖区编号{suggest(key, c.districts)}", "owners"
            )
        if owner_handles(value)[1]:
            problems.error(
                fp.get(f"owners.{key}", where("owners")),
                f"“{value}”不是 GitHub 用户或团队：请写成 \"@组织/团队\" 或 \"@用户名\"（要加引号），"
                "多个用空格分开", f"owners.{key}",
            )
    if c.rules.city_level_uses_subtheme and not (c.subtheme and c.subtheme.text):
        problems.error(where("rules"), "规则要求市级活动使用副主题，但没有填写 subtheme", "rules")
    if c.theme and c.theme.text is None and not c.theme.tentative:
        problems.error(where("theme"), "主题缺少 text；主题待定时请删掉 theme 字段", "theme")


def read_activity(
    path: Path, adir: Path, c: Campaign, brands: dict, problems: Problems
) -> Activity | None:
    shown = display(path)
    rel = path.relative_to(adir)
    if path.is_symlink() and path.is_dir():  # not entered: its activities would come from elsewhere
        problems.error(Pos(shown), "这是指向文件夹的符号链接，里面的活动文件不会读取："
                                   "请把文件夹本身放进仓库，不要用链接")
        return None
    if path.suffix not in YAML_EXTS:
        if path.name.startswith(".") or path.suffix.lower() in (".md", ".txt"):
            return None
        problems.error(Pos(shown), "activities 文件夹里只能放 .yml 活动文件")
        return None
    if len(rel.parts) != 2:
        problems.error(
            Pos(shown), "活动文件要放在 activities/<辖区编号>/ 文件夹里，如 activities/wujin/xxx.yml"
        )
        return None
    district = rel.parts[0]
    ok = True
    if district not in c.districts:
        problems.error(
            Pos(shown),
            f"辖区文件夹“{district}”不在 campaign.yml 的 districts 中{suggest(district, c.districts)}",
        )
        ok = False
    if not SLUG_RE.match(path.stem):
        problems.error(
            Pos(shown), f"文件名“{path.stem}”只能用小写英文字母、数字和连字符{slug_hint(path.stem)}"
        )
        ok = False
    tree = read_yaml(path, shown, problems, inside=adir.parent.parent.parent)  # the repository
    if tree is None:
        return None
    a = Converter(problems).convert(tree, Activity, "")
    if a is INVALID or not ok:
        return None
    a.slug = a.id or path.stem
    a.district = district
    a.campaign = c
    check_activity(a, c, brands, problems)
    return a


def check_activity(a: Activity, c: Campaign, brands: dict, problems: Problems) -> None:
    fp = a.field_pos

    def at(name: str) -> Pos:  # the field's own line, else its parent's (venue.lat → venue)
        return fp.get(name) or fp.get(name.split(".")[0], a.pos)

    def err(name: str, message: str, pos: Pos | None = None) -> None:
        problems.error(pos or at(name), message, name)

    def warn(name: str, message: str) -> None:
        problems.warn(at(name), message, name)

    def reported(name: str) -> bool:  # written but invalid: its error is already given
        return any(
            p.pos.path == a.pos.path and (p.field == name or p.field.startswith((f"{name}.", f"{name}[")))
            for p in problems.errors
        )

    if a.category not in c.category_list:
        err("category", f"没有类别 {a.category}{suggest(a.category, c.category_list)}")
    elif c.category_list[a.category].children:
        names = "、".join(c.category_list[a.category].children)
        err("category", f"{a.category} 有子类别，请选其中一个：{names}")
    for name, allowed in (("audiences", c.audiences), ("topics", c.topics)):
        keys = getattr(a, name)
        aligned = f"{name}[{len(keys)}]" in fp and f"{name}[{len(keys) + 1}]" not in fp  # none dropped
        for i, key in enumerate(keys, 1):
            if key not in allowed:
                err(name, f"没有 {key}{suggest(key, allowed)}", fp.get(f"{name}[{i}]") if aligned else None)
    # when
    start, end = a.start, a.end
    if end is None and isinstance(start, datetime):
        err("end", "有开始时间的活动必须写 end（结束时间），如 2022-09-15 11:30", at("start"))
    if end is not None:
        if isinstance(start, datetime) != isinstance(end, datetime):
            err("end", "start 和 end 要么都写时间（定时活动），要么都只写日期（全天活动）")
        elif end < start:
            err("end", "结束早于开始")
        elif isinstance(start, datetime) and a.recurrence and end.date() != start.date():
            err("end", "重复活动的 start/end 是第一场的起止时间，应在同一天")
    for name in ("start", "end"):
        value = getattr(a, name)
        if value is None:
            continue
        day = value.date() if isinstance(value, datetime) else value
        if day.year != c.year:
            err(name, f"日期在 {day.year} 年，但活动是 {c.year} 年的：是不是年份写错了？")
        elif day not in c.span:
            err(name, f"{day} 不在本次活动的日期范围 {c.span.start} 至 {c.span.end} 内")
        elif day not in c.period and c.window is None:
            pass
        elif day not in c.period:
            warn(
                name,
                f"{day} 不在集中开展时间 {c.period.start} 至 {c.period.end} 内（在系列活动范围内，可以发布）",
            )
    r = a.recurrence
    if r is not None:
        if r.until < a.first_day:
            err("recurrence.until", "until 早于第一场")
        elif r.until not in c.span:
            err("recurrence.until", f"{r.until} 不在本次活动的日期范围 {c.span.start} 至 {c.span.end} 内")
        if not 1 <= r.interval <= MAX_INTERVAL:
            err("recurrence.interval", f"interval 至少是 1、最多是 {MAX_INTERVAL}，不是 {r.interval}")
        if r.byday and r.freq != "weekly":
            err("recurrence.byday", "byday 只用于 freq: weekly")
        if a.end is not None and not isinstance(a.start, datetime) and a.end != a.start:
            err("end", "重复的全天活动每场只有一天：end 请删掉或与 start 相同")
        if r.until >= a.first_day and 1 <= r.interval <= MAX_INTERVAL:
            sessions = len(a.occurrence_days())
            if not sessions:
                err("recurrence", "按这个规则一场也没有：检查 byday 和 except")
            elif sessions > MAX_SESSIONS:
                err(
                    "recurrence",
                    f"按这个规则共有 {sessions} 场，超过 {MAX_SESSIONS} 场上限：请检查 until 和 interval，"
                    "常设展览请写成连续几天的全天活动，不要逐日重复",
                )
    # where
    if a.venue is None and a.online is None and not reported("venue") and not reported("online"):
        problems.error(
            a.pos, "要写 venue（线下场地）或 online（线上链接），两者都写表示线上线下同时进行", "venue"
        )
    v = a.venue
    if v is not None:
        given, missing = ("lat", "lng") if v.lng is None else ("lng", "lat")
        if (v.lat is None) != (v.lng is None) and not reported(f"venue.{missing}"):
            err(f"venue.{given}", f"lat 和 lng 要同时填写：缺少 {missing}")
        if v.lat is not None and not -90 <= v.lat <= 90:
            err("venue.lat", f"纬度 {v.lat} 超出 -90 到 90")
        if v.lng is not None and not -180 <= v.lng <= 180:
            err("venue.lng", f"经度 {v.lng} 超出 -180 到 180")
        if v.lat is not None and v.lng is not None and not (3 <= v.lat <= 54 and 73 <= v.lng <= 136):
            warn("venue", "坐标不在中国境内：是不是把 lat 和 lng 写反了？")
    # who and how
    reg = a.registration
    if reg is not None and reg.deadline is not None and reg.deadline > a.first_day:
        err("registration.deadline", "报名截止日期晚于活动开始")
    if reg is not None and reg.capacity is not None and reg.capacity < 1:
        err("registration.capacity", "名额至少是 1")
    if reg is not None and reg.capacity is not None and reg.capacity > MAX_COUNT:
        err("registration.capacity", f"名额最多是 {MAX_COUNT:,}：请检查是否多打了零")
    ct = a.contact
    if ct is not None and ct.email and not EMAIL_RE.match(ct.email):
        err("contact.email", f"邮箱“{ct.email}”格式不对")
    if a.report is not None:
        for name in ("participants_offline", "participants_online", "volunteers"):
            n = getattr(a.report, name)
            if n is not None and n < 0:
                err(f"report.{name}", "人数不能是负数")
            if n is not None and n > MAX_COUNT:
                err(f"report.{name}", f"人数最多是 {MAX_COUNT:,}：请检查是否多打了零")
        if a.status == "cancelled":
            warn("report", "已取消的活动填写了活动后数据")
    # brand and campaign rules
    for message in branding.title_problems(a.title, c, brands):
        err("title", message)
    rule = c.rules.city_level_uses_subtheme and c.subtheme and c.subtheme.text
    if rule and a.level == "city" and a.subtheme != c.subtheme.text:
        where = "subtheme" if a.subtheme else "level"
        err(where, f"市级活动必须使用本次活动的副主题：subtheme: {c.subtheme.text}")


def check_ids(problems: Problems, files: list[Lean]) -> None:
    """Two files mapping to one activity URL is an error, never an overwrite; likely duplicate
    registrations are a warning. ``files``: every activity file of a campaign, in file order
    (the first of several is the one a warning names). Built from C-speed parts (Counter, map,
    dict of zip): `kepu check FILE` runs this over a national campaign's 200,000 files."""
    twice = {slug for slug, n in Counter(map(attrgetter("slug"), files)).items() if n > 1}
    same: dict[str, list[Lean]] = defaultdict(list)
    for a in files if twice else ():
        if a.slug in twice:
            same[a.slug].append(a)
    for slug, group in same.items():
        names = "、".join(x.path for x in group)
        for a in group:
            problems.error(
                a.at(a.id_at), f"活动编号 {slug} 重复（{names}）：网址会冲突，请改文件名或 id", "id"
            )
    for a, seen in _repeats(files, list(map(attrgetter("same"), files))):
        problems.warn(a.pos, f"可能与 {seen.path} 重复（标题、日期、场地都相同）", "title")
    registered = list(compress(files, map(attrgetter("kepuri_id"), files)))
    for a, seen in _repeats(registered, list(map(attrgetter("kepuri_id"), registered))):
        problems.warn(a.at(a.kepuri_at), f"全国平台编号与 {seen.path} 相同：是否重复登记？", "kepuri_id")


def _repeats(files: list[Lean], keys: list) -> Iterator[tuple[Lean, Lean]]:
    """(file, the first file with its key) for every file whose key an earlier file had."""
    first = dict(zip(reversed(keys), range(len(keys) - 1, -1, -1), strict=True))  # key → first index
    if len(first) < len(keys):
        for i, k in enumerate(keys):
            if (j := first[k]) != i:
                yield files[i], files[j]
