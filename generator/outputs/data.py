"""Step 5c, data: open data (JSON, CSV) and the campaign statistics, from the model only."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ..cache import Cache, key
from ..model import Activity, Campaign
from ..rules import report_deadline
from . import site as url
from .cells import csv_cell, csv_row
from .feeds import recurrence_rule
from .geo import wgs84
from .text import MODE_WORD, SYSTEM_WORD, sessions, when_text


def session_times(a: Activity) -> list[dict[str, str]]:
    """Every session as {"start", "end"}: timed ones with the campaign zone's UTC offset
    (2022-09-15T09:00:00+08:00), all-day ones as dates with the last day included, as in the
    YAML (the feed's DTEND is the day after)."""
    if a.all_day:
        return [{"start": s.date().isoformat(), "end": (e - timedelta(days=1)).date().isoformat()}
                for s, e in sessions(a)]
    return [{"start": s.isoformat(), "end": e.isoformat()} for s, e in sessions(a)]


def activity_record(a: Activity, base_url: str) -> dict[str, Any]:
    """One row of open data. Private contacts are never included."""
    c = a.campaign
    cat = c.category_list.get(a.category)
    contact = a.contact if a.contact and a.contact.public else None
    times = session_times(a)
    rule = recurrence_rule(a)
    v = a.venue
    lat_wgs84 = lng_wgs84 = None  # the YAML's lat/lng are GCJ-02 (高德); WGS-84 for other maps
    if v is not None and v.lat is not None and v.lng is not None:
        lat_wgs84, lng_wgs84 = wgs84(v.lat, v.lng)
    return {
        "id": a.slug,
        "campaign": c.id,
        "label": c.label,
        "title": a.title,
        "status": a.status,
        "tentative": a.tentative,
        "district": a.district,
        "district_name": c.districts.get(a.district, ""),
        "category": a.category,
        "category_name": cat.name if cat else "",
        "level": a.level or "",
        "organizer": a.organizer,
        "co_organizers": a.co_organizers,
        "organizer_system": a.organizer_system or "",
        "audiences": [c.audiences[k] for k in a.audiences if k in c.audiences],
        "topics": [c.topics[k] for k in a.topics if k in c.topics],
        # the first session (for a repeating activity, the feed's DTSTART/DTEND)
        "start": times[0]["start"],
        "end": times[0]["end"],
        "all_day": a.all_day,
        "when": when_text(a),
        "rrule": rule[0] if rule else None,
        "exdate": rule[1] if rule else [],
        "sessions": times,
        "mode": a.mode,
        "venue": a.venue.name if a.venue else "",
        "address": (a.venue.address or "") if a.venue else "",
        "lat": a.venue.lat if a.venue else None,
        "lng": a.venue.lng if a.venue else None,
        "lat_wgs84": lat_wgs84,
        "lng_wgs84": lng_wgs84,
        "online_url": a.online.url if a.online else "",
        "registration_url": (a.registration.url or "") if a.registration else "",
        "contact_name": (contact.name or "") if contact else "",
        "contact_phone": (contact.phone or "") if contact else "",
        "url": base_url + url.activity_page(a),
        "kepuri_id": a.kepuri_id or "",
    }


CSV_COLUMNS = [
    ("id", "编号"), ("session", "场次"), ("title", "活动名称"), ("label", "标签"), ("status", "状态"),
    ("district_name", "辖区"), ("category_name", "类别"), ("organizer", "主办单位"), ("when", "时间"),
    ("start", "开始"), ("end", "结束"), ("mode", "形式"), ("venue", "场地"), ("address", "地址"),
    ("online_url", "线上链接"), ("audiences", "面向人群"), ("contact_name", "联系人"),
    ("contact_phone", "联系电话"), ("url", "网址"),
]


# the columns that differ between one activity's rows → their place in a row
_SESSION_CELLS = {k: i for i, (k, _) in enumerate(CSV_COLUMNS) if k in ("session", "start", "end")}


def open_data(c: Campaign, base_url: str, cache: Cache | None = None, site_key: str = "") -> dict[str, bytes]:
    """The campaign's activities.json and .csv. ``cache``: each activity's JSON line and CSV rows
    are taken from it when its file is unchanged (``site_key``: see SiteBuild)."""
    table = cache.table(f"data-{c.id}") if cache is not None else None
    # UTF-8 bytes throughout, joined once: a national campaign's files are hundreds of megabytes,
    # and joining text, then encoding it, held three copies at once
    lines: list[bytes] = []
    rows: list[bytes] = []
    for a in c.activities:
        k = key(site_key, "data", a.source_key) if table is not None and a.source_key else None
        made = table.get(k) if table is not None and k is not None else None
        if made is None:
            made = _activity_lines(a, base_url)
        if table is not None and k is not None:
            table.put(k, made)
        lines.append(made[0])
        rows.append(made[1])
    if table is not None:
        table.save()
    head = {"id": c.id, "title": c.title, "label": c.label, "year": c.year,
            "period": [c.period.start.isoformat(), c.period.end.isoformat()], "timezone": c.timezone}
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([h for _, h in CSV_COLUMNS])
    json_path, csv_path = url.open_data(c)
    return {
        json_path: _json_document(head, lines),
        # BOM so that Excel on Windows opens the UTF-8 file without garbling the Chinese
        csv_path: b"".join([("\ufeff" + out.getvalue()).encode(), *rows]),
    }


def _activity_lines(a: Activity, base_url: str) -> tuple[bytes, bytes]:
    """An activity's line of activities.json and its rows of the CSV (one per session, so that a
    spreadsheet shows, sorts and filters every date)."""
    r = activity_record(a, base_url)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    # the cells all its rows share, made once (a weekly activity has dozens of rows); then each
    # session's number, start and end
    row = csv_row([None if k in _SESSION_CELLS else "、".join(v) if isinstance(v := r[k], list) else v
                   for k, _ in CSV_COLUMNS])
    for n, times in enumerate(r["sessions"], 1):
        row[_SESSION_CELLS["session"]] = n
        row[_SESSION_CELLS["start"]] = csv_cell(times["start"])
        row[_SESSION_CELLS["end"]] = csv_cell(times["end"])
        writer.writerow(row)
    return _dump(r).encode(), out.getvalue().encode()


def _text(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


def _number(description: str) -> dict[str, Any]:
    return {"type": ["number", "null"], "description": description}


def _enum(description: str, *values: str) -> dict[str, Any]:
    return {"enum": list(values), "description": description}


_DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
# always with the UTC offset of the campaign's zone: a re-user can place it in time
_DATETIME = {"type": "string", "format": "date-time",
             "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$"}


def _times_of(kind: dict[str, Any]) -> dict[str, Any]:
    """start, end and every session's start and end in one form: dates or offset date-times."""
    session = {"type": "object", "properties": {"start": kind, "end": kind}}
    return {"properties": {"start": kind, "end": kind, "sessions": {"items": session}}}


def activities_schema(base_url: str) -> bytes:
    """The JSON Schema (draft 2020-12) of every campaign's activities.json, published at the
    site root (outputs/site.py DATA_SCHEMA). Closed objects: a field added to activity_record
    without a line here fails the tests, so the schema cannot fall behind the data."""
    activity = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "id": _text("活动编号（活动文件名），在本专题内唯一，不会改变"),
            "campaign": _text("活动专题编号"),
            "label": _text("官方标签，如“2023年全国科普日活动”"),
            "title": _text("活动名称"),
            "status": _enum("状态：scheduled 照常、cancelled 已取消、postponed 已延期",
                            "scheduled", "cancelled", "postponed"),
            "tentative": {"type": "boolean", "description": "时间是否暂定"},
            "district": _text("辖区编号"),
            "district_name": _text("辖区名称"),
            "category": _text("类别编号"),
            "category_name": _text("类别名称"),
            "level": _enum("级别：city 市级、district 区县级、town 镇街级、unit 单位；空为未填写",
                           "city", "district", "town", "unit", ""),
            "organizer": _text("主办单位"),
            "co_organizers": {"type": "array", "items": {"type": "string"}, "description": "协办单位"},
            "organizer_system": _enum("主办单位所属系统：kexie 科协系统、other 其他系统；空为未填写",
                                      "kexie", "other", ""),
            "audiences": {"type": "array", "items": {"type": "string"}, "description": "面向人群（名称）"},
            "topics": {"type": "array", "items": {"type": "string"}, "description": "话题（名称）"},
            "start": {"description": "第一场的开始：全天活动为日期，否则为带时区偏移的时间"},
            "end": {"description": "第一场的结束：全天活动为最后一天（含），否则为带时区偏移的时间"},
            "all_day": {"type": "boolean", "description": "是否全天活动"},
            "when": _text("时间的文字说明（与网页相同）"),
            "rrule": {"type": ["string", "null"], "pattern": r"^FREQ=(DAILY|WEEKLY)(;[A-Z]+=[^;]+)*$",
                      "description": "重复活动的 RFC 5545 RRULE 值（与 .ics 相同），不重复的活动为 null；"
                                     "DTSTART 是第一场的开始"},
            "exdate": {"type": "array", "items": {"type": "string", "pattern": r"^\d{8}(T\d{6}Z?)?$"},
                       "description": "重复活动不举办的场次，RFC 5545 EXDATE 值（与 .ics 相同）："
                                      "全天活动为日期，否则为专题时区（campaign.timezone）的当地时间"},
            "sessions": {"type": "array", "minItems": 1,
                         "items": {"type": "object", "additionalProperties": False,
                                   "required": ["start", "end"], "properties": {"start": {}, "end": {}}},
                         "description": "每一场的开始和结束（已去掉不举办的日期）；不重复的活动只有一场"},
            "mode": _enum("形式：offline 线下、online 线上、hybrid 线上线下", "offline", "online", "hybrid"),
            "venue": _text("场地名称；线上活动为空"),
            "address": _text("场地地址"),
            "lat": _number("场地纬度，GCJ-02 坐标（高德地图所用），不是 WGS-84"),
            "lng": _number("场地经度，GCJ-02 坐标（高德地图所用），不是 WGS-84"),
            "lat_wgs84": _number("场地纬度，WGS-84 坐标（GPS、OpenStreetMap 所用）"),
            "lng_wgs84": _number("场地经度，WGS-84 坐标（GPS、OpenStreetMap 所用）"),
            "online_url": _text("线上参与的网址"),
            "registration_url": _text("报名网址"),
            "contact_name": _text("公开的联系人；未公开则为空"),
            "contact_phone": _text("公开的联系电话；未公开则为空"),
            "url": {"type": "string", "format": "uri", "description": "活动页面的网址"},
            "kepuri_id": _text("全国科普日活动编号；没有则为空"),
        },
        "if": {"properties": {"all_day": {"const": True}}},
        "then": _times_of(_DATE),
        "else": _times_of(_DATETIME),
    }
    activity["required"] = list(activity["properties"])
    campaign = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "id": _text("活动专题编号"),
            "title": _text("活动专题名称"),
            "label": _text("官方标签"),
            "year": {"type": "integer", "description": "年份"},
            "period": {"type": "array", "items": _DATE, "minItems": 2, "maxItems": 2,
                       "description": "集中开展时间 [开始, 结束]（含）"},
            "timezone": _text("时区（IANA 名称，如 Asia/Shanghai）：时间、EXDATE 按它理解"),
        },
    }
    campaign["required"] = list(campaign["properties"])
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": base_url + url.DATA_SCHEMA,
        "title": "科普活动日历 · 活动专题的开放数据（activities.json）",
        "type": "object",
        "additionalProperties": False,
        "required": ["campaign", "activities"],
        "properties": {"campaign": campaign, "activities": {"type": "array", "items": activity}},
    }
    return (json.dumps(schema, ensure_ascii=False, indent=2) + "\n").encode()


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_document(campaign: dict[str, Any], lines: list[bytes]) -> bytes:
    """{"campaign": …, "activities": […]} with one activity per line: readable in an editor and
    in diffs, and each line made by json's C encoder (``indent=`` falls back to the pure-Python
    encoder, which took most of the time of this step at national size)."""
    parts = [f'{{"campaign":{_dump(campaign)},\n"activities":[\n'.encode()]
    for i, line in enumerate(lines):
        parts += [b",\n", line] if i else [line]
    parts.append(b"\n]}\n")
    return b"".join(parts)


OUTSIDE_SHARE = 0.2  # the notices' rule: at least 20% of organisers outside the 科协 system


@dataclass
class Stats:
    total: int = 0
    cancelled: int = 0
    by_district: list[tuple[str, int]] = field(default_factory=list)
    by_category: list[tuple[str, int]] = field(default_factory=list)
    by_audience: list[tuple[str, int]] = field(default_factory=list)
    by_system: list[tuple[str, int]] = field(default_factory=list)
    by_mode: list[tuple[str, int]] = field(default_factory=list)
    outside_share: float | None = None  # share of organisers outside the 科协 system, among known ones
    unknown_system: int = 0  # activities with no organizer_system
    # the share if every unknown one were 科协 (lowest) or outside it (highest), and what that means
    # for the 20% rule: "met" / "unmet" whatever the unknown ones are, else "open"
    share_low: float | None = None
    share_high: float | None = None
    share_verdict: str = "open"
    reported: int = 0
    participants_offline: int = 0
    participants_online: int = 0
    volunteers: int = 0
    media: int = 0
    missing_report: list[Activity] = field(default_factory=list)


def campaign_stats(c: Campaign) -> Stats:
    """Counts over activities that take place (cancelled ones are counted separately)."""
    live = [a for a in c.activities if a.status != "cancelled"]
    s = Stats(total=len(live), cancelled=len(c.activities) - len(live))
    districts = Counter(a.district for a in live)
    s.by_district = [(name, districts[k]) for k, name in c.districts.items()]
    cats = Counter()
    for a in live:
        cat = c.category_list.get(a.category)
        cats[cat.parent or cat.id if cat else a.category] += 1
    s.by_category = [(cat.name, cats[k]) for k, cat in c.category_list.items() if cat.parent is None]
    aud = Counter(k for a in live for k in a.audiences)
    s.by_audience = [(name, aud[k]) for k, name in c.audiences.items()]
    systems = Counter(a.organizer_system for a in live)
    s.by_system = [(SYSTEM_WORD[k], systems[k]) for k in ("kexie", "other", None) if systems[k]]
    known = systems["kexie"] + systems["other"]
    s.outside_share = systems["other"] / known if known else None
    s.unknown_system = systems[None]
    if live:
        s.share_low = systems["other"] / len(live)
        s.share_high = (systems["other"] + systems[None]) / len(live)
        s.share_verdict = ("met" if s.share_low >= OUTSIDE_SHARE else "unmet" if s.share_high < OUTSIDE_SHARE
                           else "open")
    modes = Counter(a.mode for a in live)
    s.by_mode = [(MODE_WORD[k], modes[k]) for k in ("offline", "online", "hybrid")]
    info_due = report_deadline(c)
    for a in live:
        r = a.report
        if r is None:
            if a.last_day <= info_due:
                s.missing_report.append(a)
            continue
        s.reported += 1
        s.participants_offline += r.participants_offline or 0
        s.participants_online += r.participants_online or 0
        s.volunteers += r.volunteers or 0
        s.media += len(r.media)
    return s
