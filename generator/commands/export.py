"""`kepu export`: a campaign's activities as an .xlsx sheet with the columns `kepu import` reads back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..model import Activity, Campaign
from ..outputs.text import when_text
from .match import LEVEL_WORDS, MODE_KEYS, STATUS_WORDS, SYSTEM_WORDS
from .tables import column_letter
from .yamlwrite import when_text_iso

EXPORT_COLUMNS: list[tuple[str, str | None]] = [
    ("活动名称", "title"), ("主办单位", "organizer"), ("承办单位", "co_organizers"),
    ("主办单位类型", "organizer_system"), ("活动级别", "level"), ("所属区县", "district"),
    ("活动类别", "category"), ("面向人群", "audiences"), ("话题", "topics"), ("副主题", "subtheme"),
    ("开始时间", "start"), ("结束时间", "end"), ("活动形式", "mode"), ("活动地点", "venue.name"),
    ("详细地址", "venue.address"), ("纬度", "venue.lat"), ("经度", "venue.lng"), ("活动链接", "online.url"),
    ("报名链接", "registration.url"), ("联系人", "contact.name"), ("联系电话", "contact.phone"),
    ("全国平台编号", "kepuri_id"), ("活动状态", "status"), ("活动简介", "description"),
    ("线下参与人数", "report.participants_offline"), ("线上参与人数", "report.participants_online"),
    ("志愿者人数", "report.volunteers"), ("媒体报道链接", "report.media"),
    ("时间说明（仅供阅读，导入时不读）", None), ("活动编号", "slug"),
]


def export_row(a: Activity) -> list[Any]:
    c = a.campaign
    get: dict[str, Any] = {
        "title": a.title, "organizer": a.organizer, "co_organizers": "、".join(a.co_organizers),
        "organizer_system": SYSTEM_WORDS.get(a.organizer_system or "", ""),
        "level": LEVEL_WORDS.get(a.level or "", ""), "district": c.districts.get(a.district, a.district),
        "category": c.category_list[a.category].name if a.category in c.category_list else a.category,
        "audiences": "、".join(c.audiences.get(k, k) for k in a.audiences),
        "topics": "、".join(c.topics.get(k, k) for k in a.topics), "subtheme": a.subtheme or "",
        "start": when_text_iso(a.start), "end": when_text_iso(a.end) if a.end is not None else "",
        "mode": MODE_KEYS[a.mode],
        # an online-only activity's 活动地点 is its platform (抖音直播间 …), as import reads it
        "venue.name": a.venue.name if a.venue else (a.online.platform or "") if a.online else "",
        "venue.address": (a.venue.address or "") if a.venue else "",
        "online.url": a.online.url if a.online else "",
        "registration.url": (a.registration.url or "") if a.registration else "",
        "contact.name": (a.contact.name or "") if a.contact else "",
        "contact.phone": (a.contact.phone or "") if a.contact else "",
        "kepuri_id": a.kepuri_id or "", "status": STATUS_WORDS[a.status], "description": a.description or "",
        "report.media": "\n".join(a.report.media) if a.report else "", "slug": a.slug, None: when_text(a),
    }
    for key in ("participants_offline", "participants_online", "volunteers"):
        n = getattr(a.report, key) if a.report else None
        get[f"report.{key}"] = n if n is not None else ""
    for key in ("lat", "lng"):
        n = getattr(a.venue, key) if a.venue else None
        get[f"venue.{key}"] = n if n is not None else ""
    return [get[key] for _, key in EXPORT_COLUMNS]


def export_xlsx(c: Campaign, out: Path) -> int:
    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font, PatternFill

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "活动"
    ws.append([h for h, _ in EXPORT_COLUMNS])
    order = {d: i for i, d in enumerate(c.districts)}
    acts = sorted(c.activities, key=lambda a: (order.get(a.district, len(order)), a.start_key, a.slug))
    for r, a in enumerate(acts, 2):
        for col, value in enumerate(export_row(a), 1):
            cell = ws.cell(r, col)
            if isinstance(value, str):
                cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
                cell.data_type = "s"  # never a formula, even when the text starts with =
                cell.number_format = "@"  # text: Excel must not turn 09:30 or 0519-… into numbers
            else:
                cell.value = value
    bold = Font(bold=True)
    for col, (_, key) in enumerate(EXPORT_COLUMNS, 1):
        cell = ws.cell(1, col)
        cell.font = bold
        letter = column_letter(col - 1)
        ws.column_dimensions[letter].width = 40 if key in ("title", "description", None) else 16
        if key in ("slug", None):
            cell.fill = PatternFill("solid", fgColor="DDDDDD")
    ws.freeze_panes = "B2"
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return len(acts)
