"""What depends on "now", decided in the visitor's browser (issue 12; assets/kepu.js, kepu-search.js).

Chromium at 390x844 with Playwright's clock fixed at Saturday 2023-09-16 10:00 (+08:00) and a set
geolocation, on a fixture campaign made for the purpose (ended, running, today, tomorrow, this
weekend, registration closed, a daily activity, an online one, an empty district). Every check
here reads what the script writes, so each fails without it. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

pytest.register_assert_rewrite("site_fixtures")
from site_fixtures import copy_repo, serve  # noqa: E402
from test_browser import ARTIFACTS, Visit  # noqa: E402

from generator.commands.cli import build_site  # noqa: E402

pytest_plugins = ["site_fixtures"]

NOW = "2023-09-16T10:00:00+08:00"  # a Saturday
CID = "2023-fangke-ceshi"
# the visitor stands in 成都 (WGS-84, as a phone's GPS gives it)
HERE = {"latitude": 30.6500, "longitude": 104.0600}

CAMPAIGN_YML = """\
title: 2023年测试市全国科普日活动
brand: kepuri
year: 2023
region: 测试市
period: {start: 2023-09-10, end: 2023-09-24}
timezone: Asia/Shanghai
districts:
  dong: 东区
  xi: 西区
  kong: 空区
categories:
  zhuchang: 主场活动
audiences:
  qingshaonian: 青少年
topics:
  kehuan: 科幻
status: published
"""

# slug → (district, YAML lines); venues are GCJ-02, as 高德 gives them
ACTIVITIES = {
    "yi-jieshu": ("dong", "start: 2023-09-10 09:00\nend: 2023-09-10 11:00", (30.6600, 104.0700)),
    "zheng-jinxing": ("dong", "start: 2023-09-16 09:00\nend: 2023-09-16 12:00", (30.6000, 104.1000)),
    "jintian-xiawu": ("xi", "start: 2023-09-16 14:00\nend: 2023-09-16 16:00\n"
                      "registration: {required: true, url: https://example.org/a, deadline: 2023-09-16}",
                      (30.6530, 104.0630)),
    "mingtian-shangwu": ("xi", "start: 2023-09-17 09:00\nend: 2023-09-17 10:00", (30.7000, 104.0000)),
    "zhouri-quantian": ("dong", "start: 2023-09-17", (30.5000, 104.2000)),
    "baoming-jiezhi": ("xi", "start: 2023-09-20 14:00\nend: 2023-09-20 15:00\n"
                       "registration: {required: true, url: https://example.org/b, deadline: 2023-09-15}",
                       (30.6600, 104.0500)),
    "meitian-zhanlan": ("dong", "start: 2023-09-12 09:00\nend: 2023-09-12 17:00\n"
                        "recurrence: {freq: daily, until: 2023-09-22}", (30.6400, 104.0800)),
    "xiazhou-sijiang": ("xi", "start: 2023-09-21 10:00\nend: 2023-09-21 11:00", (30.6100, 104.0300)),
    "xianshang-zhibo": ("dong", "start: 2023-09-18 19:00\nend: 2023-09-18 20:00\n"
                        "online: {url: https://live.example.org/x, platform: 直播}", None),
}


def activity_yml(slug: str, district: str, when: str, venue: tuple[float, float] | None) -> str:
    text = f"""\
        title: 测试活动{slug}
        organizer: 测试市科学技术协会
        organizer_system: kexie
        level: city
        category: zhuchang
        audiences: [qingshaonian]
        """
    text = textwrap.dedent(text) + when + "\n"
    if venue:
        text += f"venue: {{name: 场馆{slug}, address: 测试市{slug}路1号, lat: {venue[0]}, lng: {venue[1]}}}\n"
    return text


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = copy_repo(tmp_path_factory.mktemp("visitorrepo") / "repo", [])
    cdir = repo / "campaigns" / CID
    cdir.mkdir()
    (cdir / "campaign.yml").write_text(CAMPAIGN_YML, encoding="utf-8")
    for slug, (district, when, venue) in ACTIVITIES.items():
        (cdir / "activities" / district).mkdir(parents=True, exist_ok=True)
        (cdir / "activities" / district / f"{slug}.yml").write_text(
            activity_yml(slug, district, when, venue), encoding="utf-8")
    out = tmp_path_factory.mktemp("visitorsite") / "site"
    assert build_site(repo, out, quiet=True), "the visitor fixture campaign does not build"
    return out


@pytest.fixture(scope="module")
def fixture_url(fixture_site: Path) -> Iterator[str]:
    with serve(fixture_site) as url:
        yield url


@pytest.fixture
def visit(browser, fixture_url: str) -> Iterator[Visit]:
    v = Visit(browser, fixture_url, now=NOW, geolocation=HERE, permissions=["geolocation"])
    try:
        yield v
    finally:
        v.close()


def slug_of(li) -> str:
    return li.query_selector("a.kepu-item__link").get_attribute("href").rstrip("/").rsplit("/", 1)[-1]


def shown(page, within: str = ".kepu-listing") -> list[tuple[str, str]]:
    """(day heading date, slug) of every visible entry, in page order."""
    return [tuple(x) for x in page.eval_on_selector_all(
        f"{within} li.kepu-item",
        "els => els.filter(e => e.offsetParent !== null).map(e => ["
        "e.closest('section.kepu-day') ? (e.closest('section.kepu-day').dataset.date || '') : '',"
        "e.querySelector('a.kepu-item__link').getAttribute('href').replace(/\\/$/, '').split('/').pop()])",
    )]


def state_of(page, slug: str) -> str:
    return page.locator(f"li.kepu-item:has(a[href$='/{slug}/']) [data-kepu-state]").first.inner_text().strip()


# -- time states ----------------------------------------------------------------------------------


def test_listing_states_order_and_ended_behind_a_button(visit: Visit):
    page = visit.go(f"{CID}/")
    assert state_of(page, "zheng-jinxing") == "进行中"
    assert state_of(page, "meitian-zhanlan") == "进行中"
    assert state_of(page, "jintian-xiawu") == "今天"
    assert state_of(page, "mingtian-shangwu") == "明天"
    assert state_of(page, "zhouri-quantian") == "明天"
    assert state_of(page, "xiazhou-sijiang") == ""
    entries = shown(page)
    slugs = [s for _, s in entries]
    # ended: not shown until asked for, and then after every upcoming one
    assert "yi-jieshu" not in slugs
    assert len(slugs) == len(set(slugs)) == len(ACTIVITIES) - 1, "each activity once"
    # the daily exhibition (since 9月12日) and the running one are under today, in time order
    # (both from 09:00 today: then in the build's order, the exhibition first)
    assert entries[:3] == [("2023-09-16", "meitian-zhanlan"), ("2023-09-16", "zheng-jinxing"),
                           ("2023-09-16", "jintian-xiawu")], entries
    days = [d for d, _ in entries]
    assert days == sorted(days)
    heading = page.locator("section.kepu-day[data-date='2023-09-16'] h2").inner_text()
    assert heading == "2023年9月16日（星期六）"
    toggle = page.get_by_role("button", name="显示已结束的活动（1 项）")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    slugs = [s for _, s in shown(page)]
    assert slugs[-1] == "yi-jieshu" and state_of(page, "yi-jieshu") == "已结束"
    assert page.locator(".kepu-ended-toggle").inner_text().startswith("收起已结束的活动")
    assert not visit.errors, visit.errors


def test_activity_page_states_and_registration(visit: Visit):
    page = visit.go(f"{CID}/activities/jintian-xiawu/")
    assert page.locator(".kepu-when [data-kepu-state]").inner_text() == "今天"
    register = page.locator("[data-kepu-register] a", has_text="去报名")
    assert register.is_visible(), "deadline today: still open"
    page = visit.go(f"{CID}/activities/baoming-jiezhi/")
    reg = page.locator("[data-kepu-register]")
    assert reg.inner_text().strip() == "报名已截止"
    assert reg.locator("a").count() == 0, "a closed registration offers no link"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "visitor-registration-closed.png"), full_page=True)
    page = visit.go(f"{CID}/activities/yi-jieshu/")
    assert page.locator(".kepu-when [data-kepu-state]").inner_text() == "已结束"
    page = visit.go(f"{CID}/activities/zheng-jinxing/")
    assert page.locator(".kepu-when [data-kepu-state]").inner_text() == "进行中"
    assert not visit.errors, visit.errors


# -- date filters ---------------------------------------------------------------------------------


def test_quick_date_filters_and_picked_day_combine_and_are_shareable(visit: Visit):
    page = visit.go(f"{CID}/")
    page.locator("label.kepu-chip", has_text="本周末").click()
    weekend = shown(page)
    assert weekend == [("2023-09-16", "meitian-zhanlan"), ("2023-09-16", "zheng-jinxing"),
                       ("2023-09-16", "jintian-xiawu"), ("2023-09-17", "zhouri-quantian"),
                       ("2023-09-17", "mingtian-shangwu")], weekend
    assert parse_qs(urlparse(page.url).query) == {"when": ["weekend"]}
    page.select_option("select[name='district']", "xi")
    assert shown(page) == [("2023-09-16", "jintian-xiawu"), ("2023-09-17", "mingtian-shangwu")]
    shared = page.url
    assert parse_qs(urlparse(shared).query) == {"district": ["xi"], "when": ["weekend"]}

    page.locator("label.kepu-chip", has_text="明天").click()
    assert shown(page) == [("2023-09-17", "mingtian-shangwu")]
    page.select_option("select[name='district']", "")
    page.locator("label.kepu-chip", has_text="未来七天").click()
    week = {s for _, s in shown(page)}
    assert week == set(ACTIVITIES) - {"yi-jieshu"}
    # a picked day: the daily exhibition is listed under that day, and again only there
    page.fill("input[name='day']", "2023-09-19")
    page.dispatch_event("input[name='day']", "change")
    assert shown(page) == [("2023-09-19", "meitian-zhanlan")]
    assert parse_qs(urlparse(page.url).query) == {"day": ["2023-09-19"]}
    assert page.locator("input[name='when'][value='']").is_checked()

    page2 = visit.ctx.new_page()
    page2.goto(shared)
    assert page2.locator("input[name='when'][value='weekend']").is_checked()
    assert shown(page2) == [("2023-09-16", "jintian-xiawu"), ("2023-09-17", "mingtian-shangwu")]
    page2.close()
    assert not visit.errors, visit.errors


# -- 离我最近 -------------------------------------------------------------------------------------


def wgs2gcj(lat: float, lng: float) -> tuple[float, float]:
    """The public WGS-84 → GCJ-02 transform (Krasovsky 1940), as the script must do it."""
    if not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271):
        return lat, lng
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lng - 105.0, lat - 35.0
    d_lat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
             + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
             + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
             + (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0)
    d_lng = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
             + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
             + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
             + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    d_lat = (d_lat * 180.0) / ((a * (1 - ee)) / (magic * math.sqrt(magic)) * math.pi)
    d_lng = (d_lng * 180.0) / (a / math.sqrt(magic) * math.cos(rad) * math.pi)
    return lat + d_lat, lng + d_lng


def haversine(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2)
    return 2 * 6371000 * math.asin(math.sqrt(h))


def distance_words(m: float) -> str:
    if m < 1000:
        return f"{max(10, round(m / 10) * 10)} 米"
    return f"{m / 1000:.1f} 公里" if m < 100_000 else f"{round(m / 1000)} 公里"


def test_near_me_sorts_by_converted_distance_online_last(visit: Visit):
    me = wgs2gcj(HERE["latitude"], HERE["longitude"])
    shift = haversine(*me, HERE["latitude"], HERE["longitude"])
    assert shift > 100, "the shift in 成都 is hundreds of metres"
    want = sorted(((haversine(*me, *v), s) for s, (_, _, v) in ACTIVITIES.items() if v and s != "yi-jieshu"))
    page = visit.go(f"{CID}/")
    button = page.get_by_role("button", name="离我最近", exact=True)
    assert button.is_visible()
    button.click()
    page.wait_for_selector(".kepu-near__button[aria-pressed='true']")
    slugs = [s for _, s in shown(page)]
    assert slugs == [s for _, s in want] + ["xianshang-zhibo"], "nearest first, online-only last"
    for m, s in want:
        text = page.locator(f"li.kepu-item:has(a[href$='/{s}/']) [data-kepu-distance]").inner_text()
        assert text.endswith(distance_words(m)), (s, text, m)
        # out of date order, every entry says its date (no day heading says it for it)
        when = page.locator(f"li.kepu-item:has(a[href$='/{s}/']) .kepu-item__when")
        assert when.is_visible() and "年" in when.inner_text(), (s, "date hidden in distance order")
    # without the conversion the nearest venue's distance would read differently
    raw = haversine(HERE["latitude"], HERE["longitude"], *ACTIVITIES[want[0][1]][2])
    assert distance_words(raw) != distance_words(want[0][0])
    button.click()  # back to date order
    assert button.get_attribute("aria-pressed") == "false"
    assert [d for d, _ in shown(page)][0] == "2023-09-16"
    assert not page.locator("[data-kepu-distance]:visible").count()
    assert not visit.errors, visit.errors


def test_near_me_refused_says_so(browser, fixture_url: str):
    v = Visit(browser, fixture_url, now=NOW)  # no permission given
    try:
        page = v.go(f"{CID}/")
        before = shown(page)
        page.get_by_role("button", name="离我最近", exact=True).click()
        page.wait_for_function("document.querySelector('.kepu-near__note').textContent.includes('仍按日期排列')")
        assert shown(page) == before
    finally:
        v.close()


# -- home page ------------------------------------------------------------------------------------


def test_home_today_weekend_soon(visit: Visit):
    page = visit.go("")
    assert page.locator("[data-kepu-now]").is_visible()
    today = [slug_of(li) for li in page.query_selector_all("[data-kepu-today] li.kepu-item")]
    assert today == ["meitian-zhanlan", "zheng-jinxing", "jintian-xiawu"]
    weekend = [slug_of(li) for li in page.query_selector_all("[data-kepu-weekend] li.kepu-item")]
    assert weekend == ["zhouri-quantian", "mingtian-shangwu"]
    soon = [slug_of(li) for li in page.query_selector_all("[data-kepu-soon] li.kepu-item")]
    assert soon == ["zhouri-quantian", "mingtian-shangwu", "xianshang-zhibo", "baoming-jiezhi",
                    "xiazhou-sijiang"]
    when = page.locator("[data-kepu-today] li.kepu-item .kepu-item__when").last.inner_text()
    assert when.startswith("2023年9月16日（星期六）")
    assert not page.locator("[data-kepu-none]").is_visible()
    assert page.locator(".kepu-campaign-card [data-kepu-state]").inner_text() == "进行中"
    assert not visit.errors, visit.errors


def test_home_says_when_nothing_is_upcoming(browser, fixture_url: str):
    v = Visit(browser, fixture_url, now="2023-10-01T10:00:00+08:00")
    try:
        page = v.go("")
        assert page.locator("[data-kepu-none]").is_visible()
        assert not page.locator("[data-kepu-today]").is_visible()
        assert page.locator(".kepu-campaign-card [data-kepu-state]").inner_text() == "已结束"
    finally:
        v.close()
    v = Visit(browser, fixture_url, now="2023-09-01T10:00:00+08:00")
    try:
        assert v.go("").locator(".kepu-campaign-card [data-kepu-state]").inner_text() == "即将开始"
    finally:
        v.close()


# -- search ---------------------------------------------------------------------------------------


def test_search_ranks_upcoming_then_ended_then_pages(visit: Visit):
    page = visit.go("search/?q=测试")
    page.wait_for_selector(".kepu-search__link")
    links = page.eval_on_selector_all(
        ".kepu-search__link", "els => els.map(e => [e.textContent, new URL(e.href).pathname])")
    urls = [u.split(f"/{CID}/", 1)[1] for _, u in links]
    acts = [u for u in urls if u.startswith("activities/")]
    assert urls[: len(acts)] == acts, f"activities first: {urls}"
    assert acts[-1] == "activities/yi-jieshu/" and links[len(acts) - 1][0].startswith("【已结束】")
    assert acts[0] in ("activities/zheng-jinxing/", "activities/jintian-xiawu/"), acts  # ends today
    assert "kong/" not in urls, "a district with no activity is no result"
    assert set(urls[len(acts):]) == {"", "dong/", "xi/"}


# -- the sample site: screenshots -----------------------------------------------------------------


def test_chengdu_screenshots(browser, served_site: str):
    v = Visit(browser, served_site, now=NOW, geolocation={"latitude": 30.6570, "longitude": 104.0660},
              permissions=["geolocation"])
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        page = v.go("2023-chengdu-kepuri/")
        page.get_by_role("button", name="离我最近", exact=True).click()
        page.wait_for_selector("[data-kepu-distance]:visible")
        page.screenshot(path=str(ARTIFACTS / "visitor-chengdu-near-me.png"), full_page=True)
        page = v.go("")
        page.screenshot(path=str(ARTIFACTS / "visitor-home.png"), full_page=True)
        assert page.locator("[data-kepu-today] li.kepu-item").count() > 0
        assert not v.errors, v.errors
    finally:
        v.close()


# -- what the script adds stays accessible --------------------------------------------------------

AXE = Path(__file__).parent / "js" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.mark.parametrize("path", [f"{CID}/", "", f"{CID}/activities/baoming-jiezhi/"])
def test_script_parts_pass_axe_and_16px(visit: Visit, path: str):
    page = visit.go(path)
    if path == f"{CID}/":
        page.get_by_role("button", name="离我最近", exact=True).click()
        page.wait_for_selector("[data-kepu-distance]:visible")
        page.get_by_role("button", name="显示已结束的活动（1 项）").click()
    # the parts under test are there (so this fails without the script)
    assert page.locator("[data-kepu-state]:not(:empty), .kepu-closed").first.is_visible()
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""() => axe.run(document, {runOnly: {type: "tag",
        values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})""")
    bad = [f"{v['id']}: {[n['target'] for n in v['nodes'][:5]]}" for v in result["violations"]
           if v["impact"] in ("serious", "critical")]
    assert not bad, bad
    small = page.eval_on_selector_all(
        ".kepu-state, .kepu-distance, .kepu-chip span, .kepu-closed, .kepu-ended-toggle, .kepu-near__note",
        "els => els.filter(e => e.offsetParent !== null && e.textContent.trim())"
        ".filter(e => parseFloat(getComputedStyle(e).fontSize) < 16).map(e => e.textContent)")
    assert not small, f"text under 16px: {small}"
