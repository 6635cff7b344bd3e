"""Step 3, model: the one typed model that validation produces and every later step reads.

The dataclasses below double as the file schema: each field's ``metadata`` carries the Chinese
description shown in errors, in the JSON Schema (``kepu schema``) and checked against the
editing guide, so there is one source of truth for what a YAML file may contain.
Fields with ``derived=True`` are filled in by validation and never read from YAML.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, NamedTuple, NewType

from .problems import Pos

Slug = NewType("Slug", str)  # [a-z0-9-]+, used in URLs and feed UIDs
Url = NewType("Url", str)  # http(s) only
When = NewType("When", object)  # a date (all-day) or a naive local datetime
DeadlineKind = Literal["registration", "info", "report", "other"]
Weekday = Literal["mo", "tu", "we", "th", "fr", "sa", "su"]


def f(doc: str, default: Any = ..., *, key: str | None = None, example: Any = None) -> Any:
    """A documented YAML field. ``key`` is the YAML name when it is not a Python name."""
    meta = {"doc": doc, "key": key, "example": example}
    if default is ...:
        return field(metadata=meta)
    if isinstance(default, list | dict):
        return field(default_factory=type(default), metadata=meta)
    return field(default=default, metadata=meta)


def derived(default: Any = None) -> Any:
    if isinstance(default, list | dict):
        return field(default_factory=type(default), init=False, repr=False, compare=False,
                     metadata={"derived": True})
    return field(default=default, init=False, repr=False, compare=False, metadata={"derived": True})


# ---- brands.yml -----------------------------------------------------------------------------


@dataclass
class BrandYears:
    from_: int | None = f("从哪一年起使用", None, key="from")
    until: int | None = f("用到哪一年为止", None)
    successor: Slug | None = f("之后改用的品牌编号", None)


@dataclass
class Colors:
    primary: str = f("主色（#rrggbb）", example="#0d5aa7")
    accent: str = f("强调色（#rrggbb）", example="#c8161d")


@dataclass
class Brand:
    name: str = f("品牌名称", example="全国科普日")
    label: str = f("标签模板，{year} 年份，{edition} 届次", example="{year}年全国科普日活动")
    logos: list[Logo] = f("标识 [{id, name}]", [])
    colors: Colors | None = f("颜色 {primary, accent}", None)
    marks: list[str] = f("在标题中识别本品牌的词", [])
    also: list[Slug] = f("可在标题中一并出现的品牌编号", [])
    years: BrandYears | None = f("使用年份 {from, until, successor}", None)

    id: str = derived("")
    pos: Pos = derived(None)
    field_pos: dict[str, Pos] = derived({})


# ---- campaign.yml ---------------------------------------------------------------------------


@dataclass
class Text:
    """A theme or sub-theme; ``tentative`` shows 暂定. Written as plain text or as a mapping."""

    text: str | None = f("主题文字", None, example="喜迎二十大，科普向未来")
    tentative: bool = f("是否暂定（显示“暂定”）", False)


@dataclass
class DateRange:
    start: date = f("开始日期", example="2022-09-15")
    end: date = f("结束日期（含当天）", example="2022-09-21")

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    def days(self) -> list[date]:
        return [self.start + timedelta(n) for n in range((self.end - self.start).days + 1)]


@dataclass
class Deadline:
    date: date = f("截止日期", example="2022-09-28")
    what: str = f("截止事项", example="在全国科普日平台完成活动注册")
    kind: DeadlineKind | None = f(
        "类别：registration 活动注册（晚于它加入的活动会被提醒）、info 报送信息、report 报送总结、other 其他",
        None, example="registration",
    )


@dataclass
class Document:
    number: str | None = f("文号（没有文号可不写）", None, example="常科协〔2022〕63号")
    issued: date | None = f("印发日期", None, example="2022-08-22")
    issuers: list[str] = f("发文单位", [], example=["常州市科学技术协会"])
    url: Url | None = f("通知原文链接（http/https）", None)


@dataclass
class Logo:
    id: Slug = f("标识编号；图片放在 site_theme/assets/logos/<编号>.svg 或 .png", example="tianfu-kejiyun")
    name: str = f("标识名称（无图片时显示为文字徽标）", example="天府科技云")


@dataclass
class Rules:
    city_level_uses_subtheme: bool = f("市级活动必须使用本活动的副主题（成都）", False)


@dataclass
class CategorySpec:
    name: str = f("类别名称", example="系列科普联合行动")
    children: dict[Slug, str] = f("子类别：编号: 名称", {}, example={"xuehui-gaoxiao": "学会高校"})


@dataclass
class Category:
    """A category or sub-category as the rest of the pipeline sees it (flattened)."""

    id: str
    name: str
    parent: str | None = None
    children: list[str] = field(default_factory=list)


DEFAULT_AUDIENCES = {
    "qingshaonian": "青少年",
    "nongmin": "农民",
    "chanye-gongren": "产业工人",
    "laonianren": "老年人",
    "lingdao-ganbu": "领导干部和公务员",
}


@dataclass
class Campaign:
    title: str = f("活动全称", example="2022年常州市“全国科普日”活动")
    brand: str = f("活动品牌，brands.yml 中的编号", example="kepuri")
    year: int = f("活动年份", example=2022)
    region: str = f("覆盖地区", example="常州市")
    period: DateRange = f("集中开展时间 {start, end}")
    districts: dict[Slug, str] = f("辖区（区县或镇街）：编号: 名称，按显示顺序", example={"wujin": "武进区"})
    categories: dict[Slug, str | CategorySpec] = f(
        "活动类别：编号: 名称，或 编号: {name, children}", example={"shiji-zhuchang": "市级主场活动"}
    )
    theme: Text | None = f("主题；不写显示“待定”，tentative: true 显示“暂定”", None)
    subtheme: Text | None = f("副主题，可暂定", None)
    edition: int | None = f("本地届次，如第33届科普宣传周", None, example=33)
    window: DateRange | None = f("系列活动可安排的日期范围，默认等于 period", None)
    deadlines: list[Deadline] = f("给工作人员的截止日期 [{date, what, kind}]", [])
    document: Document | None = f("通知文件 {number, issued, issuers, url}", None)
    timezone: str = f("时区（IANA 名称）", "Asia/Shanghai")
    audiences: dict[Slug, str] = f("重点人群：编号: 名称（默认五类重点人群）", {})
    topics: dict[Slug, str] = f("话题：编号: 名称", {}, example={"weisheng-jiankang": "卫生健康"})
    logos: list[Logo] = f("品牌之外的其他标识 [{id, name}]", [])
    rules: Rules = f("活动规则", None)
    status: Literal["published", "draft"] = f("draft 只校验不发布", "published")
    sample: bool = f("示例数据（页面上标明“示例”）", False)
    owners: dict[Slug, str] = f("辖区编号 → 负责审核的 GitHub 团队（kepu codeowners）", {})

    id: str = derived("")
    pos: Pos = derived(None)
    field_pos: dict[str, Pos] = derived({})
    category_list: dict[str, Category] = derived({})
    brand_info: Brand = derived(None)
    label: str = derived("")  # the brand label, e.g. 2022年全国科普日活动
    all_logos: list[Logo] = derived([])  # the brand's logos, then the campaign's own
    activities: list[Activity] = derived([])
    # content key of campaign.yml and brands.yml (cache.py), "" when built without a cache
    source_key: str = derived("")

    def __post_init__(self) -> None:
        if self.rules is None:
            self.rules = Rules()

    @property
    def span(self) -> DateRange:
        return self.window or self.period

    @property
    def published(self) -> bool:
        return self.status == "published"

    def activities_by_district(self) -> dict[str, list[Activity]]:
        """Every district's activities, in one pass (a pass per district would cost activities ×
        districts at national size)."""
        out: dict[str, list[Activity]] = {d: [] for d in self.districts}
        for a in self.activities:
            out.setdefault(a.district, []).append(a)
        return out


# ---- activity files -------------------------------------------------------------------------


@dataclass
class Venue:
    name: str = f("场地名称", example="常州科教城")
    address: str | None = f("详细地址", None)
    lat: float | None = f("纬度（高德/GCJ-02）", None, example=31.78)
    lng: float | None = f("经度（高德/GCJ-02）", None, example=119.95)


@dataclass
class Online:
    url: Url = f("线上参与链接（http/https）")
    platform: str | None = f("形式或平台：直播、短视频、网络竞赛 …", None)


@dataclass
class Recurrence:
    freq: Literal["daily", "weekly"] = f("重复频率：daily 每天，weekly 每周")
    until: date = f("最后一场的日期（含）")
    interval: int = f("间隔，如 2 表示隔天或隔周", 1)
    byday: list[Weekday] = f("每周哪几天：mo tu we th fr sa su（仅 weekly）", [])
    except_: list[date] = f("不举办的日期", [], key="except")


@dataclass
class Registration:
    required: bool = f("是否需要报名", False)
    url: Url | None = f("报名链接", None)
    deadline: date | None = f("报名截止日期", None)
    capacity: int | None = f("名额", None)


@dataclass
class Contact:
    name: str | None = f("联系人", None)
    phone: str | None = f("电话", None)
    email: str | None = f("邮箱", None)
    public: bool = f("true 时才在网站公开；默认不公开", False)


@dataclass
class Report:
    participants_offline: int | None = f("线下参与人数", None)
    participants_online: int | None = f("线上参与人数", None)
    volunteers: int | None = f("志愿者人数", None)
    media: list[Url] = f("媒体报道链接", [])
    photos: list[str] = f("照片文件", [])


STATUS_WORD = {"scheduled": "", "cancelled": "已取消", "postponed": "已延期"}


@dataclass
class Activity:
    title: str = f("活动名称，与全国平台注册的一致，要具体")
    organizer: str = f("主办单位全称")
    category: Slug = f("类别编号（或子类别编号）")
    start: When = f("开始：2022-09-15 09:30，或全天活动写日期")
    end: When | None = f("结束：时间或日期（含当天）；单日全天活动可省略", None)
    co_organizers: list[str] = f("协办/承办单位", [])
    organizer_system: Literal["kexie", "other"] | None = f("kexie 科协系统 / other 其他系统", None)
    level: Literal["city", "district", "town", "unit"] | None = f("级别：city/district/town/unit", None)
    audiences: list[Slug] = f("面向人群编号", [])
    topics: list[Slug] = f("话题编号", [])
    recurrence: Recurrence | None = f("重复场次 {freq, until, interval, byday, except}", None)
    tentative: bool = f("时间暂定", False)
    status: Literal["scheduled", "cancelled", "postponed"] = f("scheduled/cancelled/postponed", "scheduled")
    venue: Venue | None = f("线下场地 {name, address, lat, lng}", None)
    online: Online | None = f("线上参与 {url, platform}", None)
    subtheme: str | None = f("本活动的副主题", None)
    description: str | None = f("活动介绍（Markdown，不支持 HTML）", None)
    registration: Registration | None = f("报名 {required, url, deadline, capacity}", None)
    contact: Contact | None = f("联系方式 {name, phone, email, public}", None)
    kepuri_id: str | None = f("全国科普日平台上的活动编号", None)
    id: Slug | None = f("固定活动编号（文件改名时保留网址）", None)
    report: Report | None = f(
        "活动后填写 {participants_offline, participants_online, volunteers, media, photos}", None
    )

    slug: str = derived("")
    district: str = derived("")
    campaign: Campaign = derived(None)
    pos: Pos = derived(None)
    field_pos: dict[str, Pos] = derived({})
    # content key of the file, its path and its campaign's source_key (cache.py); "" without cache
    source_key: str = derived("")

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def start_key(self) -> tuple[date, str]:
        """Sort key: day, then time (all-day activities first)."""
        s = self.start
        return (s.date(), s.strftime("%H:%M")) if isinstance(s, datetime) else (s, "")

    @property
    def end_value(self) -> date | datetime:
        """The end as written, or the start day for a single all-day date."""
        return self.end if self.end is not None else self.start

    @property
    def first_day(self) -> date:
        s = self.start
        return s.date() if isinstance(s, datetime) else s

    @property
    def last_day(self) -> date:
        """The last calendar day on which the activity (any session) takes place."""
        if self.recurrence:
            return self.recurrence.until
        e = self.end_value
        return e.date() if isinstance(e, datetime) else e

    @property
    def mode(self) -> str:
        if self.venue and self.online:
            return "hybrid"
        return "online" if self.online else "offline"

    @property
    def status_word(self) -> str:
        return STATUS_WORD[self.status]

    def occurrence_days(self) -> list[date]:
        """Every day the activity is on, for day listings (sessions expanded, exceptions removed)."""
        if not self.recurrence:
            span = (self.last_day - self.first_day).days
            return [self.first_day + timedelta(n) for n in range(span + 1)]
        r = self.recurrence
        days: list[date] = []
        wanted = {d: i for i, d in enumerate(["mo", "tu", "we", "th", "fr", "sa", "su"])}
        byday = {wanted[d] for d in r.byday} or {self.first_day.weekday()}
        day = self.first_day
        while day <= r.until:
            delta = (day - self.first_day).days
            if r.freq == "daily":
                on = delta % r.interval == 0
            else:
                week = (day - (self.first_day - timedelta(self.first_day.weekday()))).days // 7
                on = day.weekday() in byday and week % r.interval == 0
            if on and day not in r.except_:
                days.append(day)
            day += timedelta(1)
        return days


class Lean(NamedTuple):
    """What the rules spanning files (validate.check_ids, rules.py, outputs.site.check_paths)
    need of one activity file, and nothing else: `kepu check FILE` takes this from the cache for
    every other file of a national campaign (200,000) instead of its whole model. A build makes
    it from the model, so both run the same rules on the same records. Few and plain values (no
    Pos, no date): a tuple of them loads from the cache many times faster than a dataclass."""

    path: str  # the file as messages name it (validate.display)
    line: int  # where its mapping starts (Activity.pos)
    col: int
    slug: str
    # what makes two activities likely the same registration: a digest of title, first day and
    # venue name, which no message shows (one small value loads faster than three)
    same: bytes
    kepuri_id: str | None
    status: str
    organizer_system: str | None
    id_at: tuple[int, int] | None  # (line, col) of `id:` in the file, if written
    kepuri_at: tuple[int, int] | None  # of `kepuri_id:`

    @property
    def pos(self) -> Pos:
        return Pos(self.path, self.line, self.col)

    def at(self, where: tuple[int, int] | None) -> Pos:
        """A field's position given by ``id_at``/``kepuri_at``, else the file's."""
        return Pos(self.path, *where) if where else self.pos

    @classmethod
    def of(cls, a: Activity) -> Lean:
        def at(name: str) -> tuple[int, int] | None:
            p = a.field_pos.get(name)
            return (p.line, p.col) if p is not None and p.path == a.pos.path else None

        same = hashlib.blake2b(repr((a.title, a.first_day, a.venue.name if a.venue else "")).encode(),
                               digest_size=16).digest()
        # interned: one copy of each word per stored shard, not one per activity
        system = sys.intern(a.organizer_system) if a.organizer_system else a.organizer_system
        return cls(a.pos.path, a.pos.line, a.pos.col, a.slug, same, a.kepuri_id, sys.intern(a.status),
                   system, at("id"), at("kepuri_id"))


@dataclass
class Site:
    """Everything that was read: the input of every later step."""

    campaigns: list[Campaign]
    brands: dict[str, Brand]

    def published(self) -> list[Campaign]:
        return [c for c in self.campaigns if c.published]
