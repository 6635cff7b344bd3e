"""Step 5c, data: open data (JSON, CSV) and the campaign statistics, from the model only."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..model import Activity, Campaign
from ..rules import report_deadline
from .cells import csv_row
from .text import MODE_WORD, SYSTEM_WORD, when_text


def activity_record(a: Activity, base_url: str) -> dict[str, Any]:
    """One row of open data. Private contacts are never included."""
    c = a.campaign
    cat = c.category_list.get(a.category)
    contact = a.contact if a.contact and a.contact.public else None
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
        "start": a.start.isoformat(),
        "end": a.end_value.isoformat(),
        "all_day": a.all_day,
        "when": when_text(a),
        "mode": a.mode,
        "venue": a.venue.name if a.venue else "",
        "address": (a.venue.address or "") if a.venue else "",
        "lat": a.venue.lat if a.venue else None,
        "lng": a.venue.lng if a.venue else None,
        "online_url": a.online.url if a.online else "",
        "registration_url": (a.registration.url or "") if a.registration else "",
        "contact_name": (contact.name or "") if contact else "",
        "contact_phone": (contact.phone or "") if contact else "",
        "url": f"{base_url}{c.id}/activities/{a.slug}/",
        "kepuri_id": a.kepuri_id or "",
    }


CSV_COLUMNS = [
    ("id", "编号"), ("title", "活动名称"), ("label", "标签"), ("status", "状态"), ("district_name", "辖区"),
    ("category_name", "类别"), ("organizer", "主办单位"), ("when", "时间"), ("start", "开始"),
    ("end", "结束"), ("mode", "形式"), ("venue", "场地"), ("address", "地址"), ("online_url", "线上链接"),
    ("audiences", "面向人群"), ("contact_name", "联系人"), ("contact_phone", "联系电话"), ("url", "网址"),
]


def open_data(c: Campaign, base_url: str) -> dict[str, bytes]:
    records = [activity_record(a, base_url) for a in c.activities]
    head = {"id": c.id, "title": c.title, "label": c.label, "year": c.year,
            "period": [c.period.start.isoformat(), c.period.end.isoformat()]}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([h for _, h in CSV_COLUMNS])
    for r in records:
        writer.writerow(csv_row(["、".join(v) if isinstance(v := r[k], list) else v for k, _ in CSV_COLUMNS]))
    return {
        f"{c.id}/activities.json": _json_document(head, records),
        # BOM so that Excel on Windows opens the UTF-8 file without garbling the Chinese
        f"{c.id}/activities.csv": ("\ufeff" + out.getvalue()).encode(),
    }


def _json_document(campaign: dict[str, Any], records: list[dict[str, Any]]) -> bytes:
    """{"campaign": …, "activities": […]} with one activity per line: readable in an editor and
    in diffs, and each line made by json's C encoder (``indent=`` falls back to the pure-Python
    encoder, which took most of the time of this step at national size)."""

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    lines = ",\n".join(dump(r) for r in records)
    return f'{{"campaign":{dump(campaign)},\n"activities":[\n{lines}\n]}}\n'.encode()


@dataclass
class Stats:
    total: int = 0
    cancelled: int = 0
    by_district: list[tuple[str, int]] = field(default_factory=list)
    by_category: list[tuple[str, int]] = field(default_factory=list)
    by_audience: list[tuple[str, int]] = field(default_factory=list)
    by_system: list[tuple[str, int]] = field(default_factory=list)
    by_mode: list[tuple[str, int]] = field(default_factory=list)
    outside_share: float | None = None  # share of organisers outside the 科协 system
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
