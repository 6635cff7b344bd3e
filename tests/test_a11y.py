"""适老化 and accessibility of the public pages (issue 12, points 8 and 9), in Chromium at 390x844.

- axe-core (tests/js/node_modules, pinned in tests/js/package.json) audits each public page against
  WCAG 2.0/2.1 A and AA; a serious or critical violation fails, the rest is printed.
- A computed-style scan: every visible text ≥ 16 px, tap targets ≥ 44 px, stats headings that
  do not wrap one character per line.
- The Chinese chrome: organiser and ICP 备案 in the footer (mkdocs.yml `extra:`), no "Made with",
  a Chinese 404 page whose links work under a sub-path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from generator.commands.cli import build_site
from generator.model import Site

pytest.register_assert_rewrite("site_fixtures")
from site_fixtures import copy_repo, serve, set_top_level, soup_of  # noqa: E402

pytest_plugins = ["site_fixtures"]

PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).parent / "artifacts"
AXE = Path(__file__).parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
CAMPAIGN = "2022-changzhou-kepuri"  # cancelled, postponed and online activities, several districts
PAGES = ["home", "campaign", "district", "activity", "search", "subscribe", "stats"]


def page_path(site: Site, which: str) -> str:
    c = next(x for x in site.published() if x.id == CAMPAIGN)
    a = next(x for x in c.activities if x.description and x.registration)
    d = max(c.districts, key=lambda k: len(c.district_activities(k)))
    return {"home": "", "campaign": f"{c.id}/", "district": f"{c.id}/{d}/",
            "activity": f"{c.id}/activities/{a.slug}/", "search": "search/?q=科普",
            "subscribe": "subscribe/", "stats": f"{c.id}/stats/"}[which]


@pytest.fixture
def phone(browser) -> Iterator[object]:
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2,
                              locale="zh-CN")
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


def open_page(page, base: str, path: str):
    page.goto(base + path, wait_until="load")
    if path.startswith("search/"):
        page.wait_for_selector(".kepu-search__link", timeout=10_000)
    # what a visitor reads after tapping 订阅日历 or a disclosure counts too
    page.eval_on_selector_all("article details", "els => els.forEach(d => d.open = true)")
    page.evaluate("document.fonts.ready")
    return page


# -- axe-core ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", PAGES)
def test_axe_finds_no_serious_violation(phone, served_site: str, site_model: Site, which: str):
    assert AXE.exists(), f"{AXE} missing: run `make setup-test` (npm ci --prefix tests/js)"
    path = page_path(site_model, which)
    page = open_page(phone, served_site, path)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""() => axe.run(document, {runOnly: {type: "tag",
        values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})""")
    assert result["testEngine"]["name"] == "axe-core" and result["passes"], "axe did not run"
    bad, other = [], []
    for v in result["violations"]:
        nodes = "; ".join(" ".join(n["target"]) + (f" ({n['failureSummary'].splitlines()[-1].strip()})"
                                                    if n.get("failureSummary") else "")
                          for n in v["nodes"][:6])
        line = f"[{v['impact']}] {v['id']}: {v['help']} — {len(v['nodes'])}× {nodes}"
        (bad if v["impact"] in ("serious", "critical") else other).append(line)
    if other:
        print(f"{which} ({path}): minor axe findings:\n  " + "\n  ".join(other))
    assert not bad, f"{which} ({path}): axe-core violations:\n  " + "\n  ".join(bad)


# -- computed styles -------------------------------------------------------------------------------

# Every element a visitor can see that carries text of its own (a direct text node), with its
# computed font size. "Visible": a box on the page (not display:none, not in a closed <details>),
# not visibility:hidden, and not clipped to nothing (material's visually-hidden labels are for
# screen readers). Off-canvas parts that slide in (the nav drawer) count: a visitor opens them.
TEXT_JS = r"""
() => {
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (["SCRIPT", "STYLE", "TEMPLATE", "NOSCRIPT", "svg"].includes(el.tagName)) continue;
    if (el.closest("svg, template")) continue;
    const own = Array.from(el.childNodes).filter((n) => n.nodeType === 3).map((n) => n.textContent)
      .join("").replace(/\s+/g, " ").trim()
      || (["SELECT", "TEXTAREA"].includes(el.tagName) || (el.tagName === "INPUT"
          && ["text", "search", "url", "email", "tel", "number", "date"].includes(el.type))
          ? (el.value || el.placeholder || "") : "");
    if (!own) continue;
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    if (r.width < 2 || r.height < 2 || cs.visibility === "hidden") continue;
    if (cs.clip === "rect(0px, 0px, 0px, 0px)" || cs.clipPath === "inset(50%)") continue;
    out.push({tag: el.tagName, cls: String(el.className).slice(0, 40), text: own.slice(0, 20),
              size: parseFloat(cs.fontSize)});
  }
  return out;
}
"""


@pytest.mark.parametrize("which", [*PAGES, "404"])
def test_all_visible_text_at_least_16px(phone, served_site: str, site_model: Site, which: str):
    path = "404.html" if which == "404" else page_path(site_model, which)
    page = open_page(phone, served_site, path)
    boxes = page.evaluate(TEXT_JS)
    assert len(boxes) > 10, "the scan found almost no text"
    small = sorted({(b["tag"], b["cls"], b["text"], b["size"]) for b in boxes if b["size"] < 16 - 0.01})
    assert not small, f"{which} ({path}): visible text under 16px:\n  " + "\n  ".join(map(str, small))


# Tap targets: a, button, select, input, summary that are visible. The rule, after WCAG 2.5.8's
# "inline" exception: a link whose box is inline inside a block of running text (the block holds
# at least 8 characters of words that are not link text) may be as tall as the line; anything
# that stands alone — nav entries, buttons, list-of-link items, form fields — must be ≥ 44px tall.
# A standalone link that happens to be short would still fail: the surrounding block has no prose.
TAP_JS = r"""
() => {
  const blockOf = (el) => {
    for (let e = el.parentElement; e; e = e.parentElement) {
      const d = getComputedStyle(e).display;
      if (!d.startsWith("inline")) return e;
    }
    return document.body;
  };
  const prose = (el) => {
    if (el.tagName !== "A" || getComputedStyle(el).display !== "inline") return false;
    const block = blockOf(el).cloneNode(true);
    block.querySelectorAll("a, button, input, select").forEach((x) => x.remove());
    return block.textContent.replace(/\s+/g, "").length >= 8;
  };
  const out = [];
  for (const el of document.querySelectorAll("a[href], button, select, input, summary")) {
    if (el.type === "hidden") continue;
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    if (r.width < 2 || r.height < 2 || cs.visibility === "hidden") continue;
    if (cs.clip === "rect(0px, 0px, 0px, 0px)") continue;
    // a radio or checkbox drawn hidden under its label: the label is the target
    let h = r.height, target = el;
    if (el.tagName === "INPUT" && (el.type === "radio" || el.type === "checkbox") && el.closest("label")) {
      target = el.closest("label"); h = target.getBoundingClientRect().height;
    }
    out.push({tag: el.tagName, cls: String(el.className).slice(0, 40),
              text: (el.textContent || el.value || el.getAttribute("aria-label") || "").trim()
                .replace(/\s+/g, " ").slice(0, 20),
              height: Math.round(h * 10) / 10, inline: prose(el)});
  }
  return out;
}
"""


@pytest.mark.parametrize("which", [*PAGES, "404"])
def test_tap_targets_at_least_44px(phone, served_site: str, site_model: Site, which: str):
    path = "404.html" if which == "404" else page_path(site_model, which)
    page = open_page(phone, served_site, path)
    targets = page.evaluate(TAP_JS)
    assert len(targets) > 3, "the scan found almost no tap targets"
    small = sorted({(t["tag"], t["cls"], t["text"], t["height"]) for t in targets
                    if t["height"] < 44 and not t["inline"]})
    assert not small, f"{which} ({path}): tap targets under 44px tall:\n  " + "\n  ".join(map(str, small))


def test_stats_table_headings_do_not_wrap_per_character(phone, served_site: str, site_model: Site):
    page = open_page(phone, served_site, page_path(site_model, "stats"))
    ths = page.eval_on_selector_all("article table th", r"""els => els.filter(e => e.offsetParent !== null)
      .map(e => { const cs = getComputedStyle(e);
        const lh = cs.lineHeight === "normal" ? 1.2 * parseFloat(cs.fontSize) : parseFloat(cs.lineHeight);
        const pad = parseFloat(cs.paddingTop) + parseFloat(cs.paddingBottom);
        return {text: e.textContent.trim(), lines: (e.getBoundingClientRect().height - pad) / lh}; })""")
    assert len(ths) >= 3, "no table headings on the stats page"
    # up to 8 characters (e.g. 领导干部和公务员) on one line, longer names on at most two
    tall = [(t["text"], round(t["lines"], 1)) for t in ths
            if t["lines"] > (1.05 if len(t["text"]) <= 8 else 2.05)]
    assert not tall, "stats table headings wrap on a phone:\n  " + "\n  ".join(map(str, tall))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the stats page is {width}px wide: the whole page scrolls sideways"


# -- Chinese chrome: footer, ICP, 404 -----------------------------------------------------------------------

ICP = "京ICP备12345678号-1"
SUBPATH_URL = "https://kepu.example.cn/kepu/"


def test_footer_names_organiser_without_made_with(built_site: Path):
    extra = yaml.safe_load((Path(__file__).parents[1] / "mkdocs.yml").read_text(encoding="utf-8"))["extra"]
    assert extra.get("organiser"), "mkdocs.yml extra: organiser is not set"
    for page in (built_site / "index.html", built_site / CAMPAIGN / "index.html", built_site / "404.html"):
        footer = soup_of(page).select_one("footer.md-footer")
        assert footer is not None, f"{page}: no footer"
        text = footer.get_text(" ", strip=True)
        assert extra["organiser"] in text, f"{page}: the organiser is not in the footer"
        assert "Made with" not in text and "squidfunk" not in str(footer), f"{page}: footer says Made with"
        if not extra.get("icp"):
            assert "ICP" not in text and not footer.select("a[href*='beian']"), "empty icp must show nothing"


@pytest.fixture(scope="module")
def subpath_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One campaign built for a site served under /kepu/, with an ICP number set."""
    repo = copy_repo(tmp_path_factory.mktemp("chromerepo") / "repo", [CAMPAIGN])
    cfg = repo / "mkdocs.yml"
    set_top_level(cfg, "site_url", SUBPATH_URL)
    text = cfg.read_text(encoding="utf-8")
    text, n = re.subn(r'^(\s+)icp:.*$', rf'\1icp: "{ICP}"', text, count=1, flags=re.M)
    assert n == 1, "mkdocs.yml has no `icp:` line under extra:"
    cfg.write_text(text, encoding="utf-8")
    out = tmp_path_factory.mktemp("chromesite") / "kepu"
    assert build_site(repo, out, quiet=True)
    return out


def test_icp_number_links_to_miit(subpath_build: Path):
    for page in (subpath_build / "index.html", subpath_build / CAMPAIGN / "index.html",
                 subpath_build / "404.html"):
        links = [a for a in soup_of(page).select("footer a") if ICP in a.get_text()]
        assert len(links) == 1, f"{page}: the ICP number is not one link in the footer"
        assert links[0]["href"] == "https://beian.miit.gov.cn/"


def test_404_page_is_chinese_and_links_work_under_a_subpath(browser, subpath_build: Path):
    soup = soup_of(subpath_build / "404.html")
    assert soup.select_one("html")["lang"].startswith("zh")
    assert "Not found" not in soup.get_text() and "404" in soup.select_one("h1").get_text()
    assert "找不到" in soup.select_one("article").get_text()
    # served as the server would for a missing page deep under /kepu/: every link must still resolve
    with serve(subpath_build.parent) as base:
        ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
        try:
            page = ctx.new_page()
            failed: list[str] = []
            page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
            page.goto(base + "kepu/404.html", wait_until="load")
            assert not failed, "the 404 page loads broken assets:\n  " + "\n  ".join(failed)
            hrefs = page.eval_on_selector_all("article a[href]", "els => els.map(e => e.href)")
            assert any(h.rstrip("/") == base + "kepu" for h in hrefs), f"no link home: {hrefs}"
            assert base + "kepu/search/" in hrefs, f"no link to the search page: {hrefs}"
            for h in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                if h.startswith(base):
                    assert page.request.get(h).ok, f"the 404 page links to a missing page: {h}"
        finally:
            ctx.close()


# -- screenshots -----------------------------------------------------------------------------------------


def test_screenshots_for_review(phone, served_site: str, site_model: Site):
    """tests/artifacts/a11y-*.png for a human to look at (390x844 and full page)."""
    ARTIFACTS.mkdir(exist_ok=True)
    c = next(x for x in site_model.published() if x.id == "2023-chengdu-kepuri")
    a = next(x for x in c.activities if x.tentative and x.mode == "hybrid")
    shots = {"home": "", "campaign": f"{c.id}/", "activity": f"{c.id}/activities/{a.slug}/",
             "stats": f"{CAMPAIGN}/stats/", "404": "404.html"}
    for name, path in shots.items():
        page = open_page(phone, served_site, path)
        page.screenshot(path=str(ARTIFACTS / f"a11y-{name}-390x844.png"))
        page.screenshot(path=str(ARTIFACTS / f"a11y-{name}-390-full.png"), full_page=True)
        assert (ARTIFACTS / f"a11y-{name}-390x844.png").stat().st_size > 10_000
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.screenshot(path=str(ARTIFACTS / "a11y-footer-390x844.png"))
