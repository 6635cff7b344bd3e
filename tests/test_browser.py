"""The built sample site in Chromium at a phone viewport (390x844): what visitors see and do.

Chromium is the Debian package at /usr/bin/chromium (never downloaded by Playwright); the site is
served from the session build by a ThreadingHTTPServer on 127.0.0.1 (site_fixtures.served_site).
Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from generator.model import Activity, Campaign, Site

pytest.register_assert_rewrite("site_fixtures")
from site_fixtures import (  # noqa: E402
    HOSTILE_CAMPAIGN,
    HOSTILE_SLUG,
    SITE_URL,
    search_page,
    serve,
)

pytest_plugins = ["site_fixtures"]

# No skipif on purpose: CI installs Chromium, and a missing browser must fail loudly (the `browser`
# fixture fails with an install hint naming CHROMIUM) rather than let the suite pass unchecked.

PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).parent / "artifacts"
CAMPAIGN = "2022-changzhou-kepuri"  # has cancelled and postponed activities, several districts, online ones
# the visitor's clock for these tests: before CAMPAIGN, so all of its activities are upcoming and
# listed (ended ones are behind 显示已结束的活动, see test_visitor.py)
NOW = "2022-08-01T10:00:00+08:00"

# computed colours → WCAG contrast of an element's text against its effective background
CONTRAST_JS = r"""
(els) => {
  const parse = (c) => {
    const m = c && c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const blend = (t, b) => ({r: t.r * t.a + b.r * (1 - t.a), g: t.g * t.a + b.g * (1 - t.a),
                            b: t.b * t.a + b.b * (1 - t.a), a: 1});
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let base = {r: 255, g: 255, b: 255, a: 1};
    for (let i = layers.length - 1; i >= 0; i--) base = blend(layers[i], base);
    return base;
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  return els.filter((el) => {
    const r = el.getBoundingClientRect();
    const shown = getComputedStyle(el).visibility !== "hidden";
    return r.width > 0 && r.height > 0 && el.textContent.trim() && shown;
  }).map((el) => {
    const cs = getComputedStyle(el);
    const bg = background(el);
    const fgRaw = parse(cs.color);
    const fg = fgRaw ? blend({...fgRaw, a: fgRaw.a * Number(cs.opacity)}, bg) : null;
    const ratio = fg ? (Math.max(lum(fg), lum(bg)) + 0.05) / (Math.min(lum(fg), lum(bg)) + 0.05) : 0;
    return {cls: el.className, text: el.textContent.trim().slice(0, 24), color: cs.color,
            bg: `rgb(${bg.r|0}, ${bg.g|0}, ${bg.b|0})`, ratio: Math.round(ratio * 100) / 100};
  });
}
"""

# visible elements carrying their own text, with computed font size and box height
BOXES_JS = r"""
(els) => els.filter((el) => {
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== "hidden";
}).map((el) => ({
  cls: el.className || el.tagName, tag: el.tagName,
  text: (el.textContent || el.value || "").trim().replace(/\s+/g, " ").slice(0, 24),
  own: Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim()),
  size: parseFloat(getComputedStyle(el).fontSize), height: el.getBoundingClientRect().height,
}))
"""


# -- fixtures and helpers ---------------------------------------------------------------------------


class Visit:
    """A browser context at phone size that records every request and every console error."""

    def __init__(self, browser, base: str, now: str | None = NOW, **context):
        self.base = base
        self.ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                       device_scale_factor=2, locale="zh-CN", timezone_id="Asia/Shanghai",
                                       **context)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.ctx.on("request", lambda r: self.requests.append(r.url))
        if now:  # the visitor's clock: what is upcoming, today or over is decided by it
            self.ctx.clock.set_fixed_time(now)
        self.page = self.ctx.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        # ERR_ABORTED: a request cut short by the test moving to the next page, not a fault
        self.page.on("requestfailed", lambda r: "ERR_ABORTED" not in (r.failure or "")
                     and self.errors.append(f"request failed: {r.url} {r.failure}"))
        self.page.on("response", lambda r: r.status >= 400 and self.errors.append(f"HTTP {r.status} {r.url}"))

    def go(self, path: str):
        self.page.goto(self.base + path, wait_until="load")
        return self.page

    def outside(self) -> list[str]:
        return [u for u in self.requests
                if not u.startswith(("data:", "blob:")) and urlparse(u).hostname != "127.0.0.1"]

    def close(self) -> None:
        self.ctx.close()


@pytest.fixture
def visit(browser, served_site: str) -> Iterator[Visit]:
    v = Visit(browser, served_site)
    try:
        yield v
    finally:
        v.close()


def campaign(site: Site, cid: str = CAMPAIGN) -> Campaign:
    return next(c for c in site.published() if c.id == cid)


def visible_slugs(page) -> list[str]:
    hrefs = page.eval_on_selector_all(
        "li.kepu-item", "els => els.filter(e => e.offsetParent !== null)"
        ".map(e => e.querySelector('a.kepu-item__link').getAttribute('href'))",
    )
    return [h.rstrip("/").rsplit("/", 1)[-1] for h in hrefs]


def matches(a: Activity, district=None, category=None, audience=None, mode=None) -> bool:
    cat = a.campaign.category_list.get(a.category)
    return ((not district or a.district == district)
            and (not category or a.category == category or (cat is not None and cat.parent == category))
            and (not audience or audience in a.audiences)
            and (not mode or a.mode == mode or a.mode == "hybrid"))


def open_all_details(page) -> None:
    page.eval_on_selector_all("article details", "els => els.forEach(d => d.open = true)")


def no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url}: page is {width}px wide, scrolls sideways on a phone"


# -- loading, branding, privacy of requests -----------------------------------------------------------


def test_pages_load_cleanly_and_never_leave_localhost(visit: Visit, site_model: Site):
    c = campaign(site_model)
    a = c.activities[0]
    district = a.district
    pages = ["", f"{c.id}/", f"{c.id}/{district}/", f"{c.id}/activities/{a.slug}/", f"{c.id}/stats/",
             "subscribe/"]
    for path in pages:
        page = visit.go(path)
        page.wait_for_load_state("networkidle")
        no_horizontal_scroll(page)
    # the search fetches index shards: search once
    page = search_page(visit, "科普")
    page.wait_for_load_state("networkidle")
    assert visit.requests, "no requests were recorded"
    assert not visit.outside(), "requests left 127.0.0.1:\n  " + "\n  ".join(sorted(set(visit.outside())))
    assert not visit.errors, "errors while loading:\n  " + "\n  ".join(visit.errors)


def test_campaign_page_shows_label_and_logos(visit: Visit, site_model: Site):
    for c in site_model.published():
        page = visit.go(f"{c.id}/")
        label = page.locator(".kepu-brand .kepu-label").first
        assert label.is_visible() and label.inner_text().strip() == c.label, c.id
        texts = [t.strip() for t in page.locator(".kepu-brand .kepu-logo--text").all_inner_texts()]
        for logo in c.all_logos:
            imgs = page.locator(".kepu-brand img.kepu-logo").filter(
                has=page.locator(f"xpath=self::*[@alt='{logo.name}']"))
            if imgs.count():  # a logo image must be shown and actually load
                assert imgs.first.is_visible(), (c.id, logo.name)
                ok = imgs.first.evaluate("i => i.complete && i.naturalWidth > 0")
                assert ok, f"{c.id}: logo image for {logo.name} did not load"
            else:
                assert logo.name in texts, f"{c.id}: logo {logo.name} neither image nor text badge"
                badge = page.locator(".kepu-brand .kepu-logo--text", has_text=logo.name).first
                assert badge.is_visible(), (c.id, logo.name)
    assert not visit.errors, visit.errors


# -- filters ---------------------------------------------------------------------------------------------


def test_district_filter_narrows_in_place_and_is_shareable(visit: Visit, site_model: Site):
    c = campaign(site_model)
    counts = {d: len(c.activities_by_district()[d]) for d in c.districts}
    district = max(counts, key=lambda d: (counts[d], d))
    want = {a.slug for a in c.activities if a.district == district}
    assert 0 < len(want) < len(c.activities), "pick a campaign where a district filter narrows the list"

    page = visit.go(f"{c.id}/")
    form = page.locator("form.kepu-filters")
    assert form.is_visible(), "the filter form stays hidden (kepu.js did not run?)"
    assert set(visible_slugs(page)) == {a.slug for a in c.activities}
    page.select_option("form.kepu-filters select[name='district']", district)
    assert set(visible_slugs(page)) == want
    assert parse_qs(urlparse(page.url).query).get("district") == [district], page.url
    assert urlparse(page.url).path == f"/{c.id}/", "filtering must not navigate away"
    count = page.locator(".kepu-filter-count").inner_text()
    assert str(len(want)) in count, count
    empty_days = page.eval_on_selector_all(
        "section.kepu-day", "els => els.filter(s => s.offsetParent !== null"
        " && !Array.from(s.querySelectorAll('li.kepu-item')).some(li => li.offsetParent !== null))"
        ".map(s => s.dataset.date)")
    assert not empty_days, f"days without matching activities should not be shown: {empty_days}"

    # the shared URL, opened fresh, shows the same state
    shared = page.url
    page2 = visit.ctx.new_page()
    page2.goto(shared)
    assert page2.locator("select[name='district']").input_value() == district
    assert set(visible_slugs(page2)) == want
    page2.close()

    # back to all
    page.select_option("form.kepu-filters select[name='district']", "")
    assert set(visible_slugs(page)) == {a.slug for a in c.activities}
    assert not urlparse(page.url).query


def test_category_and_mode_filters(visit: Visit, site_model: Site):
    c = campaign(site_model)
    parents = [k for k, cat in c.category_list.items() if cat.children]
    used_parent = next(p for p in parents if any(matches(a, category=p) for a in c.activities))
    page = visit.go(f"{c.id}/")
    page.select_option("select[name='category']", used_parent)
    want = {a.slug for a in c.activities if matches(a, category=used_parent)}
    assert set(visible_slugs(page)) == want, "a parent category shows its sub-categories' activities"

    page.select_option("select[name='category']", "")
    page.select_option("select[name='mode']", "online")
    want = {a.slug for a in c.activities if matches(a, mode="online")}
    assert want and set(visible_slugs(page)) == want, "online = online and hybrid activities"
    page.select_option("select[name='mode']", "offline")
    want = {a.slug for a in c.activities if matches(a, mode="offline")}
    assert set(visible_slugs(page)) == want
    q = parse_qs(urlparse(page.url).query)
    assert q == {"mode": ["offline"]}, page.url

    # an audience the sample uses
    audience = next(k for k in c.audiences if any(k in a.audiences for a in c.activities))
    page.select_option("select[name='mode']", "")
    page.select_option("select[name='audience']", audience)
    assert set(visible_slugs(page)) == {a.slug for a in c.activities if matches(a, audience=audience)}


def test_empty_result_message(visit: Visit, site_model: Site):
    c = campaign(site_model)
    combo = next(
        (d, m) for d in c.districts for m in ("online", "offline")
        if c.activities_by_district()[d] and not any(matches(a, district=d, mode=m) for a in c.activities)
    )
    page = visit.go(f"{c.id}/?district={combo[0]}&mode={combo[1]}")
    assert visible_slugs(page) == []
    empty = page.locator(".kepu-listing .kepu-empty")
    assert empty.is_visible(), "no message when nothing matches"
    assert "没有" in empty.inner_text()
    page.select_option("select[name='mode']", "")
    assert visible_slugs(page) and not empty.is_visible()


# -- large text, sizes, tap targets, contrast -------------------------------------------------------------


def typeset_size(page) -> float:
    return page.eval_on_selector("article.md-typeset", "e => parseFloat(getComputedStyle(e).fontSize)")


def test_large_text_toggle_enlarges_and_persists(visit: Visit, site_model: Site):
    c = campaign(site_model)
    page = visit.go(f"{c.id}/activities/{c.activities[0].slug}/")
    toggle = page.locator(".kepu-large-toggle")
    assert toggle.is_visible()
    before = typeset_size(page)
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.click()
    after = typeset_size(page)
    assert after > before * 1.1, f"大字 changed .md-typeset from {before}px to {after}px"
    assert toggle.get_attribute("aria-pressed") == "true"
    page.reload()
    assert page.evaluate("document.documentElement.classList.contains('kepu-large')")
    assert typeset_size(page) == after, "the 大字 choice did not survive a reload"
    assert page.locator(".kepu-large-toggle").get_attribute("aria-pressed") == "true"
    # and it applies on other pages too, then switches back
    page = visit.go(f"{c.id}/")
    assert typeset_size(page) == after
    page.locator(".kepu-large-toggle").click()
    assert typeset_size(page) == before


TEXT_SIZES_JS = r"""
() => Array.from(document.querySelectorAll("article *")).filter((e) =>
  Array.from(e.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim())
  && e.getBoundingClientRect().height > 0
).map((e) => [e.tagName + (e.className ? "." + e.className : ""), e.textContent.trim().slice(0, 16),
              parseFloat(getComputedStyle(e).fontSize)])
"""


def test_large_text_reaches_all_page_text(visit: Visit, site_model: Site):
    """大字 must enlarge every piece of text in the page body, including the opened subscribe box."""
    c = campaign(site_model)
    page = visit.go(f"{c.id}/")
    open_all_details(page)
    before = page.evaluate(TEXT_SIZES_JS)
    page.locator(".kepu-large-toggle").click()
    after = page.evaluate(TEXT_SIZES_JS)
    assert len(before) == len(after)
    stuck = sorted({(b[0], b[1], b[2]) for b, a in zip(before, after, strict=True) if a[2] <= b[2]})
    assert not stuck, "text the 大字 toggle does not enlarge:\n  " + "\n  ".join(map(str, stuck))


BODY_TEXT = ("article.md-typeset p, article.md-typeset li, article.md-typeset dd, article.md-typeset td, "
             ".kepu-item__title, .kepu-item__time")


@pytest.mark.parametrize("which", ["campaign", "activity", "district"])
def test_body_text_at_least_18px(visit: Visit, site_model: Site, which: str):
    c = campaign(site_model)
    a = next(x for x in c.activities if x.description and x.registration)
    path = {"campaign": f"{c.id}/", "activity": f"{c.id}/activities/{a.slug}/",
            "district": f"{c.id}/{a.district}/"}[which]
    page = visit.go(path)
    open_all_details(page)  # what a visitor reads after tapping 订阅日历 counts too
    boxes = page.eval_on_selector_all(BODY_TEXT, BOXES_JS)
    assert boxes, "no body text found"
    small = {(b["cls"], b["text"], b["size"]) for b in boxes if b["own"] and b["size"] < 18}
    assert not small, f"{path}: body text under 18px:\n  " + "\n  ".join(map(str, sorted(small)))


@pytest.mark.parametrize("which", ["campaign", "activity"])
def test_tap_targets_at_least_44px(visit: Visit, site_model: Site, which: str):
    c = campaign(site_model)
    a = next(x for x in c.activities if x.venue and x.venue.lat is not None and x.registration)
    page = visit.go(f"{c.id}/" if which == "campaign" else f"{c.id}/activities/{a.slug}/")
    open_all_details(page)
    sel = ".kepu-item__link, article .md-button, .kepu-filters select, .kepu-large-toggle, .kepu-districts a"
    boxes = page.eval_on_selector_all(sel, BOXES_JS)
    assert len(boxes) > 3
    small = {(b["cls"], b["text"], round(b["height"], 1)) for b in boxes if b["height"] < 44}
    assert not small, "tap targets under 44px:\n  " + "\n  ".join(map(str, sorted(small)))


def test_standalone_links_are_tap_sized(visit: Visit, site_model: Site):
    """Links that stand alone (not inside a sentence): the toolbar's 如何订阅日历 and the subscribe
    options a subscriber must hit on a phone."""
    c = campaign(site_model)
    page = visit.go(f"{c.id}/")
    open_all_details(page)
    boxes = page.eval_on_selector_all(".kepu-toolbar a, .kepu-subscribe__body li > a", BOXES_JS)
    assert boxes
    small = {(b["text"], round(b["height"], 1)) for b in boxes if b["height"] < 44}
    assert not small, "standalone links under 44px tall:\n  " + "\n  ".join(map(str, sorted(small)))


CONTRAST_SEL = (
    "article.md-typeset p, article.md-typeset li, article.md-typeset dd, article.md-typeset dt, "
    ".kepu-label, .kepu-badge, .kepu-banner, .kepu-item__meta, .kepu-item__label, .kepu-item__time, "
    ".kepu-item__title, .kepu-count, .kepu-hint, .kepu-logo--text, .kepu-sample, article .md-button, "
    ".kepu-large-toggle, .kepu-toolbar a, .kepu-facts a"
)


def test_text_contrast_at_least_4_5(visit: Visit, site_model: Site):
    pages = []
    for c in site_model.published():
        pages.append(f"{c.id}/")
    for status in ("cancelled", "postponed"):
        a = next(a for c in site_model.published() for a in c.activities if a.status == status)
        pages.append(f"{a.campaign.id}/activities/{a.slug}/")
    a = next(a for c in site_model.published() for a in c.activities if a.tentative)
    pages.append(f"{a.campaign.id}/activities/{a.slug}/")
    low, kinds = set(), set()
    for path in pages:
        page = visit.go(path)
        open_all_details(page)
        for r in page.eval_on_selector_all(CONTRAST_SEL, CONTRAST_JS):
            kinds.update(r["cls"].split())
            if r["ratio"] < 4.5:
                low.add((path, r["cls"], r["text"], r["color"], r["bg"], r["ratio"]))
    for needed in ("kepu-label", "kepu-badge--cancelled", "kepu-badge--postponed", "kepu-badge--tentative"):
        assert needed in kinds, f"contrast of .{needed} was never measured"
    assert not low, "text contrast under 4.5:1:\n  " + "\n  ".join(map(str, sorted(low)))


# -- search ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["讲解大赛", "剧本杀", "白茶"])
def test_search_finds_a_chinese_word(visit: Visit, site_model: Site, word: str):
    hits = [a for c in site_model.published() for a in c.activities if word in a.title]
    assert len(hits) == 1, f"pick a word in exactly one activity title; {word!r} is in {len(hits)}"
    a = hits[0]
    page = search_page(visit, word)
    target = f"a.kepu-search__link[href*='/{a.campaign.id}/activities/{a.slug}/']"
    page.wait_for_selector(target, timeout=10_000)
    first = page.locator("a.kepu-search__link").first.get_attribute("href")
    assert f"/activities/{a.slug}/" in first, f"the activity is not the first result for {word}: {first}"
    assert a.title[:4] in page.locator(target).first.inner_text()
    assert "?q=" in page.url, "the search is not shareable as a URL"
    page.locator(target).first.click()
    page.wait_for_load_state()
    heading = page.locator("h1").first.inner_text()
    assert heading.endswith(a.title), "the result link does not open the activity"


def test_search_downloads_little(visit: Visit, built_site: Path):
    """What a visitor downloads for a search: the manifest and a few shards, not the whole index."""
    total_index = sum(p.stat().st_size for p in (built_site / "search").rglob("*.json"))
    sizes: list[int] = []
    visit.page.on("response", lambda r: "/search/" in r.url and r.url.endswith(".json")
                  and sizes.append(len(r.body())))
    search_page(visit, "科学家精神")
    visit.page.wait_for_load_state("networkidle")
    assert sizes, "the search fetched no index files"
    assert sum(sizes) < 1_000_000
    assert sum(sizes) <= total_index
    # (that a large site's search fetches only part of its index is tested in test_search.py)


def test_search_says_when_nothing_is_found(visit: Visit):
    page = search_page(visit, "不存在的活动名称甲乙丙")
    assert "没有找到" in page.locator("#kepu-search-results").inner_text()


# -- print -------------------------------------------------------------------------------------------------


def test_district_page_prints_without_header_and_subscribe_box(visit: Visit, site_model: Site):
    c = campaign(site_model)
    d = max(c.districts, key=lambda k: len(c.activities_by_district()[k]))
    page = visit.go(f"{c.id}/{d}/")
    assert page.locator(".kepu-subscribe").is_visible()
    page.emulate_media(media="print")
    for sel in (".md-header", ".kepu-subscribe", ".md-banner", ".kepu-print-hint", ".md-sidebar"):
        loc = page.locator(sel)
        if loc.count():
            assert not loc.first.is_visible(), f"{sel} is printed"
    assert page.locator(".kepu-listing").is_visible()
    assert set(visible_slugs(page)) == {a.slug for a in c.activities_by_district()[d]}
    footer = page.locator(".kepu-print-footer")
    assert footer.is_visible() and c.label in footer.inner_text()
    page.emulate_media(media="screen")
    assert page.locator(".md-header").is_visible()


# -- screenshots -------------------------------------------------------------------------------------------


def test_subscribe_box_links_and_copy_reach_the_feed(visit: Visit, site_model: Site):
    """Every way to subscribe, as the browser resolves it: the links keep Chinese text and ':/'
    unescaped in their queries and the copy button reads the address beside it (issue 16, weight)."""
    c = campaign(site_model)
    a = next(x for x in c.activities if x.status != "cancelled")
    feed = f"{SITE_URL}{c.id}/activities/{a.slug}.ics"
    visit.ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=visit.base.rstrip("/"))
    page = visit.go(f"{c.id}/activities/{a.slug}/")
    page.locator("details.kepu-subscribe > summary").click()
    links = page.eval_on_selector_all(".kepu-subscribe__body li > a", "els => els.map(e => e.href)")
    webcal, google, outlook, download = links
    assert webcal == "webcal" + feed.removeprefix("https")
    assert parse_qs(urlparse(google).query) == {"cid": [webcal]}
    assert parse_qs(urlparse(outlook).query) == {"url": [feed], "name": [a.title]}
    assert download == f"{visit.base}{c.id}/activities/{a.slug}.ics"
    assert page.request.get(download).body().startswith(b"BEGIN:VCALENDAR")
    page.locator(".kepu-subscribe__body .kepu-copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == feed
    assert page.locator(".kepu-subscribe__body .kepu-copy").text_content() == "已复制"
    assert not visit.errors, visit.errors


def test_screenshots_for_review(visit: Visit, site_model: Site):
    """Writes tests/artifacts/*.png for a human to look at; asserts only what a machine can."""
    ARTIFACTS.mkdir(exist_ok=True)
    c = campaign(site_model, "2023-chengdu-kepuri")  # four logos, 待定/暂定, long titles
    a = next(x for x in c.activities if x.tentative and x.mode == "hybrid")
    shots = {"campaign": f"{c.id}/", "activity": f"{c.id}/activities/{a.slug}/"}
    for name, path in shots.items():
        page = visit.go(path)
        page.wait_for_load_state("networkidle")
        page.evaluate("document.fonts.ready")
        no_horizontal_scroll(page)
        page.screenshot(path=str(ARTIFACTS / f"{name}-390x844.png"))
        page.screenshot(path=str(ARTIFACTS / f"{name}-390-full.png"), full_page=True)
        assert (ARTIFACTS / f"{name}-390x844.png").stat().st_size > 10_000
    # the subscribe box as a subscriber sees it after tapping 订阅日历
    page.locator("details.kepu-subscribe > summary").first.click()
    page.locator(".kepu-subscribe__body").first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "activity-subscribe-open-390x844.png"))
    assert page.locator(".kepu-subscribe__body").first.is_visible()


# -- hostile input, as a visitor meets it -------------------------------------------------------------


def test_hostile_activity_runs_no_script(browser, hostile_build: Path):
    """A description and title full of script tricks (site_fixtures.HOSTILE_*): opening the page
    and searching for it must not open a single dialog, and the page must stay whole."""
    with serve(hostile_build) as base:
        v = Visit(browser, base)
        dialogs: list[str] = []
        v.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        try:
            for listing in (f"{HOSTILE_CAMPAIGN}/", f"{HOSTILE_CAMPAIGN}/stats/", ""):
                v.go(listing).wait_for_load_state("networkidle")  # the campaign title is in the nav
            page = v.go(f"{HOSTILE_CAMPAIGN}/activities/{HOSTILE_SLUG}/")
            page.wait_for_load_state("networkidle")
            parsed = page.evaluate("""() => {
                const s = document.querySelector('script[type="application/ld+json"]');
                try { return JSON.parse(s.textContent)['@type']; } catch (e) { return String(e); }
            }""")
            whole = page.locator(".md-footer").count() == 1 and page.locator(".kepu-share").count() == 1
            page = search_page(v, "预选赛")
            page.wait_for_selector(f"a.kepu-search__link[href*='{HOSTILE_SLUG}']", timeout=10_000)
            page.wait_for_timeout(300)
            result_imgs = page.locator("#kepu-search-results img").count()
        finally:
            v.close()
    assert not dialogs, f"script ran: alert({dialogs})"
    assert result_imgs == 0, "the activity title's markup became an <img> in the search results"
    assert parsed == "Event", f"JSON-LD does not parse in the browser: {parsed}"
    assert whole, "the page after the JSON-LD block was swallowed (no footer / share section)"
