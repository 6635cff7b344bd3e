"""Step 5a, pages: page bodies (HTML) rendered from the model with Jinja2.

No MkDocs import: the adapter (generator/mkdocs) puts these bodies into mkdocs-material pages.
Templates live in generator/outputs/templates; a file of the same name in site_theme/kepu/
overrides one, so a deploying organisation restyles without touching generator/. All links are
relative (the site works under any sub-path and from a local folder); only feeds and QR codes
use the absolute site URL.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import MutableMapping
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import cmarkgfm
import jinja2
import nh3
import zxingcpp
from markupsafe import Markup

from .. import branding
from ..model import Activity, Campaign, Site
from . import site as url_of
from .data import campaign_stats
from .feeds import subscribe_links
from .geo import wgs84
from .options import DEFAULT_OPTIONS, BuildOptions
from .text import (
    LEVEL_WORD,
    MODE_WORD,
    WEEKDAY_KEYS,
    date_text,
    day_hours,
    first_session_day,
    html_to_text,
    one_day,
    sessions,
    sessions_attr,
    span_text,
    when_text,
)
from .urls import iri_query

TEMPLATES = Path(__file__).parent / "templates"

# What a description may contain after Markdown: formatting, lists, links, tables; no scripts,
# styles, event handlers, iframes or images from other hosts (the site must work offline).
ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "u", "s", "del", "ul", "ol", "li", "a", "h3", "h4", "h5",
    "blockquote", "code", "pre", "table", "thead", "tbody", "tr", "th", "td", "hr",
}
ALLOWED_ATTRS = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
# One cleaner for the build: nh3.clean builds ammonia's rules from these sets on every call,
# three quarters of its time on a description.
_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRS,
    url_schemes={"http", "https", "mailto", "tel"},
    link_rel="noopener noreferrer nofollow",
)


@functools.lru_cache(maxsize=4096)
def sanitize_markdown(text: str | None) -> Markup:
    """Markdown → HTML → nh3 (ammonia) allow-list: raw HTML in YAML is never trusted.

    GitHub-flavoured Markdown through cmark-gfm (C): many times faster than Python-Markdown (README
    "性能"), and GFM is what staff know from the pull requests they edit in (lists
    without a blank line before them, bare links). Raw HTML is passed on to nh3 rather than
    dropped by cmark (and GFM's tagfilter is left out, which would show a script's source as
    text), so that nh3 keeps the text of pasted HTML and removes the markup and scripts."""
    if not text:
        return Markup("")
    html = cmarkgfm.markdown_to_html_with_extensions(
        text, options=cmarkgfm.Options.CMARK_OPT_UNSAFE, extensions=["table", "autolink", "strikethrough"]
    )
    clean = _CLEANER.clean(html)
    # A line break inside a Chinese paragraph is a soft break, which browsers show as a space:
    # between two CJK characters it is joined without one, as Chinese is written.
    return Markup(_CJK_BREAK.sub("", clean))


_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
# the line break first, then the character before it: a pattern that starts with a lookbehind is
# tried at every character, one that starts with "\n" only where there is one (a tenth of the time)
_CJK_BREAK = re.compile(f"\n(?<=[{_CJK}]\n)(?=[{_CJK}])")


def plain_text(description: str | None) -> str:
    """The description as plain text (sanitised first): for search, meta tags and JSON-LD."""
    return html_to_text(str(sanitize_markdown(description)))


def inert_json(data: Any) -> Markup:
    """JSON for a <script> block: <, > and & escaped so no text can end or comment out the block."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))  # no spaces: in every page
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))


_BLANK = " \t\r"  # ASCII only: U+3000 indents Chinese text


def squeeze(html: str) -> str:
    """Runs of whitespace with a line break become one line break, which renders the same outside
    <pre> and <textarea> (HTML with either is returned as is): templates indent for their readers,
    and the indentation of the activity and district pages' bodies and shells is written once per
    page, 30,000 times and more.

    Line by line rather than re.sub(r"[ \t\r]*\n[ \t\r\n]*", "\n"): a pattern that may start
    with whitespace is tried at every character, and the QR code's dash pattern alone has hundreds
    of spaces; stripping the lines is a quarter of the time and gives the same text: each line
    loses the blanks at its ends, and lines left empty are dropped (the first and the last keep
    their outer end, which has no line break beside it)."""
    if "<pre" in html or "<textarea" in html:
        return html
    lines = html.split("\n")
    if len(lines) == 1:
        return html
    inner = [line for line in map(str.strip, lines[1:-1], [_BLANK] * (len(lines) - 2)) if line]
    return "\n".join([lines[0].rstrip(_BLANK), *inner, lines[-1].lstrip(_BLANK)])


# For qr_svg: modules as letters (dark 0 → d, light 255 and the step between rows 1 → l).
_QR_LETTERS = bytes.maketrans(b"\x00\x01\xff", b"dll")


class _DashPairs(dict[bytes, str]):
    """A dark run and the light run after it (b"ddlll") → their lengths as a dash pattern ("2 3"),
    filled on first use. Codes repeat the same few short pairs (a hundred or two in all; at most
    177 × 357), so looking a pair up replaces counting and formatting two runs in a Python loop,
    which was half of the time qr_svg spends in Python."""

    def __missing__(self, pair: bytes) -> str:
        dark = pair.count(b"d")
        out = self[pair] = f"{dark} {len(pair) - dark}"
        return out


_QR_PAIRS = _DashPairs()


QR_MASK = 1  # see qr_svg


def qr_svg(text: str, scale: int = 4) -> Markup:
    """A QR code as one compact SVG path. zxing-cpp (C++) encodes it: a pure-Python encoder would
    be a large share of a national-size build (README "性能").

    The data mask is fixed (QR_MASK) rather than chosen by the standard's penalty score: scoring
    all eight masks was three quarters of the encoder's time. Mask 1 (alternate rows) decoded as
    often as the scored choice in zbar under blur and noise, and keeps the longest horizontal runs,
    so its code has the fewest runs of the eight."""
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M", data_mask=QR_MASK)
    img = memoryview(code.to_image(scale=1, add_quiet_zones=False))
    n = img.shape[0]  # always odd (21 + 4 × version)
    data = bytes(img)
    # One stroke snakes through the rows (left to right, down one module, right to left, …) and
    # a dash pattern draws its dark runs: each run costs its length and a space ("3 "), where a
    # path of strokes and moves costs "h3" for a dark run and "m2 0" for a light one; a fifth
    # fewer bytes per activity page, and Chromium paints the same picture (a few edge pixels differ
    # by 1–6 of 255 in anti-aliasing). The stroke turns one module out in the quiet zone (b"\x01":
    # light), never where a dash ends: librsvg (cairo) draws a corner's join when a dash ends at
    # it, a speck beside the code that kept readers from finding it at some sizes. The code's
    # top-left corner is always dark (finder pattern), so the pattern starts with a dash, as
    # SVG's does.
    rows = [data[y * n:(y + 1) * n] for y in range(n)]
    snake = b"\x01\x01\x01".join(row if y % 2 == 0 else row[::-1] for y, row in enumerate(rows)) + b"\x01"
    # a space wherever light meets dark, then each piece (a dark run and a light one; the snake
    # starts dark and ends light) looked up (three times faster than matching the runs with a
    # regular expression)
    pairs = snake.translate(_QR_LETTERS).replace(b"ld", b"l d").split()
    dashes = " ".join(map(_QR_PAIRS.__getitem__, pairs))
    # the first row from the code's left edge, the others from one module out on either side; on
    # the middle of their modules (a one-module stroke runs along its row's centre line)
    path = f"M4 4.5h{n + 1}{f'v1h-{n + 2}v1h{n + 2}' * (n // 2)}"
    size = n + 8  # 4-module quiet zone, as the QR standard asks
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="{size * scale}" '
        f'height="{size * scale}" role="img" aria-label="本页二维码"><title>本页二维码</title>'
        f'<rect width="{size}" height="{size}" fill="#fff"/><path fill="none" stroke="#000" '
        f'stroke-dasharray="{dashes}" d="{path}"/></svg>'
    )


def _closes_at(a: Activity) -> datetime | None:
    """The instant registration closes: midnight after the deadline day, campaign zone."""
    r = a.registration
    if r is None or r.deadline is None:
        return None
    return datetime.combine(r.deadline + timedelta(1), datetime.min.time(), ZoneInfo(a.campaign.timezone))


def registration_closes(a: Activity) -> str:
    """That instant for the visitor's script: "" when there is no deadline (then registration
    closes when the activity ends)."""
    closes = _closes_at(a)
    return closes.isoformat(timespec="minutes") if closes else ""


def online_button(a: Activity) -> str:
    """The words on the online activity's button: a live stream is joined, anything else entered."""
    platform = (a.online.platform or "") if a.online else ""
    return "进入直播" if "直播" in platform else "进入线上活动"


def amap_link(a: Activity) -> str | None:
    v = a.venue
    if v is None or v.lat is None or v.lng is None:
        return None
    # 高德 URI API: opens the app on phones, the web map elsewhere (coordinates are GCJ-02)
    return "https://uri.amap.com/marker?" + iri_query(
        {"position": f"{v.lng},{v.lat}", "name": v.name, "coordinate": "gaode", "callnative": "1"}
    )


def google_recurrence(a: Activity) -> str | None:
    """RRULE for Google's template link, "" for a one-off, None where it cannot say the
    schedule (exceptions: the link has no EXDATE), in which case no link is offered."""
    r = a.recurrence
    if r is None:
        return ""
    if r.except_:
        return None
    rule = [f"FREQ={r.freq.upper()}", f"UNTIL={r.until:%Y%m%d}"]
    if r.interval > 1:
        rule.append(f"INTERVAL={r.interval}")
    if r.freq == "weekly" and r.byday:
        rule.append("BYDAY=" + ",".join(d.upper() for d in sorted(set(r.byday), key=WEEKDAY_KEYS.index)))
    return "RRULE:" + ";".join(rule)


def google_calendar_link(a: Activity, page_url: str) -> str | None:
    recur = google_recurrence(a)
    if recur is None or a.status == "cancelled":
        return None
    fmt = "%Y%m%dT%H%M%S"
    if isinstance(a.start, datetime):
        end = a.end_value
        dates = f"{a.start.strftime(fmt)}/{end.strftime(fmt)}"
    else:  # the first session: one day of a repeating all-day activity, else the whole span
        last = a.first_day if a.recurrence else a.end_value
        dates = f"{a.first_day:%Y%m%d}/{(last + timedelta(1)):%Y%m%d}"
    where = a.venue.name + (f" {a.venue.address}" if a.venue.address else "") if a.venue else ""
    params = {
        "action": "TEMPLATE", "text": a.title, "dates": dates, "ctz": a.campaign.timezone,
        "details": f"{a.campaign.label}\n{page_url}", "location": where or (a.online.url if a.online else ""),
    }
    if recur:
        params["recur"] = recur
    return "https://calendar.google.com/calendar/render?" + iri_query(params)


SUB_EVENTS = 30  # sessions listed as subEvents of a repeating activity (the first ones)
LD_SUMMARY = 120  # characters of the description in JSON-LD: what a search result shows, no more


def ld_summary(text: str) -> str:
    """The description's opening for JSON-LD: whole sentences up to LD_SUMMARY characters, else
    cut with "…". The page itself carries all of it; 300 characters of Chinese here were ~0.9 KB
    of every activity page (issue 16, weight)."""
    if len(text) <= LD_SUMMARY:
        return text
    head = text[:LD_SUMMARY]
    end = max(head.rfind(p) for p in "。！？!?")
    return head[: end + 1] if end >= LD_SUMMARY // 3 else head[: LD_SUMMARY - 1] + "…"
_SCHEMA = "https://schema.org/"
_DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def brand_image(c: Campaign, logo_files: dict[str, str | None], base_url: str) -> str | None:
    """The absolute URL of the campaign's first logo that has an image file, if any (no
    generated card: a text-only logo has no image to show)."""
    for logo in c.all_logos:
        src = logo_files.get(logo.id)
        if src:
            return base_url + src
    return None


def _ld_place(a: Activity) -> list[dict[str, Any]]:
    """schema.org locations: the venue as a Place with a PostalAddress and WGS-84 GeoCoordinates,
    the online link as a VirtualLocation."""
    c = a.campaign
    out: list[dict[str, Any]] = []
    if a.venue:
        address: dict[str, Any] = {"@type": "PostalAddress"}
        if a.venue.address:
            address["streetAddress"] = a.venue.address
        if a.district in c.districts:
            address["addressLocality"] = c.districts[a.district]
        address.update(addressRegion=c.region, addressCountry="CN")
        place: dict[str, Any] = {"@type": "Place", "name": a.venue.name, "address": address}
        if a.venue.lat is not None and a.venue.lng is not None:
            lat, lng = wgs84(a.venue.lat, a.venue.lng)  # schema.org means WGS-84; the YAML is GCJ-02
            place["geo"] = {"@type": "GeoCoordinates", "latitude": lat, "longitude": lng}
        out.append(place)
    if a.online:
        out.append({"@type": "VirtualLocation", "url": a.online.url})
    return out


def _ld_times(a: Activity, start: datetime, end: datetime) -> tuple[str, str]:
    """startDate/endDate of one session (aware, from text.sessions). An all-day offline session
    stays a date range; an online one needs an offset (search engines place online events in
    time), so it runs from midnight to the last second of its last day."""
    if not a.all_day:
        return start.isoformat(), end.isoformat()
    if a.online is None:
        return start.date().isoformat(), (end - timedelta(days=1)).date().isoformat()
    return start.isoformat(), (end - timedelta(seconds=1)).isoformat()


def _ld_schedule(a: Activity, times: list[tuple[datetime, datetime]]) -> dict[str, Any]:
    """A schema.org Schedule for a repeating activity (the rule of text.sessions)."""
    r = a.recurrence
    assert r is not None
    unit = "D" if r.freq == "daily" else "W"
    out: dict[str, Any] = {"@type": "Schedule", "repeatFrequency": f"P{r.interval}{unit}"}
    if r.freq == "weekly":
        days = sorted({WEEKDAY_KEYS.index(d) for d in r.byday} or {a.first_day.weekday()})
        out["byDay"] = [_SCHEMA + _DAY_NAMES[d] for d in days]
    s, e = a.start, a.end_value
    if isinstance(s, datetime) and isinstance(e, datetime):
        out.update(startTime=s.strftime("%H:%M:%S"), endTime=e.strftime("%H:%M:%S"))
    first = times[0][0].date()  # validation refuses a recurrence without a session
    out.update(startDate=first.isoformat(), endDate=r.until.isoformat())
    skip = sorted(d for d in set(r.except_) if first <= d <= r.until)
    if skip:
        out["exceptDate"] = [d.isoformat() for d in skip]
    out["scheduleTimezone"] = a.campaign.timezone
    return out


def _ld_offer(a: Activity) -> dict[str, Any]:
    """Every activity is free (科普 activities are public services): price 0 in CNY."""
    reg = a.registration
    if a.status == "cancelled":
        availability = "Discontinued"
    elif reg is not None and reg.capacity:
        availability = "LimitedAvailability"
    else:
        availability = "InStock"
    offer: dict[str, Any] = {"@type": "Offer", "price": 0, "priceCurrency": "CNY",
                             "availability": _SCHEMA + availability}
    if reg is not None and reg.url:
        offer["url"] = reg.url
    if reg is not None and reg.deadline:
        offer["validThrough"] = _closes_at(a).isoformat()
    return offer


def json_ld(a: Activity, page_url: str, image: str | None = None) -> dict[str, Any]:
    """schema.org Event, so search engines and WeChat previews understand the page. A repeating
    activity is one Event spanning all its sessions, with its rule as ``eventSchedule`` and its
    first SUB_EVENTS sessions as ``subEvent``s."""
    status = {"scheduled": "EventScheduled", "cancelled": "EventCancelled", "postponed": "EventPostponed"}
    mode = {"offline": "OfflineEventAttendanceMode", "online": "OnlineEventAttendanceMode",
            "hybrid": "MixedEventAttendanceMode"}
    locations = _ld_place(a)
    location = locations[0] if len(locations) == 1 else locations
    times = sessions(a)
    start, end = _ld_times(a, times[0][0], times[-1][1])
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": a.title,
        "startDate": start,
        "endDate": end,
        "eventStatus": _SCHEMA + status[a.status],
        "eventAttendanceMode": _SCHEMA + mode[a.mode],
        "location": location,
        "organizer": {"@type": "Organization", "name": a.organizer},  # no url in the data: none given
        "isAccessibleForFree": True,
        "offers": _ld_offer(a),
        "url": page_url,
        "inLanguage": "zh-CN",
    }
    if image:
        data["image"] = image
    if a.description:
        data["description"] = ld_summary(plain_text(a.description))
    if a.recurrence:
        data["eventSchedule"] = _ld_schedule(a, times)
        data["subEvent"] = [
            {"@type": "Event", "name": a.title, "startDate": s, "endDate": e,
             "eventStatus": data["eventStatus"], "eventAttendanceMode": data["eventAttendanceMode"],
             "location": location, "url": page_url}
            for s, e in (_ld_times(a, *t) for t in times[:SUB_EVENTS])
        ]
    return data


class _Environment(jinja2.Environment):
    """Templates see the globals as one dict rather than Jinja's ChainMap over the environment's:
    every render copies a template's globals into its context and lists their names, and every
    {% from … import %} compares those names with the imported template's; over a ChainMap that
    was 6% of an activity page. Jinja's documentation asks that globals not be changed once
    a template is loaded, and the Renderer sets all of them first, so a copy sees the same."""

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}


class Renderer:
    """Renders every page body. One instance per build; cheap per page."""

    def __init__(self, site: Site, base_url: str, root: Path, options: BuildOptions = DEFAULT_OPTIONS):
        self.site = site
        self.options = options
        self.base_url = url_of.base(base_url)
        self.root = root
        loaders: list[jinja2.BaseLoader] = []
        if (root / "site_theme" / "kepu").is_dir():
            loaders.append(jinja2.FileSystemLoader(root / "site_theme" / "kepu"))
        loaders.append(jinja2.FileSystemLoader(TEMPLATES))
        self.env = _Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
            # a Renderer lives for one build, in which templates do not change: without this,
            # every page's {% from "_macros.html" import … %} stats the file again
            auto_reload=False,
        )
        self.env.globals.update(
            when_text=when_text, date_text=date_text, day_hours=day_hours, one_day=one_day,
            sessions_attr=sessions_attr, span_text=span_text, MODE_WORD=MODE_WORD, LEVEL_WORD=LEVEL_WORD,
            markdown=sanitize_markdown, quote=quote, online_button=online_button, url=url_of,
        )
        self._templates: dict[str, jinja2.Template] = {}
        self._groups: dict[str, dict[str, list[Activity]]] = {}
        self._brands: dict[tuple[str, str], tuple[Markup, Markup]] = {}
        # per-build constants the shared macros need
        self.env.globals.update(
            logo_files=self.logo_files, subscribe_links=subscribe_links, base_url=self.base_url,
            listing_item=self.listing_item,
        )
        self._items: dict[tuple[int, str], Markup] = {}

    def template(self, name: str) -> jinja2.Template:
        if name not in self._templates:
            self._templates[name] = self.env.get_template(name)
        return self._templates[name]

    @cached_property
    def logo_files(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for c in self.site.campaigns:
            for logo in c.all_logos:
                out[logo.id] = branding.logo_file(self.root, logo)
        return out

    def listing_item(self, a: Activity, root: str) -> Markup:
        """An activity's entry in a listing (the ``item`` macro), rendered once per page: an
        activity on seven days of the programme is listed seven times, the same each time."""
        key = (id(a), root)
        html = self._items.get(key)
        if html is None:
            html = self._items[key] = Markup(self.template("_macros.html").module.item(a, root))
        return html

    def _listing_page(self, name: str, **context: Any) -> str:
        try:  # only one page's entries are kept
            return self.template(name).render(**context)
        finally:
            self._items.clear()

    def common(self, c: Campaign, depth: int) -> dict[str, Any]:
        return {"c": c, "root": "../" * depth}

    # -- pages --------------------------------------------------------------------------------

    def listing_days(self, activities: list[Activity]) -> list[tuple[date, list[Activity]]]:
        """Each activity once, under the day of its first session, in date and time order
        (all-day first). A daily exhibition is one entry with its schedule in words; the
        visitor's script moves entries to their next upcoming day and filters by day."""
        days: dict[date, list[Activity]] = {}
        for a in activities:
            days.setdefault(first_session_day(a), []).append(a)
        return [(d, sorted(acts, key=lambda a: (a.start_key, a.slug))) for d, acts in sorted(days.items())]

    def campaign_page(self, c: Campaign) -> str:
        """The whole programme by day; a large campaign lists its city-level activities and
        sends visitors to their district's page (a 5 MB page helps nobody on a phone)."""
        full = len(c.activities) <= self.options.listing_limit
        days = self.listing_days(c.activities if full else [a for a in c.activities if a.level == "city"])
        return self._listing_page(
            "campaign.html", **self.common(c, 1), days=days, feed=url_of.campaign_feed(c), full=full,
            counts={d: len(v) for d, v in self.grouped(c).items()},
        )

    def grouped(self, c: Campaign) -> dict[str, list[Activity]]:
        """Activities by district, grouped once per build (not once per district page)."""
        if c.id not in self._groups:
            self._groups[c.id] = c.activities_by_district()
        return self._groups[c.id]

    def district_page(self, c: Campaign, district: str) -> str:
        acts = self.grouped(c)[district]
        return squeeze(self._listing_page(
            "district.html", **self.common(c, 2), district=district, district_name=c.districts[district],
            days=self.listing_days(acts), count=len(acts), feed=url_of.district_feed(c, district),
            qr=self.district_qr(c, district),
        ))

    def district_qr(self, c: Campaign, district: str) -> Markup:
        """QR code of the district page, for its printed A4 notice."""
        return qr_svg(self.base_url + url_of.district_page(c, district), scale=3)

    def stats_page(self, c: Campaign) -> str:
        return self.template("stats.html").render(**self.common(c, 2), s=campaign_stats(c))

    def brand_parts(self, c: Campaign, root: str) -> tuple[Markup, Markup]:
        """The campaign's brand block and style attribute, rendered once rather than per page."""
        key = (c.id, root)
        if key not in self._brands:
            parts = self.env.from_string(
                '{% from "_macros.html" import brand, brand_style %}'
                '{{ brand_style(c) }}\0{{ brand(c, root) }}'
            ).render(c=c, root=root)
            style, block = parts.split("\0")
            self._brands[key] = Markup(style), Markup(block)
        return self._brands[key]

    def activity_page(self, a: Activity) -> str:
        c = a.campaign
        url = self.base_url + url_of.activity_page(a)
        style, block = self.brand_parts(c, "../../../")
        return squeeze(self.template("activity.html").render(
            **self.common(c, 3), brand_style=style, brand_block=block,
            a=a, page_url=url, qr=qr_svg(url), map_link=amap_link(a),
            google_link=google_calendar_link(a, url), feed=url_of.activity_feed(a),
            deadline_at=registration_closes(a),
            json_ld=inert_json(json_ld(a, url, brand_image(c, self.logo_files, self.base_url))),
        ))

    def home_fragment(self) -> str:
        campaigns = sorted(self.site.published(), key=lambda c: c.span.start, reverse=True)
        # Only the newest year's campaigns can be "on today" for long; city-level activities
        # first, so that a national-size campaign does not turn the home page into megabytes.
        newest = max((c.span.end.year for c in campaigns), default=0)
        pool = [a for c in campaigns if c.span.end.year >= newest for a in c.activities]
        if len(pool) > self.options.home_limit:
            pool = [a for a in pool if a.level == "city"][:self.options.home_limit]
        # each activity once, with its sessions: the visitor's script picks today's, this
        # weekend's and the next ones by the visitor's clock
        upcoming = sorted(pool, key=lambda a: (a.start_key, a.campaign.id, a.slug))
        return self.template("home.html").render(
            campaigns=campaigns, upcoming=upcoming, root="", latest=campaigns[0] if campaigns else None,
        )

    def description(self, a: Activity) -> str:
        """Plain-text summary for meta description and search."""
        parts = [a.campaign.label, when_text(a), a.venue.name if a.venue else "线上活动", a.organizer]
        return "｜".join(parts)
