"""Step 5b, feeds: iCalendar files for subscribers and an Atom feed of changes.

Every published activity becomes one VEVENT that appears in up to five files (site, campaign,
district, category and its parent, the activity itself). Feeds are reproducible: nothing depends on
the build time; SEQUENCE, LAST-MODIFIED and DTSTAMP come from the git history of the activity file
and of what the event shows from campaign.yml and brands.yml (``history.py``), so two builds of the
same commit are byte-identical (SPEC "Feeds").
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import cast
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from icalendar import Component, Parameters, Timezone, vDuration, vText
from icalendar.parser import Contentline
from icalendar.timezone.tzid import is_utc

from ..cache import Cache, Table, key
from ..history import History, Shown
from ..model import Activity, Campaign, Site
from ..parallel import fork_map
from . import site as layout
from .geo import wgs84
from .options import DEFAULT_OPTIONS, BuildOptions, Writer
from .text import WEEKDAY_CN, WEEKDAY_KEYS
from .urls import iri_value

PRODID = "-//kepu-calendar//kepu-calendar//ZH"
ATOM_NS = "http://www.w3.org/2005/Atom"
DEFAULT_TZ = "Asia/Shanghai"
_END = b"END:VCALENDAR\r\n"
_WEEKDAYS = list(WEEKDAY_KEYS)  # the name tests/ical_reference.py imports
_WEEKDAY_CN = WEEKDAY_CN


# ---- text hygiene ------------------------------------------------------------------------------

# C0/C1 controls (except tab and newline) are not allowed in iCalendar TEXT nor in XML 1.0;
# U+2028/2029 are line breaks to some parsers. _text escapes , ; \ and newlines as icalendar does.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\(([^)\s]+)[^)]*\)")
_MD_MARK = re.compile(r"(\*\*|__|`)")
_MD_HEAD = re.compile(r"^#{1,6}\s+", re.M)


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return _CONTROL.sub("", text)


def _line(text: str) -> str:
    """One-line fields (SUMMARY, LOCATION, names): a newline in YAML becomes a space."""
    return " ".join(_clean(text).split())


def _name(text: str) -> str:
    """Organiser, platform and contact in DESCRIPTION are plain text too: tags dropped as in
    _plain (a name has no markup to keep), so Google's HTML rendering finds none."""
    return _line(_TAG.sub("", text))


# not allowed in a URI (RFC 3986): percent-encoded as browsers do, so the link still works and
# no "<" or quote reaches an app that renders DESCRIPTION as HTML
_URL_UNSAFE = {ord(ch): f"%{ord(ch):02X}" for ch in '<>"`{}|\\^'}


def _url(url: str) -> str:
    return url.translate(_URL_UNSAFE)


def _plain(markdown: str) -> str:
    """Calendar apps show DESCRIPTION as plain text (Google even renders some HTML), so drop
    Markdown marks and any raw HTML tags: the description is not trusted."""
    text = _TAG.sub("", _clean(markdown))
    text = _MD_LINK.sub(lambda m: f"{m[1]}（{m[2]}）" if m[1] else m[2], text)
    text = _MD_HEAD.sub("", _MD_MARK.sub("", text))
    return text.strip()


# ---- serialising ----------------------------------------------------------------------------


def _fold(line: str) -> bytes:
    """Fold one content line exactly as icalendar's ``_foldline`` does (segments of at most 74
    octets, never inside a UTF-8 character, never right after a ``\\`` or ``^`` so an escape
    stays whole), but on bytes: icalendar's per-character loop was a quarter of the time spent
    serialising 20,000 events. ``test_fold_matches_icalendar`` holds the two to the same output."""
    data = line.encode("utf-8")
    if len(data) <= 74:
        return data
    parts = []
    start, size = 0, len(data)
    while size - start > 74:
        end = start + 74
        while data[end] & 0xC0 == 0x80:  # a continuation byte: do not cut before it
            end -= 1
        if end - start > 1 and data[end - 1] in b"\\^":
            end -= 1
        parts.append(data[start:end])
        start = end
    parts.append(data[start:])
    return b"\r\n ".join(parts)


def to_ical(component: Component) -> bytes:
    """``component.to_ical(sorted=False)``, with the faster folding above."""
    return b"".join(_fold(line) + b"\r\n" for line in component.content_lines(sorted=False) if line)


# ---- shared wording (feeds and the changes feed) ------------------------------------------------


def theme_text(c: Campaign) -> str:
    if c.theme is None or not c.theme.text:
        return "待定"
    return f"{_line(c.theme.text)}（暂定）" if c.theme.tentative else _line(c.theme.text)


def when_text(a: Activity) -> str:
    """Human date/time, e.g. ``2022-09-15 09:30–11:30`` or ``2022-09-15 至 2022-09-21（全天）``."""
    s, e = a.start, a.end_value
    if a.recurrence:
        r = a.recurrence
        days = a.occurrence_days()
        if r.freq == "daily":
            rule = "每天" if r.interval == 1 else f"每 {r.interval} 天"
        else:
            wds = sorted(set(r.byday), key=_WEEKDAYS.index) or [_WEEKDAYS[a.first_day.weekday()]]
            rule = ("每周" if r.interval == 1 else f"每 {r.interval} 周的周") + "、".join(
                _WEEKDAY_CN[_WEEKDAYS.index(d)] for d in wds
            )
        hours = f"，每场 {s:%H:%M}–{e:%H:%M}" if isinstance(s, datetime) and isinstance(e, datetime) else ""
        text = f"{days[0] if days else a.first_day} 至 {r.until}，{rule}，共 {len(days)} 场{hours}"
    elif isinstance(s, datetime) and isinstance(e, datetime):
        same_day = s.date() == e.date()
        text = f"{s:%Y-%m-%d %H:%M}–{e:%H:%M}" if same_day else f"{s:%Y-%m-%d %H:%M} 至 {e:%Y-%m-%d %H:%M}"
    else:
        text = f"{s}（全天）" if s == e else f"{s} 至 {e}（全天）"
    return text + ("（时间暂定）" if a.tentative else "")


def where_text(a: Activity) -> str:
    parts = []
    if a.venue:
        parts.append(_venue(a))
    if a.online:
        parts.append(f"线上（{_line(a.online.platform)}）：{a.online.url}" if a.online.platform
                     else f"线上：{a.online.url}")
    return "；".join(parts)


def _venue(a: Activity) -> str:
    v = a.venue
    assert v is not None
    return f"{_line(v.name)}，{_line(v.address)}" if v.address else _line(v.name)


# ---- events ---------------------------------------------------------------------------------


def revision(history: History, a: Activity) -> tuple[int, datetime]:
    """(SEQUENCE, LAST-MODIFIED) of ``a``'s event: its file's revisions, plus each change of the
    campaign's text it shows (category, district and audience names, label, time zone)."""
    return history.revision(a.pos.path, Shown(a.category, a.district, tuple(a.audiences)))


@dataclass(frozen=True)
class _Built:
    sort: tuple
    data: bytes  # the serialised VEVENT


class _Context:
    def __init__(self, base_url: str, history: History, options: BuildOptions = DEFAULT_OPTIONS):
        self.refresh = _refresh(options.refresh)
        self.base = layout.base(base_url)
        self.host = urlsplit(self.base).hostname or "localhost"
        self.history = history
        self.zones: dict[str, ZoneInfo] = {}
        self.vtimezones: dict[tuple[str, date, date], bytes] = {}

    def zone(self, tzid: str) -> ZoneInfo:
        if tzid not in self.zones:
            self.zones[tzid] = ZoneInfo(tzid)
        return self.zones[tzid]

    def page(self, a: Activity) -> str:
        return self.base + layout.activity_page(a)

    def vtimezone(self, tzid: str, first: date, last: date) -> bytes:
        # Computed from zoneinfo over whole years that depend only on the campaigns' dates, so
        # the VTIMEZONE is the same on every build (and small: Asia/Shanghai has no DST now).
        key = (tzid, first, last)
        if key not in self.vtimezones:
            tz = Timezone.from_tzid(tzid, first_date=first, last_date=last)
            self.vtimezones[key] = to_ical(tz)
        return self.vtimezones[key]


def _status(a: Activity) -> tuple[str, str]:
    """(STATUS, summary prefix).

    Postponed → TENTATIVE, not CANCELLED: clients delete or strike through cancelled events,
    but a postponed activity will still happen at a date to be announced; TENTATIVE keeps it on
    the subscriber's calendar marked as not confirmed, and 【已延期】 says why.
    """
    if a.status == "cancelled":
        return "CANCELLED", "【已取消】"
    if a.status == "postponed":
        return "TENTATIVE", "【已延期】"
    return ("TENTATIVE" if a.tentative else "CONFIRMED"), ""


def _description(a: Activity, page: str) -> str:
    c = a.campaign
    lines = [c.label]
    if a.status == "cancelled":
        lines.append("【已取消】本活动已取消。")
    elif a.status == "postponed":
        lines.append("【已延期】本活动已延期，新的时间以活动页面为准。")
    elif a.tentative:
        lines.append("时间暂定，以活动页面为准。")
    lines.append(f"主办：{_name(a.organizer)}")
    if a.co_organizers:
        lines.append("协办：" + "、".join(_name(x) for x in a.co_organizers))
    if a.audiences:
        lines.append("面向：" + "、".join(c.audiences.get(x, x) for x in a.audiences))
    reg = a.registration
    if reg is not None:
        bits = ["需要报名" if reg.required else "无需报名"]
        if reg.deadline:
            bits.append(f"截止 {reg.deadline}")
        if reg.capacity:
            bits.append(f"名额 {reg.capacity} 人")
        lines.append("报名：" + "，".join(bits) + (f"，报名链接 {_url(reg.url)}" if reg.url else ""))
    if a.online:
        kind = f"（{_name(a.online.platform)}）" if a.online.platform else ""
        lines.append(f"线上参与{kind}：{_url(a.online.url)}")
    if a.contact and a.contact.public:
        who = " ".join(_name(x) for x in (a.contact.name, a.contact.phone, a.contact.email) if x)
        if who:
            lines.append(f"联系：{who}")
    lines.append(f"活动页面：{page}")
    if a.description:
        lines += ["", _plain(a.description)]
    return "\n".join(lines)


# CATEGORIES is a comma-separated list, and readers disagree about an escaped "\,": libical and
# icalendar keep it in the name, older node-ical releases split there (and keep the backslash).
# Chinese names take the full-width marks instead, which every reader keeps.
_LIST_MARKS = str.maketrans({",": "，", ";": "；", "\\": "＼"})


def _dedupe(items: Iterable[str]) -> list[str]:
    """Category names for CATEGORIES: without list separators, each once."""
    return list(dict.fromkeys(x.translate(_LIST_MARKS) for x in items if x))


def _dt(v: date | datetime) -> str:
    """A DATE or a floating/local DATE-TIME value (the TZID goes in the parameter)."""
    if isinstance(v, datetime):
        return f"{v.year:04d}{v.month:02d}{v.day:02d}T{v.hour:02d}{v.minute:02d}{v.second:02d}"
    return f"{v.year:04d}{v.month:02d}{v.day:02d}"


def _utc(v: datetime) -> str:
    return _dt(v.astimezone(UTC)) + "Z"


def _local_utc(v: date | datetime) -> str:
    """A local time of a UTC-equivalent zone: it already is UTC."""
    return _dt(v) + "Z"


@cache
def _is_utc(tzid: str) -> bool:
    return is_utc(ZoneInfo(tzid))  # icalendar's own test, so the bytes stay icalendar's


def _text(s: str) -> str:
    """iCalendar TEXT escaping, the same replacements in the same order as icalendar's
    ``parser.string._escape_char``."""
    return (
        s.replace("\\N", "\n").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
        .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
    )


def _times(a: Activity) -> list[str]:
    """DTSTART/DTEND, RRULE and EXDATE content lines, all in DTSTART's value type."""
    start, end = a.start, a.end_value
    r = a.recurrence
    days = a.occurrence_days() if r else []
    if r and days and days[0] != a.first_day:
        # RFC 5545 leaves DTSTART outside the rule undefined (most clients show it anyway), so
        # start at the first real session: same phase for INTERVAL, same weekday pattern.
        shift = days[0] - a.first_day
        start, end = start + shift, end + shift
    tzid = a.campaign.timezone
    timed = isinstance(start, datetime) and isinstance(end, datetime)
    # icalendar writes times in a UTC-equivalent zone (UTC, Etc/UTC, GMT …) as UTC, without TZID
    fmt = _local_utc if timed and _is_utc(tzid) else _dt
    if timed:
        param = "" if fmt is _local_utc else f";TZID={tzid}"
        lines = [f"DTSTART{param}:{fmt(start)}", f"DTEND{param}:{fmt(end)}"]
    else:
        param = ";VALUE=DATE"
        lines = [f"DTSTART{param}:{_dt(start)}", f"DTEND{param}:{_dt(end + timedelta(days=1))}"]
        # DTEND is exclusive; YAML's end is inclusive
    rule = recurrence_rule(a)
    if rule is not None:
        lines.append(f"RRULE:{rule[0]}")
        if rule[1]:
            lines.append(f"EXDATE{param}:" + ",".join(rule[1]))
    return lines


def recurrence_rule(a: Activity) -> tuple[str, list[str]] | None:
    """The RRULE value and the EXDATE values of a repeating activity exactly as its VEVENT has
    them (EXDATE in DTSTART's value type: local times of the campaign's zone, or dates), or None
    when it does not repeat. Open data (data.py) publishes the same strings."""
    r = a.recurrence
    days = a.occurrence_days() if r else []
    if not r or not days:
        return None
    tzid = a.campaign.timezone
    timed = isinstance(a.start, datetime) and isinstance(a.end_value, datetime)
    fmt = _local_utc if timed and _is_utc(tzid) else _dt
    rule = [f"FREQ={r.freq.upper()}"]
    if timed:
        # With a TZID DTSTART, UNTIL must be UTC (RFC 5545 3.3.10); the end of the last day,
        # local time, includes a session on that day whatever its hour.
        rule.append("UNTIL=" + _utc(datetime.combine(r.until, time(23, 59, 59), ZoneInfo(tzid))))
    else:
        rule.append(f"UNTIL={_dt(r.until)}")
    if r.interval > 1:
        rule.append(f"INTERVAL={r.interval}")
    if r.freq == "weekly" and r.byday:
        rule.append("BYDAY=" + ",".join(d.upper() for d in sorted(set(r.byday), key=_WEEKDAYS.index)))
    first = days[0]
    skip = sorted(d for d in set(r.except_) if first < d <= r.until)
    at = a.start.time() if isinstance(a.start, datetime) and timed else None
    return ";".join(rule), [fmt(datetime.combine(d, at) if at is not None else d) for d in skip]


def _vevent(a: Activity, ctx: _Context) -> bytes:
    """One VEVENT, serialised.

    Written as content lines by hand rather than through ``icalendar.Event``, which is far slower
    and larger at national size (README "性能"). The escaping,
    value formats and folding are icalendar's; tests/ical_reference.py builds the same event with
    icalendar and ``test_events_match_icalendar`` holds the two to identical bytes.
    """
    c = a.campaign
    page = ctx.page(a)
    seq, modified = revision(ctx.history, a)
    known = ctx.history.get(a.pos.path)
    status, prefix = _status(a)
    stamp = _utc(modified)
    lines = [f"UID:{_text(f'{a.slug}.{c.id}@{ctx.host}')}", f"DTSTAMP:{stamp}"]
    # DTSTAMP = LAST-MODIFIED: the build time would change every event on every build, and for a
    # published feed the event's data was last (re)issued when its file last changed.
    if known is not None and known.commits:
        lines.append(f"CREATED:{_utc(min(known.first, modified))}")
    lines += [f"LAST-MODIFIED:{stamp}", f"SEQUENCE:{seq}", f"SUMMARY:{_text(prefix + _line(a.title))}"]
    lines += _times(a)
    lines.append(f"STATUS:{status}")
    if a.venue:
        lines.append(f"LOCATION:{_text(_venue(a))}")
        if a.venue.lat is not None and a.venue.lng is not None:
            # GEO means WGS-84 (RFC 5545 3.8.1.6); the YAML holds 高德's GCJ-02
            lat, lng = wgs84(a.venue.lat, a.venue.lng)
            lines.append(f"GEO:{float(lat)};{float(lng)}")
    elif a.online:
        lines.append(f"LOCATION:{_text(a.online.url)}")
    lines.append(f"URL:{page}")
    cat = c.category_list.get(a.category)
    names = [c.audiences.get(x, x) for x in a.audiences]
    cats = _dedupe([c.label, cat.name if cat else a.category, *names])
    lines.append("CATEGORIES:" + ",".join(_text(x) for x in cats))
    lines.append(f"DESCRIPTION:{_text(_description(a, page))}")
    if a.all_day or a.status == "cancelled":
        # a week-long exhibition must not block the day as busy, nor a cancelled activity its hours
        lines.append("TRANSP:TRANSPARENT")
    return b"".join(
        [b"BEGIN:VEVENT\r\n", *(_fold(line) + b"\r\n" for line in lines), b"END:VEVENT\r\n"]
    )


def _event(a: Activity, ctx: _Context, data: bytes | None = None) -> _Built:
    return _Built((a.start_key, a.slug, a.campaign.id), data if data is not None else _vevent(a, ctx))


def _event_key(a: Activity, ctx: _Context, site_key: str) -> str | None:
    """The cache key of ``a``'s VEVENT: its file (with its campaign), the site, and the history
    the event shows (SEQUENCE, LAST-MODIFIED, CREATED)."""
    if not a.source_key:
        return None
    known = ctx.history.get(a.pos.path)
    first = known.first if known is not None and known.commits else None
    return key(site_key, "event", a.source_key, repr((revision(ctx.history, a), first)))


# ---- calendars ------------------------------------------------------------------------------

Zones = dict[str, tuple[date, date]]  # TZID → (first, last) day its VTIMEZONE must cover


def _years(campaigns: Iterable[Campaign]) -> tuple[date, date]:
    cs = list(campaigns)
    return date(min(c.span.start.year for c in cs), 1, 1), date(max(c.span.end.year for c in cs) + 1, 1, 1)


def _prop(name: str, value: object, params: dict[str, str] | None = None) -> bytes:
    """One folded property line, through icalendar's own value types and content-line writer."""
    return _fold(Contentline.from_parts(name, Parameters(params or {}), value, sorted=False)) + b"\r\n"


# No METHOD: a feed is not an iTIP message, and METHOD:PUBLISH would need an ORGANIZER in every
# event (RFC 5546 3.2.1; libical's restriction check fails without one). The issuing body has no
# e-mail address in the data, and a web URL is no cal-address clients accept (Outlook and
# Thunderbird expect mailto:; with one they offer to reply to the "organizer"). RFC 5545 3.7.2:
# without METHOD no scheduling transaction is assumed; Outlook imports such a file as PUBLISH
# ([MS-OXCICAL] V0078); Apple Calendar, Google Calendar and Thunderbird subscriptions ignore METHOD.
_HEAD = b"BEGIN:VCALENDAR\r\n" + b"".join(
    _prop(name, vText(value))
    for name, value in [("PRODID", PRODID), ("VERSION", "2.0"), ("CALSCALE", "GREGORIAN")]
)


def _refresh(every: timedelta) -> bytes:
    return _prop("REFRESH-INTERVAL", vDuration(every), {"VALUE": "DURATION"}) + _prop(
        "X-PUBLISHED-TTL", vText(vDuration(every).to_ical().decode())
    )


def _calendar(
    ctx: _Context, path: str, name: str, desc: str, url: str, main_tz: str, zones: Zones,
    events: list[_Built],
) -> bytes:
    """A VCALENDAR: properties, VTIMEZONEs, then the cached VEVENT bytes.

    Each VEVENT is serialised once and reused in every feed it belongs to (up to five), and the
    calendar properties are written as content lines by hand (escaped and folded as in
    ``_vevent``; ``reference_header`` in the tests holds them to icalendar's bytes): there is a
    feed per activity, too many for a Calendar object or icalendar's property writer.
    Concatenating is safe because a serialised component is self-contained (whole folded lines,
    each ending in CRLF) and its TZIDs are covered by the VTIMEZONEs here; the tests parse every
    assembled file with icalendar and with ical.js.
    """
    name = _text(_line(name))
    desc = _text(_clean(desc))
    lines = [f"NAME:{name}", f"X-WR-CALNAME:{name}", f"DESCRIPTION:{desc}", f"X-WR-CALDESC:{desc}",
             f"URL:{url}", f"SOURCE:{ctx.base}{path}", f"X-WR-TIMEZONE:{_text(main_tz)}"]
    parts = [_HEAD, *(_fold(line) + b"\r\n" for line in lines), ctx.refresh]
    # Always include the campaign's VTIMEZONE, even for an all-day-only or empty feed: it is what
    # X-WR-TIMEZONE names, and it keeps an empty feed valid (RFC 5545 wants one component).
    parts += [ctx.vtimezone(tzid, *zones[tzid]) for tzid in sorted(zones)]
    parts += [b.data for b in sorted(events, key=lambda b: b.sort)]
    parts.append(_END)
    return b"".join(parts)


def iter_feeds(
    site: Site, base_url: str, history: History, out: Writer | None = None,
    options: BuildOptions = DEFAULT_OPTIONS, *, cache: Cache | None = None, site_key: str = "",
) -> Iterator[tuple[str, bytes]]:
    """Every .ics file as (path, bytes), one at a time: a national site's feeds add up to
    gigabytes, so the writer stores each before the next is made. With ``out``, the one-event
    feed of each activity is made and written there where its event is made (on every core for
    large campaigns), or not made when ``out`` already holds it, and not yielded: there are as
    many of them as activities.
    ``cache``: VEVENTs of unchanged activities are taken from it (``site_key``: see SiteBuild)."""
    ctx = _Context(base_url, history, options)
    campaigns = site.published()
    everything: list[_Built] = []
    for c in campaigns:
        zones = {c.timezone: _years([c])}
        ctx.vtimezone(c.timezone, *zones[c.timezone])  # made once, before any worker forks

        def own_feed(a: Activity, event: _Built, c: Campaign = c, zones: Zones = zones) -> tuple[str, bytes]:
            path = layout.activity_feed(a)
            title = _line(a.title)
            return path, _calendar(ctx, path, f"{c.title} · {title}", f"{c.label} · {title}", ctx.page(a),
                                   c.timezone, zones, [event])

        table = cache.table(f"events-{c.id}") if cache is not None else None
        keys = [_event_key(a, ctx, site_key) if table is not None else None for a in c.activities]

        def event(i: int, own: Callable[[Activity, _Built], tuple[str, bytes]] = own_feed,
                  c: Campaign = c, keys: list[str | None] = keys, table: Table | None = table) -> _Built:
            a, k = c.activities[i], keys[i]
            made = _event(a, ctx, table.get(k) if table is not None and k is not None else None)
            if out is not None:
                mine = key(k, "own") if k is not None else None  # the same event, the same file
                if not out.reuse(layout.activity_feed(a), mine):
                    out.write(*own(a, made), mine)
            return made

        # worth both cores for large campaigns (and the one-event feeds are written there too);
        # the events already made, whose one-event feed is kept as it is, are taken here: after a
        # one-file edit that is nearly all of them, and forking to fetch them costs more
        slots: list[_Built | None] = [None] * len(c.activities)
        todo: list[int] = []
        found = [table.get(k) if table is not None and k is not None else None for k in keys]
        kept = out.reuse_many([(layout.activity_feed(a), key(k, "own") if data is not None else None)
                               for a, k, data in zip(c.activities, keys, found, strict=True)]) \
            if out is not None else [False] * len(keys)
        for i, (a, data, is_kept) in enumerate(zip(c.activities, found, kept, strict=True)):
            if is_kept:
                slots[i] = _event(a, ctx, data)
            else:
                todo.append(i)
        for i, made in zip(todo, fork_map(event, todo, parallel=options.parallel, min_items=2000),
                           strict=True):
            slots[i] = made
        vevents = cast(list[_Built], slots)  # every slot is filled
        if table is not None:
            for k, made in zip(keys, vevents, strict=True):
                if k is not None:
                    table.put(k, made.data)
            table.save()
        built = dict(zip(map(id, c.activities), vevents, strict=True))
        everything.extend(built.values())
        home = ctx.base + layout.campaign_page(c)
        period = f"集中开展时间 {c.period.start} 至 {c.period.end}"
        intro = f"{c.label}：{c.title}。主题：{theme_text(c)}。{period}。"

        event_keys = dict(zip(map(id, c.activities), keys, strict=True))

        def feed(path: str, part: str, desc: str, url: str, acts: Iterable[Activity],
                 c: Campaign = c, zones: Zones = zones, built: dict = built,
                 event_keys: dict = event_keys) -> Iterator[tuple[str, bytes]]:
            """The feed, yielded; or, with ``out``, written there with its key (campaign.yml and
            its events' keys), or kept when ``out`` holds it from the same key."""
            acts = list(acts)
            members = [event_keys[id(a)] for a in acts]
            k = (key(site_key, "feed", path, c.source_key, *members)
                 if out is not None and c.source_key and None not in members else None)
            if k is not None and out is not None and out.reuse(path, k):
                return
            name = f"{c.title} · {part}" if part else c.title
            data = _calendar(ctx, path, name, desc, url, c.timezone, zones, [built[id(a)] for a in acts])
            if k is not None and out is not None:
                out.write(path, data, k)
            else:
                yield path, data

        synced = "活动变更和取消会自动同步到订阅的日历。"
        yield from feed(layout.campaign_feed(c), "", intro + synced, home, c.activities)
        groups = c.activities_by_district()
        for did, dname in c.districts.items():
            page = ctx.base + layout.district_page(c, did)
            yield from feed(layout.district_feed(c, did), dname, f"{intro}{dname}的活动。", page, groups[did])
        for cat in c.category_list.values():
            members = {cat.id, *cat.children}  # a parent's feed holds its children's activities
            yield from feed(layout.category_feed(c, cat.id), cat.name, f"{intro}{cat.name}。", home,
                            [a for a in c.activities if a.category in members])
        if out is None:
            for a in c.activities:
                yield own_feed(a, built[id(a)])
    zones: Zones = {
        tzid: _years(c for c in campaigns if c.timezone == tzid) for tzid in {c.timezone for c in campaigns}
    }
    if not zones:  # no published campaign: still one component, so still a valid calendar
        zones[DEFAULT_TZ] = (Timezone.DEFAULT_FIRST_DATE, Timezone.DEFAULT_LAST_DATE)
    counts = Counter(c.timezone for c in campaigns for _ in c.activities)
    main_tz = min(zones, key=lambda z: (-counts[z], z))  # X-WR-TIMEZONE takes one: the busiest
    desc = "、".join(c.title for c in campaigns) or "暂无已发布的活动"
    yield "calendar.ics", _calendar(ctx, "calendar.ics", options.site_feed_name, desc, ctx.base, main_tz,
                                    zones, everything)


def subscribe_links(feed_url: str, name: str | None = None) -> dict[str, str]:
    """Ways to subscribe to ``feed_url`` (an http(s) URL): webcal:// opens the system calendar
    (Apple, Thunderbird, most Android apps), Google and Outlook take the feed by URL."""
    parts = urlsplit(feed_url)
    webcal = urlunsplit(("webcal", *parts[1:]))
    outlook = f"https://outlook.live.com/calendar/0/addfromweb?url={iri_value(feed_url)}"
    if name:
        outlook += f"&name={iri_value(name)}"
    return {
        "webcal": webcal,
        "https": feed_url,
        "google": f"https://calendar.google.com/calendar/r?cid={iri_value(webcal)}",
        "outlook": outlook,
    }


# ---- changes.xml (Atom 1.0) -----------------------------------------------------------------


def _rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def change_kind(a: Activity, sequence: int) -> str:
    if a.status == "cancelled":
        return "已取消"
    if a.status == "postponed":
        return "已延期"
    return "新增" if sequence == 0 else "更新"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = _clean(text)  # ElementTree escapes &<>"; controls are not legal XML at all
    return el


def changes_feed(
    site: Site, base_url: str, history: History, options: BuildOptions = DEFAULT_OPTIONS
) -> dict[str, bytes]:
    """``<campaign>/changes.xml``: the latest change of each activity, newest first.

    One entry per activity (its current revision): the entry id carries SEQUENCE, so a feed
    reader shows a change again when the activity changes again.
    """
    ctx = _Context(base_url, history, options)
    out: dict[str, bytes] = {}
    for c in site.published():
        revs = [(a, *revision(history, a)) for a in c.activities]
        revs.sort(key=lambda r: (-r[2].timestamp(), r[0].slug))
        home = ctx.base + layout.campaign_page(c)
        # never the build time: with no activity, the start of the campaign period
        start = datetime.combine(c.period.start, time(), ctx.zone(c.timezone))
        updated = revs[0][2] if revs else start
        feed = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": "zh-CN"})
        _sub(feed, "id", f"tag:{ctx.host},{c.year}:{c.id}/changes")
        _sub(feed, "title", f"{c.title} · 活动变动")
        _sub(feed, "subtitle", f"{c.label}：新增、更新、延期和取消的活动")
        _sub(feed, "updated", _rfc3339(updated))
        _sub(feed, "link", rel="self", type="application/atom+xml", href=ctx.base + layout.changes_feed(c))
        _sub(feed, "link", rel="alternate", type="text/html", href=home)
        author = _sub(feed, "author")
        _sub(author, "name", c.document.issuers[0] if c.document and c.document.issuers else c.region)
        _sub(feed, "generator", "kepu-calendar")
        for a, seq, modified in revs[:options.max_changes]:
            kind = change_kind(a, seq)
            entry = _sub(feed, "entry")
            _sub(entry, "id", f"tag:{ctx.host},{c.year}:{c.id}/{a.slug}/{seq}")
            _sub(entry, "title", f"【{kind}】{_line(a.title)}")
            _sub(entry, "updated", _rfc3339(modified))
            _sub(entry, "link", rel="alternate", type="text/html", href=ctx.page(a))
            _sub(entry, "category", term=kind)
            district = c.districts.get(a.district, a.district)
            where = where_text(a)
            summary = f"{c.label} · {district}：{when_text(a)}" + (f"；{where}" if where else "")
            _sub(entry, "summary", summary)
        ET.indent(feed)
        out[layout.changes_feed(c)] = ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"
    return out
