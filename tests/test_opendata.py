"""Open data as re-users read it (issue 13): activities.json against the feeds' own expansion and
the published JSON Schema, activities.csv one row per session, robots.txt and the sitemap's dates.

The sample site is built once (site_fixtures.built_site); the fixture campaign of test_feeds is
turned into open data and feeds in-process, once in its own zone and once in UTC (where the feed
writes times as UTC without TZID)."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib import robotparser

import jsonschema
import pytest
import recurring_ical_events
from icalendar import Calendar

from generator.history import History
from generator.model import Campaign, Site
from generator.outputs import site as url
from generator.outputs.data import activities_schema, open_data
from generator.outputs.feeds import iter_feeds
from generator.validate import read_site

pytest_plugins = ["site_fixtures"]

from site_fixtures import ROOT, SITE_URL, soup_of  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "feeds"
ABOUT = ROOT / "content" / "about.md"
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


# ---- helpers -----------------------------------------------------------------------------------


def json_doc(data: bytes) -> dict[str, Any]:
    return json.loads(data.decode("utf-8"))


def csv_rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV lacks the UTF-8 BOM Excel needs"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def ics_sessions(ics: bytes) -> list[tuple[date | datetime, date | datetime]]:
    """(DTSTART, DTEND) of every occurrence, as recurring_ical_events expands the VEVENT."""
    cal = Calendar.from_ical(ics)
    occurrences = recurring_ical_events.of(cal).between(date(1990, 1, 1), date(2100, 1, 1))
    return sorted(((o["DTSTART"].dt, o["DTEND"].dt) for o in occurrences), key=lambda p: str(p[0]))


def json_sessions(record: dict[str, Any]) -> list[tuple[date | datetime, date | datetime]]:
    """The record's sessions in the .ics's terms: aware datetimes, or dates with an exclusive end."""
    out: list[tuple[date | datetime, date | datetime]] = []
    for s in record["sessions"]:
        if record["all_day"]:
            out.append((date.fromisoformat(s["start"]), date.fromisoformat(s["end"]) + timedelta(days=1)))
        else:
            start, end = datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"])
            assert start.tzinfo is not None and end.tzinfo is not None, f"{record['id']}: {s} has no offset"
            out.append((start, end))
    return out


def raw_lines(ics: bytes, name: str) -> list[str]:
    """Unfolded content lines of one property, e.g. every ``EXDATE;TZID=…:…`` value."""
    text = ics.decode("utf-8").replace("\r\n ", "")
    return [line.split(":", 1)[1] for line in text.split("\r\n") if re.match(rf"{name}[;:]", line)]


def assert_matches_feed(record: dict[str, Any], ics: bytes) -> None:
    """One activity's open data says exactly what its own .ics says."""
    want = ics_sessions(ics)
    got = json_sessions(record)
    assert got == want, f"{record['id']}: sessions differ from the feed's expansion"
    for (js, je), (fs, fe) in zip(got, want, strict=True):
        if isinstance(js, datetime):  # the same instant AND the same wall clock (the offset)
            assert js.utcoffset() == fs.utcoffset() and je.utcoffset() == fe.utcoffset(), record["id"]
    first = {"start": record["start"], "end": record["end"]}  # start/end: the first session
    assert json_sessions({**record, "sessions": [first]})[0] == got[0], record["id"]
    rrule = raw_lines(ics, "RRULE")
    assert ([record["rrule"]] if record["rrule"] else []) == rrule, record["id"]
    exdates = [v for line in raw_lines(ics, "EXDATE") for v in line.split(",")]
    assert record["exdate"] == exdates, record["id"]


def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(activities_schema(SITE_URL))
    jsonschema.Draft202012Validator.check_schema(schema)
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    return jsonschema.Draft202012Validator(schema, format_checker=checker)


def assert_valid(doc: dict[str, Any], where: str) -> None:
    errors = sorted(validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, f"{where}: " + "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


# ---- the fixture campaign, in-process ------------------------------------------------------------


def fixture_outputs(root: Path) -> tuple[Site, dict[str, bytes]]:
    site, problems = read_site(root)
    assert not problems.errors, [p.format() for p in problems.errors]
    out = dict(iter_feeds(site, SITE_URL, History(root=root)))
    for c in site.published():
        out.update(open_data(c, SITE_URL))
    return site, out


@pytest.fixture(scope="module", params=["own zone", "UTC"])
def fixture_site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    root = FIXTURE
    if request.param == "UTC":
        root = tmp_path_factory.mktemp("utc") / "repo"
        shutil.copytree(FIXTURE, root)
        for cfile in (root / "campaigns").glob("*/campaign.yml"):
            text = cfile.read_text(encoding="utf-8")
            cfile.write_text(re.sub(r"^timezone: .*$", "timezone: UTC", text, flags=re.M), encoding="utf-8")
    return fixture_outputs(root)


def test_fixture_open_data_matches_its_feeds(fixture_site: tuple[Site, dict[str, bytes]]) -> None:
    site, out = fixture_site
    repeating = 0
    for c in site.published():
        doc = json_doc(out[url.open_data(c)[0]])
        assert doc["campaign"]["timezone"] == c.timezone
        assert_valid(doc, c.id)
        records = {r["id"]: r for r in doc["activities"]}
        for a in c.activities:
            assert_matches_feed(records[a.slug], out[url.activity_feed(a)])
            repeating += records[a.slug]["rrule"] is not None
    assert repeating >= 3  # daily with an exception, weekly on two days, every other week


# ---- the sample site ---------------------------------------------------------------------------


def sample_docs(site_model: Site, built_site: Path) -> list[tuple[Campaign, dict[str, Any]]]:
    return [(c, json_doc((built_site / url.open_data(c)[0]).read_bytes())) for c in site_model.published()]


def test_sample_sessions_match_each_activity_feed(site_model: Site, built_site: Path) -> None:
    repeating = sessions = 0
    for c, doc in sample_docs(site_model, built_site):
        assert doc["campaign"]["timezone"] == c.timezone
        records = {r["id"]: r for r in doc["activities"]}
        assert set(records) == {a.slug for a in c.activities}, c.id
        for a in c.activities:
            record = records[a.slug]
            assert_matches_feed(record, (built_site / url.activity_feed(a)).read_bytes())
            repeating += record["rrule"] is not None
            sessions += len(record["sessions"])
    assert repeating >= 10, repeating  # the issue counted 10 repeating activities in the samples
    big = next(r for _, d in sample_docs(site_model, built_site) for r in d["activities"]
               if r["id"] == "kehuanji-shaonian-kehuan-xiezuo-gongfang")
    assert len(big["sessions"]) == 16 and big["exdate"] == ["20230930T140000", "20231001T140000"]


def test_timed_values_carry_their_offset(site_model: Site, built_site: Path) -> None:
    timed = 0
    for _, doc in sample_docs(site_model, built_site):
        for r in doc["activities"]:
            if not r["all_day"]:
                timed += 1
                assert r["start"].endswith("+08:00") and r["end"].endswith("+08:00"), r["id"]
            else:
                assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["start"]), r["id"]
    assert timed > 20


def test_coordinates_both_systems(site_model: Site, built_site: Path) -> None:
    from prcoords import Coords, wgs_gcj  # the forward transform: WGS-84 back to the YAML's GCJ-02

    located = 0
    for c, doc in sample_docs(site_model, built_site):
        by_id = {a.slug: a for a in c.activities}
        for r in doc["activities"]:
            v = by_id[r["id"]].venue
            if v is None or v.lat is None:
                assert r["lat_wgs84"] is None and r["lng_wgs84"] is None, r["id"]
                continue
            located += 1
            assert (r["lat"], r["lng"]) == (v.lat, v.lng), f"{r['id']}: lat/lng must stay GCJ-02"
            back = wgs_gcj(Coords(r["lat_wgs84"], r["lng_wgs84"]))
            assert abs(back.lat - v.lat) < 2e-6 and abs(back.lon - v.lng) < 2e-6, r["id"]
            assert abs(r["lat_wgs84"] - v.lat) + abs(r["lng_wgs84"] - v.lng) > 1e-3, r["id"]  # converted
    assert located > 20


def test_every_activities_json_validates_against_the_published_schema(
    site_model: Site, built_site: Path
) -> None:
    published = json.loads((built_site / url.DATA_SCHEMA).read_bytes())
    assert published == json.loads(activities_schema(SITE_URL))
    assert published["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert published["$id"] == SITE_URL + url.DATA_SCHEMA
    for c, doc in sample_docs(site_model, built_site):
        assert_valid(doc, c.id)


def test_schema_rejects_what_it_must(site_model: Site, built_site: Path) -> None:
    v = validator()
    _, doc = sample_docs(site_model, built_site)[0]
    timed = next(r for _, d in sample_docs(site_model, built_site) for r in d["activities"]
                 if not r["all_day"])
    base = {"campaign": doc["campaign"], "activities": [timed]}
    assert v.is_valid(base)
    for key in list(timed):
        broken = {**timed}
        del broken[key]
        assert not v.is_valid({**base, "activities": [broken]}), f"missing {key} accepted"
    no_tz = {**doc["campaign"]}
    del no_tz["timezone"]
    assert not v.is_valid({**base, "campaign": no_tz})
    floating = {**timed, "start": timed["start"][:19]}  # the old form, without an offset
    assert not v.is_valid({**base, "activities": [floating]})
    undocumented = {**timed, "extra": 1}  # a field added to the data must be added to the schema
    assert not v.is_valid({**base, "activities": [undocumented]})


def test_schema_is_linked_from_the_open_data_section(built_site: Path) -> None:
    page = built_site / "about" / "index.html"
    links = [a["href"] for a in soup_of(page).find_all("a", href=True) if "schema" in a["href"]]
    assert links, "about page does not link the JSON Schema"
    for href in links:
        assert (page.parent / href).resolve() == (built_site / url.DATA_SCHEMA).resolve(), href


def test_csv_has_one_row_per_session(site_model: Site, built_site: Path) -> None:
    for c, doc in sample_docs(site_model, built_site):
        rows = csv_rows((built_site / url.open_data(c)[1]).read_bytes())
        by_id: dict[str, list[dict[str, str]]] = {}
        for row in rows:
            by_id.setdefault(row["编号"], []).append(row)
        assert len(rows) == sum(len(r["sessions"]) for r in doc["activities"]), c.id
        for r in doc["activities"]:
            mine = by_id[r["id"]]
            numbers = [str(n) for n in range(1, len(r["sessions"]) + 1)]
            assert [row["场次"] for row in mine] == numbers, r["id"]
            assert [{"start": row["开始"], "end": row["结束"]} for row in mine] == r["sessions"], r["id"]
            assert {row["活动名称"].lstrip("'") for row in mine} == {r["title"]}, r["id"]


def test_every_field_is_documented() -> None:
    text = ABOUT.read_text(encoding="utf-8")
    section = text[text.index("## 开放数据"):]
    section = section[:section.index("\n## ", 1)]
    site, out = fixture_outputs(FIXTURE)
    c = site.published()[0]
    doc = json_doc(out[url.open_data(c)[0]])
    keys = set(doc["campaign"]) | {k for r in doc["activities"] for k in r}
    missing = sorted(k for k in keys if f"`{k}`" not in section)
    assert not missing, f"activities.json fields not in about.md 开放数据: {missing}"
    header = next(csv.reader(io.StringIO(out[url.open_data(c)[1]].decode("utf-8-sig"))))
    missing = [h for h in header if f"| {h} |" not in section]
    assert not missing, f"activities.csv columns not in about.md 开放数据: {missing}"


# ---- robots.txt and the sitemap -----------------------------------------------------------------


def test_robots_names_the_sitemap_and_allows_everything(site_model: Site, built_site: Path) -> None:
    robots = robotparser.RobotFileParser()
    robots.parse((built_site / url.ROBOTS).read_text(encoding="utf-8").splitlines())
    assert robots.site_maps() == [SITE_URL + url.SITEMAP]
    a = site_model.published()[0].activities[0]
    for path in ("", url.activity_page(a), url.open_data(a.campaign)[0], url.DATA_SCHEMA, "about/"):
        assert robots.can_fetch("Googlebot", SITE_URL + path), path


def git_day(*paths: Path) -> str:
    """UTC day of the newest commit that touched any of ``paths`` (git, not generator.history)."""
    out = subprocess.run(["git", "log", "-1", "--format=%ct", "--", *map(str, paths)], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.strip()
    return datetime.fromtimestamp(int(out), UTC).date().isoformat()


def test_sitemap_dates_generated_pages_by_their_content(site_model: Site, built_site: Path) -> None:
    tree = ET.parse(built_site / url.SITEMAP)
    lastmod = {u.findtext(f"{SITEMAP_NS}loc"): u.findtext(f"{SITEMAP_NS}lastmod")
               for u in tree.getroot().iter(f"{SITEMAP_NS}url")}
    assert len(lastmod) == len(tree.getroot()), "a page is listed twice"
    newest = []
    for c in site_model.published():
        files = [Path(c.pos.path).resolve(), *(Path(a.pos.path).resolve() for a in c.activities)]
        want = git_day(*files)
        newest.append(want)
        assert lastmod[SITE_URL + url.campaign_page(c)] == want, c.id
        assert lastmod[SITE_URL + url.stats_page(c)] == want, c.id
    assert lastmod[SITE_URL + url.home_page()] == max(newest)
    # hand-written pages keep MkDocs' date: the build's (the last commit's) day
    assert lastmod[SITE_URL + "about/"] == git_day(ROOT)

