"""schema.org JSON-LD on activity pages, as a schema.org-aware extractor (extruct) reads it from
every built sample page: times with offsets, PostalAddress, WGS-84 GeoCoordinates, offers, and a
repeating activity's eventSchedule — expanded here independently and compared session by session
with the activity's own sessions — plus its subEvents."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from generator.model import Activity, Campaign, Logo, Site
from generator.outputs import pages
from generator.outputs.geo import wgs84
from generator.outputs.text import sessions

extruct = pytest.importorskip("extruct")

pytest_plugins = ["site_fixtures"]

SCHEMA = "https://schema.org/"
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _extract(built_site: Path, a: Activity, site_url: str) -> dict:
    page = built_site / a.campaign.id / "activities" / a.slug / "index.html"
    url = f"{site_url}{a.campaign.id}/activities/{a.slug}/"
    found = extruct.extract(page.read_text(encoding="utf-8"), base_url=url, syntaxes=["json-ld"],
                            uniform=True)["json-ld"]
    assert len(found) == 1, f"{a.slug}: {len(found)} JSON-LD items"
    return found[0]


def _aware(text: str) -> datetime:
    t = datetime.fromisoformat(text)
    assert t.tzinfo is not None, f"no UTC offset in {text!r}"
    return t


def _expand(s: dict) -> list[date]:
    """The days a schema.org Schedule names: startDate..endDate every repeatFrequency (P<n>D or
    P<n>W, weeks counted from the start's Monday), on byDay, minus exceptDate."""
    first, last = date.fromisoformat(s["startDate"]), date.fromisoformat(s["endDate"])
    freq = s["repeatFrequency"]
    n, unit = int(freq[1:-1]), freq[-1]
    byday = {DAYS.index(d.removeprefix(SCHEMA)) for d in s.get("byDay", [])}
    skip = {date.fromisoformat(d) for d in s.get("exceptDate", [])}
    monday = first - timedelta(first.weekday())
    out = []
    day = first
    while day <= last:
        if unit == "D":
            on = (day - first).days % n == 0
        else:
            on = day.weekday() in byday and ((day - monday).days // 7) % n == 0
        if on and day not in skip:
            out.append(day)
        day += timedelta(1)
    return out


def test_json_ld_of_every_sample_activity(site_model: Site, built_site: Path) -> None:
    from site_fixtures import SITE_URL

    problems: list[str] = []
    seen = {"repeating": 0, "geo": 0, "online_all_day": 0, "registration_url": 0}
    for c in site_model.published():
        for a in c.activities:
            try:
                _check(a, c, _extract(built_site, a, SITE_URL), SITE_URL, seen)
            except AssertionError as err:
                problems.append(f"{c.id}/{a.slug}: {err}")
    assert not problems, "\n".join(problems)
    assert seen["repeating"] >= 5 and seen["geo"] >= 10 and seen["registration_url"] >= 1, seen


def _check(a: Activity, c: Campaign, ld: dict, site_url: str, seen: dict[str, int]) -> None:
    assert ld["@context"].rstrip("/") in ("https://schema.org", "http://schema.org")
    assert ld["@type"] == "Event" and ld["name"] == a.title
    assert ld["url"] == f"{site_url}{c.id}/activities/{a.slug}/"
    times = sessions(a)
    if not a.all_day or a.online:  # online events need an offset even when all-day
        start, end = _aware(ld["startDate"]), _aware(ld["endDate"])
        assert start == times[0][0], (ld["startDate"], times[0][0])
        assert start < end <= times[-1][1]
        seen["online_all_day"] += a.all_day
    else:
        assert ld["startDate"] == times[0][0].date().isoformat()
        assert ld["endDate"] == (times[-1][1] - timedelta(1)).date().isoformat()
    places = ld["location"] if isinstance(ld["location"], list) else [ld["location"]]
    kinds = (["Place"] if a.venue else []) + (["VirtualLocation"] if a.online else [])
    assert [p["@type"] for p in places] == kinds
    if a.venue:
        addr = places[0]["address"]
        assert addr["@type"] == "PostalAddress" and addr["addressCountry"] == "CN"
        assert addr["addressRegion"] == c.region and addr["addressLocality"] == c.districts[a.district]
        assert addr.get("streetAddress") == a.venue.address
        if a.venue.lat is not None:
            geo = places[0]["geo"]
            assert geo["@type"] == "GeoCoordinates"
            assert (geo["latitude"], geo["longitude"]) == wgs84(a.venue.lat, a.venue.lng)
            # WGS-84 lies some hundred metres from the YAML's GCJ-02 in mainland China
            assert abs(geo["latitude"] - a.venue.lat) + abs(geo["longitude"] - a.venue.lng) > 0.001
            seen["geo"] += 1
    if a.online:
        assert places[-1]["url"] == a.online.url
    assert ld["organizer"] == {"@type": "Organization", "name": a.organizer}  # no invented url
    if a.description:  # the opening of the description, whole sentences when they fit
        full, summary = pages.plain_text(a.description), ld["description"]
        assert summary and len(summary) <= pages.LD_SUMMARY, summary
        assert full.startswith(summary.removesuffix("…")), (summary, full)
        assert summary == full or summary.endswith(("。", "！", "？", "!", "?", "…")), summary
    else:
        assert "description" not in ld
    offer = ld["offers"]
    assert offer["@type"] == "Offer" and offer["price"] == 0 and offer["priceCurrency"] == "CNY"
    assert offer["availability"].startswith(SCHEMA)
    assert (offer["availability"] == SCHEMA + "Discontinued") == (a.status == "cancelled")
    reg_url = a.registration.url if a.registration else None
    assert offer.get("url") == reg_url
    seen["registration_url"] += reg_url is not None
    assert "image" not in ld  # the samples have no logo files: nothing invented
    if not a.recurrence:
        assert "eventSchedule" not in ld and "subEvent" not in ld
        return
    seen["repeating"] += 1
    s = ld["eventSchedule"]
    assert s["@type"] == "Schedule" and s["scheduleTimezone"] == c.timezone
    assert _expand(s) == [t[0].date() for t in times]  # the rule, expanded, gives every session
    if not a.all_day:
        assert s["startTime"] == f"{times[0][0]:%H:%M:%S}" and s["endTime"] == f"{times[0][1]:%H:%M:%S}"
    subs = ld["subEvent"]
    assert len(subs) == min(len(times), pages.SUB_EVENTS)
    for sub, (t0, t1) in zip(subs, times, strict=False):
        assert sub["@type"] == "Event" and sub["location"] == ld["location"]
        if a.all_day and not a.online:
            assert sub["startDate"] == t0.date().isoformat()
        else:
            assert _aware(sub["startDate"]) == t0 and _aware(sub["endDate"]) <= t1


def test_long_series_lists_all_its_sessions(site_model: Site, built_site: Path) -> None:
    """The issue's example: 16 sessions, all in the JSON-LD (it used to name one)."""
    from site_fixtures import SITE_URL

    (a,) = [a for c in site_model.published() for a in c.activities
            if a.slug == "kehuanji-shaonian-kehuan-xiezuo-gongfang"]
    ld = _extract(built_site, a, SITE_URL)
    assert len(ld["subEvent"]) == len(sessions(a)) == 16
    assert len(_expand(ld["eventSchedule"])) == 16


def test_image_is_the_brand_logo_file(site_model: Site, tmp_path: Path) -> None:
    c = site_model.published()[0]
    logo = c.all_logos[0] if c.all_logos else Logo(id="test-logo", name="测试")
    c2 = Campaign.__new__(Campaign)
    c2.__dict__.update(c.__dict__, all_logos=[Logo(id="ohne", name="无图"), logo])
    files = {"ohne": None, logo.id: f"assets/logos/{logo.id}.svg"}
    assert pages.brand_image(c2, files, "https://kepu.example.cn/") == \
        f"https://kepu.example.cn/assets/logos/{logo.id}.svg"
    assert pages.brand_image(c2, {}, "https://kepu.example.cn/") is None
    a = c.activities[0]
    assert pages.json_ld(a, "https://x/", "https://x/logo.svg")["image"] == "https://x/logo.svg"
    assert "image" not in pages.json_ld(a, "https://x/")
