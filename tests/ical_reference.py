"""The reference for feeds._vevent: the same VEVENT built with the icalendar library.

The generator writes VEVENT content lines by hand for speed (about 1 ms an event in icalendar, a
few microseconds by hand); this module builds every event the way the library does, and
test_feeds.test_events_match_icalendar asserts the bytes are identical.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Event, Parameters, vText, vUri
from icalendar.parser import Contentline
from icalendar.parser.string import _foldline, _unescape_char

from generator.model import Activity
from generator.outputs.feeds import (
    _WEEKDAYS,
    _Context,
    _dedupe,
    _description,
    _line,
    _status,
    _venue,
    revision,
    to_ical,
)
from generator.outputs.geo import wgs84


def _times(a: Activity, tz: ZoneInfo, ev: Event) -> None:
    """DTSTART/DTEND, RRULE and EXDATE, all in DTSTART's value type."""
    start, end = a.start, a.end_value
    r = a.recurrence
    days = a.occurrence_days() if r else []
    if r and days and days[0] != a.first_day:
        # RFC 5545 leaves DTSTART outside the rule undefined (most clients show it anyway), so
        # start at the first real session: same phase for INTERVAL, same weekday pattern.
        shift = days[0] - a.first_day
        start, end = start + shift, end + shift
    if isinstance(start, datetime) and isinstance(end, datetime):
        ev.add("dtstart", start.replace(tzinfo=tz))
        ev.add("dtend", end.replace(tzinfo=tz))
    else:
        assert isinstance(start, date) and isinstance(end, date)
        ev.add("dtstart", start)
        ev.add("dtend", end + timedelta(days=1))  # DTEND is exclusive; YAML's end is inclusive
    if not r or not days:
        return
    rule: dict[str, object] = {"FREQ": r.freq.upper()}
    if isinstance(start, datetime):
        # With a TZID DTSTART, UNTIL must be UTC (RFC 5545 3.3.10); the end of the last day,
        # local time, includes a session on that day whatever its hour.
        rule["UNTIL"] = datetime.combine(r.until, time(23, 59, 59), tz).astimezone(UTC)
    else:
        rule["UNTIL"] = r.until
    if r.interval > 1:
        rule["INTERVAL"] = r.interval
    if r.freq == "weekly" and r.byday:
        rule["BYDAY"] = [d.upper() for d in sorted(set(r.byday), key=_WEEKDAYS.index)]
    ev.add("rrule", rule)
    first = days[0]
    skip = sorted(d for d in set(r.except_) if first < d <= r.until)
    if skip:
        if isinstance(start, datetime):
            ev.add("exdate", [datetime.combine(d, start.time(), tz) for d in skip])
        else:
            ev.add("exdate", skip)


def reference_vevent(a: Activity, ctx: _Context) -> Event:
    c = a.campaign
    tz = ctx.zone(c.timezone)
    page = ctx.page(a)
    seq, modified = revision(ctx.history, a)
    known = ctx.history.get(a.pos.path)
    status, prefix = _status(a)
    ev = Event()
    ev.add("uid", f"{a.slug}.{c.id}@{ctx.host}")
    # DTSTAMP = LAST-MODIFIED: the build time would change every event on every build, and for a
    # published feed the event's data was last (re)issued when its file last changed.
    ev.add("dtstamp", modified)
    if known is not None and known.commits:
        ev.add("created", min(known.first, modified))
    ev.add("last-modified", modified)
    ev.add("sequence", seq)
    ev.add("summary", prefix + _line(a.title))
    _times(a, tz, ev)
    ev.add("status", status)
    if a.venue:
        ev.add("location", _venue(a))
        if a.venue.lat is not None and a.venue.lng is not None:
            ev.add("geo", wgs84(a.venue.lat, a.venue.lng))  # GEO is WGS-84; the YAML GCJ-02
    elif a.online:
        ev.add("location", a.online.url)
    ev.add("url", vUri(page))
    cat = c.category_list.get(a.category)
    names = [c.audiences.get(x, x) for x in a.audiences]
    ev.add("categories", _dedupe([c.label, cat.name if cat else a.category, *names]))
    ev.add("description", _description(a, page))
    if a.all_day or a.status == "cancelled":
        ev.add("transp", "TRANSPARENT")  # not busy: an exhibition's whole days, a cancelled event
    return ev


def reference_bytes(a: Activity, ctx: _Context) -> bytes:
    return to_ical(reference_vevent(a, ctx))



def reference_header(data: bytes) -> bytes:
    """The calendar properties of a feed, unescaped by icalendar and written again by its
    property writer: equal bytes mean our escaping and folding are icalendar's."""
    out = [b"BEGIN:VCALENDAR\r\n"]
    head = data[: data.index(b"BEGIN:VTIMEZONE")].decode().replace("\r\n ", "").split("\r\n")
    for line in head[1:]:
        name, raw = line.split(":", 1)
        if name in ("REFRESH-INTERVAL;VALUE=DURATION", "X-PUBLISHED-TTL"):
            break
        value = vUri(raw) if name in ("URL", "SOURCE") else vText(_unescape_char(raw))
        out.append(_foldline(Contentline.from_parts(name, Parameters({}), value, sorted=False)).encode())
        out.append(b"\r\n")
    return b"".join(out)
