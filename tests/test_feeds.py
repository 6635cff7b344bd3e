"""Feeds (.ics and changes.xml) and the git history behind SEQUENCE / LAST-MODIFIED.

Every feed is checked with two independent parsers (Python icalendar, Mozilla ical.js via node) and
expanded with recurring_ical_events, for the fixture campaign in tests/fixtures/feeds/ and for the
sample campaigns in campaigns/ that validate.

Golden files in tests/golden/ are compared byte for byte. After an intended change, regenerate
them and review the diff:

    KEPU_REGEN_GOLDEN=1 .venv/bin/pytest tests/test_feeds.py -k golden
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from ical_reference import reference_bytes, reference_header
from icalendar import Calendar, Event
from icalendar.parser.string import _foldline

from generator.history import History, history_problem, read_history
from generator.model import Site
from generator.outputs import feeds, urls
from generator.outputs.feeds import changes_feed, iter_feeds, subscribe_links
from generator.outputs.geo import wgs84
from generator.validate import read_site

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
FIXTURE = TESTS / "fixtures" / "feeds"
GOLDEN = TESTS / "golden"
JS = TESTS / "js"
BASE = "https://kepu.example.cn/"
CID = "2023-yangli-kepuri"
LABEL = "2023年全国科普日活动"
SH = ZoneInfo("Asia/Shanghai")

# Fixed commit times for the fixture repository (what SEQUENCE/LAST-MODIFIED are derived from).
T1 = "2023-08-25T10:00:00+08:00"
T2 = "2023-09-01T09:00:00+08:00"
T3 = "2023-09-05T18:30:00+08:00"
KAIFANGRI = f"campaigns/{CID}/activities/dongqu/kaifangri.yml"
KAIFANGRI_V1 = "title: 样例大学实验室开放日\norganizer: 样例大学科学技术协会\ncategory: gaoxiao\n" \
    "start: 2023-09-17\nvenue: {name: 样例大学实验楼}\n"

GOLDEN_FILES = {  # golden file → output path
    "fixture-calendar.ics": "calendar.ics",
    "fixture-campaign.ics": f"{CID}/calendar.ics",
    "fixture-dongqu.ics": f"{CID}/dongqu/calendar.ics",
    "fixture-lianhe.ics": f"{CID}/categories/lianhe.ics",
    "fixture-kaifangri.ics": f"{CID}/activities/kaifangri.ics",
    "fixture-e-yi.ics": f"{CID}/activities/e-yi.ics",
    "fixture-changes.xml": f"{CID}/changes.xml",
}

HOSTILE_TITLE = "防范 BEGIN:VEVENT SUMMARY:evil, a; b \\ c <b>&amp; END:VEVENT"
SESSIONS = {  # activity → expected session starts (local), from the fixture's comments
    "bowuguan-daolan": [datetime(2023, 9, d, 9, 0) for d in (15, 16, 17, 19, 20, 21)],
    "shouji-ketang": [datetime(2023, 9, d, 14, 30) for d in (14, 19, 21, 26, 28)],
    "zhoumo-shiyan": [date(2023, 9, d) for d in (2, 16, 30)],
}


# ---- helpers ----------------------------------------------------------------------------------


def git(repo: Path, *args: str, when: str = T1) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when, GIT_CONFIG_GLOBAL=os.devnull,
               GIT_CONFIG_NOSYSTEM="1")
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return done.stdout


def make_repo(dest: Path) -> Path:
    """The fixture as a git repo: everything committed at T1 (kaifangri in an older version),
    then kaifangri's final version at T2."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    shutil.copytree(FIXTURE, dest)
    final = (dest / KAIFANGRI).read_text(encoding="utf-8")
    (dest / KAIFANGRI).write_text(KAIFANGRI_V1, encoding="utf-8")
    git(dest, "init", "-q", "-b", "main")
    git(dest, "config", "user.name", "测试")
    git(dest, "config", "user.email", "test@example.cn")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "fixture", when=T1)
    (dest / KAIFANGRI).write_text(final, encoding="utf-8")
    git(dest, "commit", "-q", "-am", "更新开放日", when=T2)
    return dest


@dataclass
class Build:
    site: Site
    history: History
    ics: dict[str, bytes]
    xml: dict[str, bytes]


def build(root: Path, base: str = BASE) -> Build:
    site, problems = read_site(root)
    assert not problems.errors, [p.format() for p in problems.errors]
    history = read_history(root)
    return Build(site, history, dict(iter_feeds(site, base, history)), changes_feed(site, base, history))


def make_synthetic(dest: Path, n: int, districts: int) -> Build:
    """The benchmark's synthetic campaign (bench/synth.py), committed so events have history."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from synth import make
    finally:
        sys.path.pop(0)
    make(dest, n, districts)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "-c", "user.name=测试", "-c", "user.email=test@example.cn", "add", "-A")
    git(dest, "-c", "user.name=测试", "-c", "user.email=test@example.cn", "commit", "-q", "-m", "synth")
    return build(dest)


def sample_build() -> Build | None:
    """The real sample campaigns, minus any that does not validate (another helper owns them)."""
    if not (ROOT / "campaigns" / "brands.yml").exists():
        return None
    site, problems = read_site(ROOT)
    bad = {os.path.abspath(p.pos.path) for p in problems.errors}
    if any(b.endswith("brands.yml") for b in bad):
        return None
    cdir = str(ROOT / "campaigns")
    site.campaigns = [
        c for c in site.campaigns if not any(b.startswith(os.path.join(cdir, c.id) + os.sep) for b in bad)
    ]
    if not site.published():
        return None
    history = read_history(ROOT)
    return Build(site, history, dict(iter_feeds(site, BASE, history)), changes_feed(site, BASE, history))


def unfold(data: bytes) -> list[str]:
    return data.decode("utf-8").replace("\r\n ", "").split("\r\n")


def vevents(data: bytes) -> dict[str, bytes]:
    """Raw VEVENT blocks by UID (whole physical lines: a folded continuation starts with a space,
    so only a real component boundary is a line that is exactly BEGIN:VEVENT / END:VEVENT)."""
    out: dict[str, bytes] = {}
    block: list[bytes] | None = None
    for ln in data.split(b"\r\n"):
        if ln == b"BEGIN:VEVENT":
            assert block is None
            block = []
        if block is not None:
            block.append(ln + b"\r\n")
        if ln == b"END:VEVENT":
            assert block is not None
            raw = b"".join(block)
            uid = next(x[4:] for x in unfold(raw) if x.startswith("UID:"))
            assert uid not in out
            out[uid] = raw
            block = None
    return out


def uid(slug: str, cid: str = CID) -> str:
    return f"{slug}.{cid}@kepu.example.cn"


def event(b: Build, slug: str, path: str | None = None) -> Event:
    cal = Calendar.from_ical(b.ics[path or f"{CID}/activities/{slug}.ics"])
    (ev,) = cal.walk("VEVENT")
    return ev


def prop_line(ev_bytes: bytes, name: str) -> str:
    return next(ln for ln in unfold(ev_bytes) if re.match(rf"{name}[;:]", ln))


# ---- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def fixture_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return build(make_repo(tmp_path_factory.mktemp("feeds") / "repo"))


@pytest.fixture(scope="session")
def builds(fixture_build: Build) -> dict[str, Build]:
    out = {"fixture": fixture_build}
    sample = sample_build()
    if sample is not None:
        out["sample"] = sample
    return out


@pytest.fixture(scope="session")
def all_ics(builds: dict[str, Build]) -> dict[str, bytes]:
    return {f"{name}/{path}": data for name, b in builds.items() for path, data in b.ics.items()}


@pytest.fixture(scope="session")
def icaljs(ics_files: tuple[Path, list[str]]) -> dict[str, dict]:
    """Every feed as Mozilla ical.js sees it (one node run for all files)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (JS / "node_modules" / "ical.js").exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed")
        subprocess.run([npm, "ci", "--prefix", str(JS), "--no-audit", "--no-fund"], check=True,
                       capture_output=True)
    out, files = ics_files
    done = subprocess.run([node, str(JS / "parse.mjs"), *files], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    parsed = json.loads(done.stdout)
    return {str(Path(f).relative_to(out)): parsed[f] for f in files}


@pytest.fixture(scope="session")
def ics_files(all_ics: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Every feed written out once, for the node parsers."""
    out = tmp_path_factory.mktemp("ics")
    files = []
    for key, data in all_ics.items():
        f = out / key
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(data)
        files.append(str(f))
    return out, files


# node-ical (a third parser, with its own RRULE engine, rrule-temporal): every event of a file as
# {uid: {sequence, status, transparency, geo, sessions: [[allDay, startISO, endISO], …]}}
NODE_ICAL = """
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const ical = createRequire(process.argv[1] + "/")("node-ical");
const out = {};
for (const file of process.argv.slice(2)) {
  const events = {};
  for (const ev of Object.values(ical.sync.parseICS(readFileSync(file, "utf8")))) {
    if (ev.type !== "VEVENT") continue;
    const all = ical.expandRecurringEvent(ev, {from: new Date("2000-01-01"), to: new Date("2100-01-01")});
    events[ev.uid] = {sequence: ev.sequence, status: ev.status, transparency: ev.transparency ?? null,
                      geo: ev.geo ?? null,
                      sessions: all.map((i) => [i.isFullDay, i.start.toISOString(), i.end.toISOString()])};
  }
  out[file] = events;
}
process.stdout.write(JSON.stringify(out));
"""


@pytest.fixture(scope="session")
def nodeical(ics_files: tuple[Path, list[str]]) -> dict[str, dict]:
    node = shutil.which("node")
    if node is None or not (JS / "node_modules" / "node-ical").exists():
        pytest.skip("node or node-ical is not installed (npm ci --prefix tests/js)")
    out, files = ics_files
    done = subprocess.run([node, "--input-type=module", "-e", NODE_ICAL, str(JS), *files],
                          capture_output=True, text=True, env={**os.environ, "TZ": "UTC"})  # dates in UTC
    assert done.returncode == 0, done.stderr
    parsed = json.loads(done.stdout)
    return {str(Path(f).relative_to(out)): parsed[f] for f in files}


# ---- what is produced -------------------------------------------------------------------------


def test_output_paths(fixture_build: Build) -> None:
    slugs = ["bowuguan-daolan", "e-yi", "kaifangri", "kepu-zhan", "qidong-yishi", "quxiao",
             "shouji-ketang", "wangluo-jingsai", "yanqi", "zhoumo-shiyan"]
    expected = {"calendar.ics", f"{CID}/calendar.ics"}
    expected |= {f"{CID}/{d}/calendar.ics" for d in ("dongqu", "xiqu")}
    expected |= {f"{CID}/categories/{c}.ics" for c in ("zhuchang", "lianhe", "gaoxiao", "qiye", "zaixian")}
    expected |= {f"{CID}/activities/{s}.ics" for s in slugs}
    assert set(fixture_build.ics) == expected  # the draft campaign has no feed
    assert set(fixture_build.xml) == {f"{CID}/changes.xml"}


def test_feed_membership(fixture_build: Build) -> None:
    def uids(path: str) -> set[str]:
        return set(vevents(fixture_build.ics[path]))

    dongqu = {uid(s) for s in ("qidong-yishi", "kaifangri", "shouji-ketang", "wangluo-jingsai", "e-yi")}
    xiqu = {uid(s) for s in ("kepu-zhan", "bowuguan-daolan", "zhoumo-shiyan", "quxiao", "yanqi")}
    assert uids(f"{CID}/dongqu/calendar.ics") == dongqu
    assert uids(f"{CID}/xiqu/calendar.ics") == xiqu
    assert uids(f"{CID}/calendar.ics") == dongqu | xiqu  # cancelled and postponed stay in
    assert uids("calendar.ics") == dongqu | xiqu  # the draft campaign is not published
    assert uids(f"{CID}/categories/gaoxiao.ics") == {uid("kaifangri"), uid("zhoumo-shiyan")}
    assert uids(f"{CID}/categories/qiye.ics") == {uid("kepu-zhan"), uid("yanqi")}
    # a parent category's feed holds its children's activities
    assert uids(f"{CID}/categories/lianhe.ics") == uids(f"{CID}/categories/gaoxiao.ics") | uids(
        f"{CID}/categories/qiye.ics"
    )
    assert uids(f"{CID}/activities/kaifangri.ics") == {uid("kaifangri")}
    # the same event is the same bytes in every feed it appears in
    block = vevents(fixture_build.ics[f"{CID}/activities/kaifangri.ics"])[uid("kaifangri")]
    for path in ("calendar.ics", f"{CID}/calendar.ics", f"{CID}/dongqu/calendar.ics",
                 f"{CID}/categories/lianhe.ics", f"{CID}/categories/gaoxiao.ics"):
        assert vevents(fixture_build.ics[path])[uid("kaifangri")] == block


def test_calendar_properties(fixture_build: Build) -> None:
    cal = Calendar.from_ical(fixture_build.ics[f"{CID}/dongqu/calendar.ics"])
    name = "2023年样例市“全国科普日”活动 · 东区"
    assert cal["NAME"] == name and cal["X-WR-CALNAME"] == name
    assert cal["VERSION"] == "2.0" and cal["CALSCALE"] == "GREGORIAN"
    # no METHOD: a feed is no iTIP message, and PUBLISH would need an ORGANIZER (see feeds._HEAD)
    assert "METHOD" not in cal
    assert "东区" in cal["X-WR-CALDESC"] and LABEL in cal["X-WR-CALDESC"]
    assert cal["X-WR-TIMEZONE"] == "Asia/Shanghai"
    assert cal["X-PUBLISHED-TTL"] == "PT6H"
    assert str(cal["URL"]) == f"{BASE}{CID}/dongqu/"
    assert str(cal["SOURCE"]) == f"{BASE}{CID}/dongqu/calendar.ics"
    raw = unfold(fixture_build.ics[f"{CID}/dongqu/calendar.ics"])
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT6H" in raw
    whole = Calendar.from_ical(fixture_build.ics[f"{CID}/calendar.ics"])
    assert whole["NAME"] == "2023年样例市“全国科普日”活动"
    cat = Calendar.from_ical(fixture_build.ics[f"{CID}/categories/lianhe.ics"])
    assert cat["X-WR-CALNAME"] == "2023年样例市“全国科普日”活动 · 联合行动"


# ---- every feed, both parsers ----------------------------------------------------------------


def test_every_feed_parses_in_icalendar(all_ics: dict[str, bytes], builds: dict[str, Build]) -> None:
    labels = {c.id: c.label for b in builds.values() for c in b.site.published()}
    assert len(all_ics) > 10
    for key, data in all_ics.items():
        cal = Calendar.from_ical(data)
        for name in ("PRODID", "NAME", "X-WR-CALNAME", "X-WR-CALDESC", "X-WR-TIMEZONE", "REFRESH-INTERVAL",
                     "X-PUBLISHED-TTL"):
            assert name in cal, (key, name)
        assert cal.get_missing_tzids() == set(), key  # a VTIMEZONE for every TZID used
        assert [tz.tz_name for tz in cal.timezones] == sorted({tz.tz_name for tz in cal.timezones})
        uids = [str(ev["UID"]) for ev in cal.walk("VEVENT")]
        assert len(uids) == len(set(uids)), key
        for ev in cal.walk("VEVENT"):
            for name in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "SEQUENCE", "LAST-MODIFIED",
                         "STATUS", "URL", "DESCRIPTION", "CATEGORIES"):
                assert name in ev, (key, ev["UID"], name)
            slug, cid = str(ev["UID"]).split("@")[0].split(".", 1)
            assert str(ev["UID"]).endswith("@kepu.example.cn")
            label = labels[cid]
            assert ev["DESCRIPTION"].split("\n")[0] == label  # the brand label, first line
            assert label in ev.categories
            assert ev["DTSTAMP"].dt == ev["LAST-MODIFIED"].dt
            assert str(ev["URL"]) == f"{BASE}{cid}/activities/{slug}/"


def test_every_feed_in_node_ical_session_by_session(nodeical: dict[str, dict], all_ics: dict[str, bytes],
                                                    builds: dict[str, Build]) -> None:
    """A third, independent reader: every event of every feed expands to exactly the activity's
    sessions (text.sessions, what the pages and open data list), with its SEQUENCE, STATUS,
    TRANSP and WGS-84 GEO."""
    from generator.outputs.text import sessions

    acts = {f"{a.slug}.{c.id}@kepu.example.cn": (a, b.history) for b in builds.values()
            for c in b.site.published() for a in c.activities}
    status = {"cancelled": "CANCELLED", "postponed": "TENTATIVE"}
    checked = 0
    for key, events in nodeical.items():
        assert set(events) == set(vevents(all_ics[key])), key
        for u, ev in events.items():
            a, history = acts[u]
            want = [[a.all_day, *(t.date().isoformat() if a.all_day else t.astimezone(UTC).isoformat()
                                  for t in pair)] for pair in sessions(a)]
            got = [[full, *(t[:10] if full else datetime.fromisoformat(t).isoformat() for t in (s, e))]
                   for full, s, e in ev["sessions"]]
            assert got == want, (key, u)
            assert int(ev["sequence"]) == feeds.revision(history, a)[0], (key, u)
            assert ev["status"] == status.get(a.status, "TENTATIVE" if a.tentative else "CONFIRMED")
            assert (ev["transparency"] == "TRANSPARENT") == (a.all_day or a.status == "cancelled")
            if a.venue and a.venue.lat is not None:
                assert (ev["geo"]["lat"], ev["geo"]["lon"]) == wgs84(a.venue.lat, a.venue.lng), (key, u)
            checked += 1
    assert checked > 100


def test_lines_crlf_folded_at_75_octets(all_ics: dict[str, bytes]) -> None:
    long_lines = 0
    for key, data in all_ics.items():
        assert data.endswith(b"END:VCALENDAR\r\n"), key
        lines = data.split(b"\r\n")
        assert lines[-1] == b""
        for ln in lines[:-1]:
            assert b"\n" not in ln and b"\r" not in ln, (key, ln)
            assert len(ln) <= 75, (key, ln)
            ln.decode("utf-8")  # each physical line is valid UTF-8: no character split by a fold
            long_lines += ln.startswith(b" ")
    assert long_lines > 50  # folding was exercised (Chinese text, long URLs)


def test_fold_matches_icalendar() -> None:
    """feeds._fold is a faster copy of icalendar's folding; it must give the same bytes."""
    rnd = random.Random(20230915)
    alphabet = ["a", "Z", "9", " ", ",", ";", ":", "\\", "^", "\\n", "科", "普", "“", "·", "😀", "é"]
    for n in range(600):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 160)))
        line = ("DESCRIPTION:" if n % 2 else "X:") + text
        assert feeds._fold(line) == _foldline(line).encode("utf-8"), line


def test_events_match_icalendar(builds: dict[str, Build], tmp_path: Path) -> None:
    """feeds._vevent writes content lines by hand for speed; every event of the fixture, the
    seed campaigns and a synthetic campaign (all recurrence, status and venue kinds) must be
    byte-identical to the same event built and serialised by the icalendar library."""
    synth = make_synthetic(tmp_path / "synth", 400, 7)
    compared = 0
    for b in [*builds.values(), synth]:
        ctx = feeds._Context(BASE, b.history)
        blocks = vevents(b.ics["calendar.ics"])
        for c in b.site.published():
            for a in c.activities:
                expected = reference_bytes(a, ctx)
                assert feeds._vevent(a, ctx) == expected, (c.id, a.slug)
                assert blocks[uid(a.slug, c.id)] == expected
                compared += 1
    assert compared > 450
    # a UTC-equivalent campaign zone: icalendar writes such times as UTC (…Z), without TZID
    c = synth.site.published()[0]
    for tzid in ["UTC", "Etc/UTC", "GMT"]:
        c.timezone = tzid
        ctx = feeds._Context(BASE, synth.history)
        for a in c.activities:
            assert feeds._vevent(a, ctx) == reference_bytes(a, ctx), (tzid, a.slug)
        assert any(b"DTSTART:" in feeds._vevent(a, ctx) and b"Z\r\n" in feeds._vevent(a, ctx)
                   for a in c.activities)
    c.timezone = "Asia/Shanghai"
    for b in [*builds.values(), synth]:
        for path, data in b.ics.items():
            head = data[: data.index(b"REFRESH-INTERVAL")]
            assert head == reference_header(data), path


def test_every_feed_parses_in_icaljs(icaljs: dict[str, dict], all_ics: dict[str, bytes],
                                     builds: dict[str, Build]) -> None:
    assert set(icaljs) == set(all_ics)
    for key, seen in icaljs.items():
        cal = Calendar.from_ical(all_ics[key])
        assert [e["uid"] for e in seen["events"]] == [str(ev["UID"]) for ev in cal.walk("VEVENT")], key
        assert seen["timezone"] == "Asia/Shanghai"
        assert seen["zones"] == ["Asia/Shanghai"]
    # every event starts, as ical.js computes it in UTC, when the YAML says (local campaign time)
    for name, b in builds.items():
        for c in b.site.published():
            tz = ZoneInfo(c.timezone)
            for a in c.activities:
                ev = icaljs[f"{name}/{c.id}/activities/{a.slug}.ics"]["events"][0]
                first = a.occurrence_days()[0]
                if isinstance(a.start, datetime):
                    local = datetime.combine(first, a.start.time(), tz)
                    assert ev["start"] == local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"), a.slug
                    assert ev["tzid"] == c.timezone and not ev["allDay"]
                else:
                    assert ev["start"] == first.isoformat() and ev["allDay"] and ev["tzid"] is None
                assert c.label in ev["categories"]
                assert ev["description"].split("\n")[0] == c.label
                if a.recurrence:
                    assert len(ev["occurrences"]) == len(a.occurrence_days()), a.slug


def test_icaljs_times_and_sessions(icaljs: dict[str, dict]) -> None:
    def ev(slug: str) -> dict:
        return icaljs[f"fixture/{CID}/activities/{slug}.ics"]["events"][0]

    qidong = ev("qidong-yishi")
    # 09:30–11:30 in Shanghai (+08:00) is 01:30–03:30 UTC
    assert (qidong["start"], qidong["end"]) == ("2023-09-16T01:30:00.000Z", "2023-09-16T03:30:00.000Z")
    assert ev("kaifangri")["start"] == "2023-09-17" and ev("kaifangri")["end"] == "2023-09-18"
    assert ev("kepu-zhan")["end"] == "2023-09-22"  # exclusive end of 15–21 September
    for slug, sessions in SESSIONS.items():
        want = [
            s.replace(tzinfo=SH).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            if isinstance(s, datetime) else s.isoformat()
            for s in sessions
        ]
        assert ev(slug)["occurrences"] == want, slug
    assert ev("quxiao")["status"] == "CANCELLED" and ev("quxiao")["summary"].startswith("【已取消】")
    hostile = icaljs[f"fixture/{CID}/activities/e-yi.ics"]
    assert len(hostile["events"]) == 1 and hostile["components"] == ["vtimezone", "vevent"]
    assert hostile["events"][0]["summary"] == HOSTILE_TITLE
    assert "organizer" not in hostile["events"][0]["properties"]


def test_recurring_ical_events_expansion(fixture_build: Build) -> None:
    cal = Calendar.from_ical(fixture_build.ics[f"{CID}/calendar.ics"])
    found: dict[str, list] = {}
    for occ in recurring_ical_events.of(cal).between(date(2023, 8, 1), date(2023, 11, 1)):
        found.setdefault(str(occ["UID"]), []).append(occ["DTSTART"].dt)
    assert len(found) == 10
    for slug, sessions in SESSIONS.items():
        got = sorted(found[uid(slug)])
        want = [s.replace(tzinfo=SH) if isinstance(s, datetime) else s for s in sessions]
        assert got == want, slug
    for slug in ("qidong-yishi", "kaifangri", "kepu-zhan", "wangluo-jingsai", "quxiao", "yanqi", "e-yi"):
        assert len(found[uid(slug)]) == 1


# ---- event content ----------------------------------------------------------------------------


def test_dates_and_rules_in_raw_form(fixture_build: Build) -> None:
    def lines(slug: str) -> list[str]:
        return unfold(fixture_build.ics[f"{CID}/activities/{slug}.ics"])

    assert "DTSTART;TZID=Asia/Shanghai:20230916T093000" in lines("qidong-yishi")
    assert "DTEND;TZID=Asia/Shanghai:20230916T113000" in lines("qidong-yishi")
    assert {"DTSTART;VALUE=DATE:20230917", "DTEND;VALUE=DATE:20230918"} <= set(lines("kaifangri"))
    assert {"DTSTART;VALUE=DATE:20230915", "DTEND;VALUE=DATE:20230922"} <= set(lines("kepu-zhan"))
    museum = lines("bowuguan-daolan")
    # UNTIL in UTC (DTSTART has a TZID): the end of 21 September in Shanghai
    assert "RRULE:FREQ=DAILY;UNTIL=20230921T155959Z" in museum
    assert "EXDATE;TZID=Asia/Shanghai:20230918T090000" in museum
    assert "RRULE:FREQ=WEEKLY;UNTIL=20230928T155959Z;BYDAY=TU,TH" in lines("shouji-ketang")
    # all-day rule: UNTIL is a DATE; the Friday start moved to the first Saturday session
    saturday = lines("zhoumo-shiyan")
    assert "RRULE:FREQ=WEEKLY;UNTIL=20230930;INTERVAL=2;BYDAY=SA" in saturday
    assert {"DTSTART;VALUE=DATE:20230902", "DTEND;VALUE=DATE:20230903"} <= set(saturday)
    assert "TRANSP:TRANSPARENT" in saturday and "TRANSP:TRANSPARENT" not in museum


def test_status_and_summary(fixture_build: Build) -> None:
    expect = {
        "quxiao": ("CANCELLED", "【已取消】湿地观鸟科普行"),
        "yanqi": ("TENTATIVE", "【已延期】科技工作者沙龙"),
        "kepu-zhan": ("TENTATIVE", "企业科技创新成果科普展"),
        "qidong-yishi": ("CONFIRMED", "2023年样例市“全国科普日”启动仪式"),
    }
    for slug, (status, summary) in expect.items():
        ev = event(fixture_build, slug)
        assert (ev["STATUS"], ev["SUMMARY"]) == (status, summary)
    assert "已取消" in event(fixture_build, "quxiao")["DESCRIPTION"].split("\n")[1]


def test_description_location_categories(fixture_build: Build) -> None:
    ev = event(fixture_build, "qidong-yishi")
    desc = ev["DESCRIPTION"]
    for part in (LABEL, "主办：样例市科学技术协会", "协办：样例市教育局、样例市科学技术局",
                 "面向：青少年、老年人", "需要报名", "截止 2023-09-10", "名额 200 人", "https://kepu.example.cn/baoming/qidong",
                 "线上参与（直播）：https://live.example.cn/yangli/2023-qidong", "联系：王老师 0000-1234567",
                 f"活动页面：{BASE}{CID}/activities/qidong-yishi/", "启动仪式后举行科学家精神报告会",
                 "活动通知（https://kepu.example.cn/notice）"):
        assert part in desc, part
    assert "**" not in desc
    assert ev["LOCATION"] == "样例科技馆报告厅，样例市东区科技路1号"
    # GEO is WGS-84: the YAML's GCJ-02 point (31.2304, 121.4737) moved back by the inverse transform
    assert (ev["GEO"].latitude, ev["GEO"].longitude) == wgs84(31.2304, 121.4737) == (31.232329, 121.469162)
    assert ev.categories == [LABEL, "主场活动", "青少年", "老年人"]
    online = event(fixture_build, "wangluo-jingsai")
    assert online["LOCATION"] == "https://dati.example.cn/yangli/2023" and "GEO" not in online
    assert event(fixture_build, "kaifangri").categories == [LABEL, "高校联合行动", "青少年"]


def test_hostile_text_stays_text(fixture_build: Build) -> None:
    data = fixture_build.ics[f"{CID}/activities/e-yi.ics"]
    lines = unfold(data)
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    assert not any(ln.startswith(("UID:evil", "SUMMARY:evil", "ORGANIZER", "LOCATION:evil")) for ln in lines)
    assert b"\x07" not in data and b"\x1b" not in data and b"<script>" not in data
    cal = Calendar.from_ical(data)
    (ev,) = cal.walk("VEVENT")
    assert ev["SUMMARY"] == HOSTILE_TITLE
    assert ev["LOCATION"] == "礼堂, 二楼; 东侧 \\ 北门，东区 LOCATION:evil"
    desc = ev["DESCRIPTION"]
    assert "主办：某单位; ORGANIZER:mailto:evil@example.com, 等" in desc
    assert "第一行\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil@example.com\nSUMMARY:evil\n结尾\\n不是换行" in desc
    # the feed's own name and description carry the title escaped (icalendar parses NAME raw)
    assert HOSTILE_TITLE in cal["DESCRIPTION"]
    escaped = r"SUMMARY:evil\, a\; b \\ c <b>&amp\; END:VEVENT"
    assert any(ln.startswith("NAME:") and ln.endswith(escaped) for ln in lines)
    # and the same in every feed that carries it
    for path in (f"{CID}/calendar.ics", f"{CID}/dongqu/calendar.ics", "calendar.ics"):
        whole = Calendar.from_ical(fixture_build.ics[path])
        assert len(whole.walk("VEVENT")) == len(vevents(fixture_build.ics[path]))


def test_uid_host_and_base_path(fixture_build: Build) -> None:
    out = dict(iter_feeds(fixture_build.site, "https://example.org/kepu", fixture_build.history))
    ev = Calendar.from_ical(out[f"{CID}/activities/kaifangri.ics"]).walk("VEVENT")[0]
    assert ev["UID"] == f"kaifangri.{CID}@example.org"
    assert str(ev["URL"]) == f"https://example.org/kepu/{CID}/activities/kaifangri/"


# ---- revisions: SEQUENCE and LAST-MODIFIED from git --------------------------------------------


def test_revisions_from_git(fixture_build: Build) -> None:
    cal = Calendar.from_ical(fixture_build.ics[f"{CID}/calendar.ics"])
    by_uid = {str(ev["UID"]): ev for ev in cal.walk("VEVENT")}
    t1, t2 = datetime.fromisoformat(T1).astimezone(UTC), datetime.fromisoformat(T2).astimezone(UTC)
    for key, ev in by_uid.items():
        changed = key == uid("kaifangri")
        assert ev["SEQUENCE"] == (1 if changed else 0)
        assert ev["LAST-MODIFIED"].dt == (t2 if changed else t1)
        assert ev["CREATED"].dt == t1


def test_one_change_changes_one_event(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    first = build(repo)
    again = build(repo)
    assert first.ics == again.ics and first.xml == again.xml  # rebuilding is byte-identical

    path = repo / f"campaigns/{CID}/activities/xiqu/kepu-zhan.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("tentative: true", "tentative: false"),
                    encoding="utf-8")
    git(repo, "commit", "-q", "-am", "展览时间确定", when=T3)
    second = build(repo)
    assert set(second.ics) == set(first.ics)
    changed = uid("kepu-zhan")
    for key in first.ics:
        before, after = vevents(first.ics[key]), vevents(second.ics[key])
        assert set(before) == set(after)
        for u in before:
            if u != changed:
                assert after[u] == before[u], (key, u)  # every other event: byte for byte
                continue
            assert prop_line(before[u], "SEQUENCE") == "SEQUENCE:0"
            assert prop_line(after[u], "SEQUENCE") == "SEQUENCE:1"
            assert prop_line(before[u], "LAST-MODIFIED") == "LAST-MODIFIED:20230825T020000Z"
            assert prop_line(after[u], "LAST-MODIFIED") == "LAST-MODIFIED:20230905T103000Z"
            assert prop_line(after[u], "DTSTAMP") == "DTSTAMP:20230905T103000Z"
            assert prop_line(after[u], "STATUS") == "STATUS:CONFIRMED"
    assert build(repo).ics == second.ics

    # an uncommitted edit (a preview): one more revision, dated by the file's mtime
    stamp = datetime(2023, 9, 6, 12, 0, 0, 750000, tzinfo=UTC).timestamp()
    path.write_text(path.read_text(encoding="utf-8") + "subtheme: 预览\n", encoding="utf-8")
    os.utime(path, (stamp, stamp))
    dirty = build(repo)
    block = vevents(dirty.ics[f"{CID}/calendar.ics"])[changed]
    assert prop_line(block, "SEQUENCE") == "SEQUENCE:2"
    assert prop_line(block, "LAST-MODIFIED") == "LAST-MODIFIED:20230906T120000Z"


def _changed_events(before: Build, after: Build) -> set[str]:
    """UIDs whose VEVENT bytes differ in any feed (the same UIDs in the same feeds otherwise)."""
    assert set(after.ics) == set(before.ics)
    changed: set[str] = set()
    for key in before.ics:
        old, new = vevents(before.ics[key]), vevents(after.ics[key])
        assert set(old) == set(new), key
        changed |= {u for u in old if old[u] != new[u]}
    return changed


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_campaign_text_change_bumps_exactly_its_events(tmp_path: Path) -> None:
    """A campaign.yml edit changes the events that show the edited text, and only those: one
    more SEQUENCE, LAST-MODIFIED at that commit; other edits of campaign.yml change no event."""
    repo = make_repo(tmp_path / "repo")
    cfile = repo / f"campaigns/{CID}/campaign.yml"
    first = build(repo)

    # the theme is shown by the calendars' descriptions, not by any event
    _edit(cfile, "，助力科技自立自强", "")
    git(repo, "commit", "-q", "-am", "主题", when=T3)
    themed = build(repo)
    assert themed.ics[f"{CID}/calendar.ics"] != first.ics[f"{CID}/calendar.ics"]
    assert _changed_events(first, themed) == set()

    t4 = "2023-09-06T08:00:00+08:00"
    _edit(cfile, "gaoxiao: 高校联合行动", "gaoxiao: 高校科普行动")
    git(repo, "commit", "-q", "-am", "类别改名", when=t4)
    renamed = build(repo)
    gaoxiao = {uid("kaifangri"), uid("zhoumo-shiyan")}
    assert _changed_events(themed, renamed) == gaoxiao
    whole = vevents(renamed.ics[f"{CID}/calendar.ics"])
    before = vevents(themed.ics[f"{CID}/calendar.ics"])
    for u in gaoxiao:
        seq = int(prop_line(before[u], "SEQUENCE").split(":")[1])
        assert prop_line(whole[u], "SEQUENCE") == f"SEQUENCE:{seq + 1}"
        assert prop_line(whole[u], "LAST-MODIFIED") == "LAST-MODIFIED:20230906T000000Z"
        assert "高校科普行动" in prop_line(whole[u], "CATEGORIES")
    assert prop_line(whole[uid("kaifangri")], "SEQUENCE") == "SEQUENCE:2"  # its file changed once too
    assert build(repo).ics == renamed.ics  # still byte-identical on rebuild

    # a district's name is in the changes feed's summaries: its events move, with their entry ids
    t5 = "2023-09-07T08:00:00+08:00"
    _edit(cfile, "xiqu: 西区", "xiqu: 西城区")
    git(repo, "commit", "-q", "-am", "辖区改名", when=t5)
    district = build(repo)
    xiqu = {uid(s) for s in ("kepu-zhan", "bowuguan-daolan", "zhoumo-shiyan", "quxiao", "yanqi")}
    assert _changed_events(renamed, district) == xiqu
    atom = ET.fromstring(district.xml[f"{CID}/changes.xml"])
    ids = {e.findtext(f"{A}id").split("/")[-2]: e.findtext(f"{A}id") for e in atom.findall(f"{A}entry")}
    assert ids["zhoumo-shiyan"].endswith("/2") and ids["kepu-zhan"].endswith("/1")
    assert ids["qidong-yishi"].endswith("/0")

    # an activity added after a rename shows the new name from its first version: SEQUENCE:0
    new = repo / f"campaigns/{CID}/activities/xiqu/xin-huodong.yml"
    new.write_text(KAIFANGRI_V1.replace("样例大学实验室开放日", "新活动"), encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "新活动", when="2023-09-08T08:00:00+08:00")
    _edit(cfile, "zaixian: 在线活动", "zaixian: 线上活动")
    git(repo, "commit", "-q", "-am", "无关类别改名", when="2023-09-09T08:00:00+08:00")
    added = vevents(build(repo).ics[f"{CID}/calendar.ics"])[uid("xin-huodong")]
    assert prop_line(added, "SEQUENCE") == "SEQUENCE:0"

    # an uncommitted campaign.yml edit (a preview) is one more revision, dated by its mtime
    _edit(cfile, "qiye: 企业联合行动", "qiye: 企业行动")
    stamp = datetime(2023, 9, 10, 12, 0, tzinfo=UTC).timestamp()
    os.utime(cfile, (stamp, stamp))
    preview = vevents(build(repo).ics[f"{CID}/calendar.ics"])
    assert prop_line(preview[uid("kepu-zhan")], "SEQUENCE") == "SEQUENCE:2"
    assert prop_line(preview[uid("kepu-zhan")], "LAST-MODIFIED") == "LAST-MODIFIED:20230910T120000Z"
    assert prop_line(preview[uid("qidong-yishi")], "SEQUENCE") == "SEQUENCE:0"


def test_brand_label_change_bumps_the_brands_events(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    first = build(repo)
    _edit(repo / "campaigns/brands.yml", "{year}年全国科普日活动", "{year}年全国科普日主题活动")
    git(repo, "commit", "-q", "-am", "品牌标签", when=T3)
    after = build(repo)
    assert _changed_events(first, after) == set(vevents(first.ics[f"{CID}/calendar.ics"]))
    for block in vevents(after.ics[f"{CID}/calendar.ics"]).values():
        assert prop_line(block, "LAST-MODIFIED") == "LAST-MODIFIED:20230905T103000Z"


def test_shallow_clone_warns_and_fails_in_ci(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    assert read_history(clone).shallow and not read_history(repo).shallow
    assert history_problem(repo, {"CI": "true"}) is None
    fatal, message = history_problem(clone, {"CI": "true"})
    assert fatal and "fetch-depth: 0" in message and "浅克隆" in message
    assert history_problem(clone, {}) == (False, message)
    assert history_problem(clone, {"CI": "false"}) == (False, message)
    # what the shallow history gets wrong: every event looks new as of the one commit there is
    assert "SEQUENCE:1" in unfold(build(repo).ics[f"{CID}/activities/kaifangri.ics"])
    assert "SEQUENCE:1" not in unfold(build(clone).ics[f"{CID}/activities/kaifangri.ics"])


def test_shallow_clone_site_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog, capsys) -> None:
    """Through the MkDocs plugin: a warning naming fetch-depth: 0, and no site when CI=true."""
    from site_fixtures import copy_repo

    from generator.commands.cli import build_site

    repo = copy_repo(tmp_path / "repo", ["2021-changzhou-kejizhou"])
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.name=测试", "-c", "user.email=test@example.cn", "add", "-A")
    git(repo, "-c", "user.name=测试", "-c", "user.email=test@example.cn", "commit", "-q", "-m", "1")
    (repo / "README.md").write_text("second commit\n", encoding="utf-8")
    git(repo, "-c", "user.name=测试", "-c", "user.email=test@example.cn", "add", "-A")
    git(repo, "-c", "user.name=测试", "-c", "user.email=test@example.cn", "commit", "-q", "-m", "2")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))

    monkeypatch.setenv("CI", "true")
    assert build_site(clone, tmp_path / "ci-site", quiet=True) is False
    said = capsys.readouterr().err + caplog.text
    assert "fetch-depth: 0" in said and "浅克隆" in said, said
    assert not (tmp_path / "ci-site").exists()

    caplog.clear()
    monkeypatch.delenv("CI")
    assert build_site(clone, tmp_path / "site", quiet=True)
    said = capsys.readouterr().err + caplog.text
    assert "fetch-depth: 0" in said, said
    assert (tmp_path / "site" / "calendar.ics").exists()
    caplog.clear()
    assert build_site(repo, tmp_path / "full", quiet=True)  # full history: nothing said
    assert "fetch-depth" not in capsys.readouterr().err + caplog.text


def test_history_follows_renames_and_ignores_pure_moves(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    root = repo / "site"  # root below the repository top: paths must still be relative to root
    adir = root / "campaigns" / "c" / "activities" / "d"
    adir.mkdir(parents=True)
    (repo / "README").write_text("x\n")
    git(repo, "init", "-q")
    git(repo, "config", "user.name", "t")
    git(repo, "config", "user.email", "t@example.cn")
    (adir / "a.yml").write_text("id: a\ntitle: 一\n" + "x: 1\n" * 20)
    (adir / "b.yml").write_text("title: b\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "1", when=T1)
    (adir / "a.yml").write_text("id: a\ntitle: 二\n" + "x: 1\n" * 20)
    git(repo, "commit", "-q", "-am", "2", when=T2)
    git(repo, "mv", "site/campaigns/c/activities/d/a.yml", "site/campaigns/c/activities/d/a2.yml")
    git(repo, "rm", "-q", "site/campaigns/c/activities/d/b.yml")
    git(repo, "commit", "-q", "-m", "3: move a, delete b", when=T3)
    (adir / "b.yml").write_text("title: new b\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "4: a new b", when="2023-09-07T08:00:00+08:00")
    (adir / "new.yml").write_text("title: untracked\n")

    h = read_history(root)
    a2 = h.files["campaigns/c/activities/d/a2.yml"]
    assert a2.commits == 2  # the pure rename is not a change of the activity
    assert a2.last == datetime.fromisoformat(T2).astimezone(UTC)
    assert a2.first == datetime.fromisoformat(T1).astimezone(UTC)
    assert h.revision(adir / "a2.yml") == (1, a2.last)
    b = h.files["campaigns/c/activities/d/b.yml"]
    assert b.commits == 1 and b.first == datetime(2023, 9, 7, 0, 0, tzinfo=UTC)  # not the deleted b
    assert "campaigns/c/activities/d/a.yml" not in h.files
    assert h.dirty == {"campaigns/c/activities/d/new.yml"}
    os.utime(adir / "new.yml", (1694000000.9, 1694000000.9))
    assert h.revision(adir / "new.yml") == (0, datetime.fromtimestamp(1694000000, UTC))
    # the same file, named relative to the current directory, as Activity.pos.path is
    assert h.revision(os.path.relpath(adir / "a2.yml")) == (1, a2.last)


def test_history_without_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "campaigns" / "x.yml"
    f.parent.mkdir()
    f.write_text("title: x\n")
    os.utime(f, (1694000000.5, 1694000000.5))
    h = read_history(tmp_path)  # not a repository
    assert h.files == {} and not h.dirty
    assert h.revision(f) == (0, datetime.fromtimestamp(1694000000, UTC))
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))  # git missing altogether
    assert read_history(ROOT).files == {}


# ---- changes.xml ------------------------------------------------------------------------------

A = "{http://www.w3.org/2005/Atom}"


def test_changes_feed(fixture_build: Build) -> None:
    root = ET.fromstring(fixture_build.xml[f"{CID}/changes.xml"])
    assert root.tag == f"{A}feed"
    entries = root.findall(f"{A}entry")
    assert len(entries) == 10
    updated = [e.findtext(f"{A}updated") for e in entries]
    assert updated == sorted(updated, reverse=True)
    assert root.findtext(f"{A}updated") == updated[0] == "2023-09-01T01:00:00Z"
    first = entries[0]
    assert first.findtext(f"{A}title") == "【更新】样例大学重点实验室科普开放日"
    assert first.findtext(f"{A}id") == f"tag:kepu.example.cn,2023:{CID}/kaifangri/1"
    assert first.find(f"{A}link").get("href") == f"{BASE}{CID}/activities/kaifangri/"
    titles = {e.findtext(f"{A}title") for e in entries}
    assert {"【已取消】湿地观鸟科普行", "【已延期】科技工作者沙龙", "【新增】科普知识网络竞赛直播"} <= titles
    summaries = {e.findtext(f"{A}id").split("/")[-2]: e.findtext(f"{A}summary") for e in entries}
    assert "2023-09-16 09:30–11:30" in summaries["qidong-yishi"]
    assert "样例科技馆报告厅" in summaries["qidong-yishi"]
    assert "2023-09-15 至 2023-09-21，每天，共 6 场，每场 09:00–17:00" in summaries["bowuguan-daolan"]
    assert "每 2 周的周六，共 3 场" in summaries["zhoumo-shiyan"]
    hostile = next(e for e in entries if e.findtext(f"{A}id").endswith("/e-yi/0"))
    assert hostile.findtext(f"{A}title") == f"【新增】{HOSTILE_TITLE}"  # < and & escaped, \x1b dropped
    assert all(e.findtext(f"{A}summary").startswith(LABEL) for e in entries)


def test_changes_feed_limits_and_empty(fixture_build: Build) -> None:
    site = copy.copy(fixture_build.site)
    c = copy.copy(site.published()[0])
    c.activities = []
    for i in range(150):
        a = copy.copy(fixture_build.site.published()[0].activities[i % 10])
        a.slug, a.campaign = f"a-{i:03d}", c
        c.activities.append(a)
    site.campaigns = [c]
    root = ET.fromstring(changes_feed(site, BASE, fixture_build.history)[f"{CID}/changes.xml"])
    assert len(root.findall(f"{A}entry")) == 100
    c.activities = []
    empty = changes_feed(site, BASE, fixture_build.history)[f"{CID}/changes.xml"]
    root = ET.fromstring(empty)
    assert root.findall(f"{A}entry") == []
    assert root.findtext(f"{A}updated") == "2023-09-14T16:00:00Z"  # period start, never build time
    assert empty == changes_feed(site, BASE, fixture_build.history)[f"{CID}/changes.xml"]
    # an empty campaign feed is still a valid calendar (its VTIMEZONE is the one component)
    ics = dict(iter_feeds(site, BASE, fixture_build.history))[f"{CID}/calendar.ics"]
    assert [c.name for c in Calendar.from_ical(ics).subcomponents] == ["VTIMEZONE"]


# ---- subscribe links ---------------------------------------------------------------------------


def test_subscribe_links() -> None:
    url = f"{BASE}{CID}/dongqu/calendar.ics"
    links = subscribe_links(url, "样例 · 东区")
    assert links["https"] == url
    assert links["webcal"] == f"webcal://kepu.example.cn/{CID}/dongqu/calendar.ics"
    # query values keep what a URL's query may hold (":/" and Chinese text); a browser sends
    # them percent-encoded, as urllib would have written them
    assert links["google"] == f"https://calendar.google.com/calendar/r?cid=webcal://kepu.example.cn/{CID}/dongqu/calendar.ics"
    assert links["outlook"] == (
        f"https://outlook.live.com/calendar/0/addfromweb?url={url}&name=样例%20·%20东区"
    )
    assert "&name=" not in subscribe_links(url)["outlook"]
    sent = quote(links["outlook"], safe="".join(map(chr, range(0x21, 0x7F))))  # what a browser sends
    assert parse_qs(urlsplit(sent).query) == {"url": [url], "name": ["样例 · 东区"]}


# ---- golden files ------------------------------------------------------------------------------


@pytest.mark.parametrize("golden", sorted(GOLDEN_FILES))
def test_golden(golden: str, fixture_build: Build) -> None:
    out = {**fixture_build.ics, **fixture_build.xml}[GOLDEN_FILES[golden]]
    path = GOLDEN / golden
    if os.environ.get("KEPU_REGEN_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(out)
    assert path.exists(), f"missing {path}: see the module docstring to regenerate"
    assert out == path.read_bytes(), f"{golden} differs; if intended, regenerate (see the module docstring)"


def test_vtimezone_covers_campaign_years(fixture_build: Build) -> None:
    cal = Calendar.from_ical(fixture_build.ics["calendar.ics"])
    (tz,) = cal.timezones
    assert tz["COMMENT"] == "This timezone only works from 2023-01-01 to 2024-01-01."
    assert timedelta(hours=8) == tz.walk("STANDARD")[0]["TZOFFSETTO"].td


def test_fast_url_escaping_matches_urllib() -> None:
    """urls.quote_all and urls.query replace urllib's quote/urlencode for speed; same output."""
    from urllib.parse import quote, urlencode

    rnd = random.Random(20230916)
    alphabet = list("aZ9 ,;:/?&=+%#~._-！“”科普😀é\n\t")
    for _ in range(3000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(40)))
        assert urls.quote_all(text) == quote(text, safe=""), text
        params = {"a b": text, "text": text[::-1]}
        assert urls.query(params) == urlencode(params), text


def test_iri_query_reads_as_urlencode_once_a_browser_sends_it() -> None:
    """urls.iri_query leaves Chinese text and ":/" as they are (a third of the bytes); a browser
    percent-encodes the rest as UTF-8 when it follows the link, and the server reads the same."""
    rnd = random.Random(20230917)
    alphabet = list("aZ9 ,;:/?&=+%#~._-！“”科普😀é\n\t'\"<>（）·\u3000\u200b\u2028")
    browser_keeps = "".join(map(chr, range(0x21, 0x7F)))
    for _ in range(3000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(1, 40)))
        params = {"a b": text, "text": text[::-1]}
        out = urls.iri_query(params)
        assert parse_qs(quote(out, safe=browser_keeps), keep_blank_values=True) == {
            k: [v] for k, v in params.items()}, text
        # nothing that ends a value, a URL or an HTML attribute, and nothing invisible
        assert not set(urls.iri_value(text)) & set(" &#=+\"'<>\n\t\u3000\u200b\u2028"), text
    assert urls.iri_query({"text": "科普日（测试）", "d": "https://a.cn/x"}) == "text=科普日（测试）&d=https://a.cn/x"
