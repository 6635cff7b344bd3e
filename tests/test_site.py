"""The built site, read by structure (BeautifulSoup selectors), checked against the model.

The sample repository is built once per session (site_fixtures.built_site); the expected values
come from ``generator.validate.read_site`` and from counting the YAML-backed model here, never
from the generator's own page helpers.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import re
import time
from collections import Counter
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from bs4 import BeautifulSoup

from generator.commands.cli import build_site
from generator.model import Activity, Campaign, Site

pytest.register_assert_rewrite("site_fixtures")
from site_fixtures import ROOT, SITE_URL, copy_repo, search_docs, set_top_level, soup_of  # noqa: E402

pytest_plugins = ["site_fixtures"]

TEXT_SUFFIXES = {".html", ".json", ".xml", ".ics", ".csv"}
STATUS_JSONLD = {"scheduled": "EventScheduled", "cancelled": "EventCancelled", "postponed": "EventPostponed"}


# -- helpers ------------------------------------------------------------------------------------


def activity_file(out: Path, a: Activity) -> Path:
    return out / a.campaign.id / "activities" / a.slug / "index.html"


def all_activities(site: Site) -> list[Activity]:
    return [a for c in site.published() for a in c.activities]


def text_of(el) -> str:
    return " ".join(el.get_text(" ").split()) if el is not None else ""


def fail_if(problems: list[str]) -> None:
    assert not problems, f"{len(problems)} problem(s):\n  " + "\n  ".join(problems)


def listed_slugs(soup, cid: str | None = None) -> list[str]:
    """Activity slugs linked from the li.kepu-item entries of a listing page (in order)."""
    slugs = []
    for li in soup.select("li.kepu-item"):
        href = li.select_one("a.kepu-item__link")["href"]
        m = re.search(r"(?:^|/)([a-z0-9-]+)/activities/([a-z0-9-]+)/$", href)
        assert m, f"listing link {href!r} is not an activity URL"
        if cid is not None:
            assert m.group(1) == cid, f"listing of {cid} links to another campaign: {href}"
        slugs.append(m.group(2))
    return slugs


def section_table(soup, heading_id: str) -> dict[str, str]:
    """Rows (th → first td) of the table that follows <h2 id=heading_id>."""
    h2 = soup.find("h2", id=heading_id)
    assert h2 is not None, f"stats page has no <h2 id={heading_id!r}>"
    table = h2.find_next("table")
    rows = {}
    for tr in table.select("tbody tr"):
        th, td = tr.find("th"), tr.find("td")
        rows[text_of(th)] = text_of(td)
    return rows


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


# -- which pages exist ----------------------------------------------------------------------------


def test_every_published_page_exists(site_model: Site, built_site: Path):
    missing = []
    for c in site_model.published():
        wanted = [built_site / c.id / "index.html", built_site / c.id / "stats" / "index.html"]
        wanted += [built_site / c.id / d / "index.html" for d in c.districts]
        wanted += [activity_file(built_site, a) for a in c.activities]
        missing += [str(p.relative_to(built_site)) for p in wanted if not p.is_file()]
    fail_if(missing)
    assert (built_site / "index.html").is_file()


def test_activity_folders_are_exactly_the_model(site_model: Site, built_site: Path):
    for c in site_model.published():
        on_disk = {p.name for p in (built_site / c.id / "activities").iterdir() if p.is_dir()}
        assert on_disk == {a.slug for a in c.activities}, f"{c.id}: extra or missing activity folders"


def test_no_shell_page_left(built_site: Path):
    leftovers = [str(p.relative_to(built_site)) for p in built_site.rglob("*") if "_kepu-shell" in p.name]
    for p in built_site.rglob("*"):
        if p.name in SITEMAPS:
            continue  # test_sitemap_lists_activity_pages_not_the_shell
        if p.is_file() and p.suffix in {".html", ".json", ".xml", ".ics", ".csv"}:
            text = p.read_text(encoding="utf-8-sig", errors="replace")
            if "_kepu-shell" in text or "@@KEPU" in text:
                leftovers.append(f"{p.relative_to(built_site)} mentions the shell page or a placeholder")
    fail_if(leftovers)


def test_sitemap_lists_activity_pages_not_the_shell(site_model: Site, built_site: Path):
    for name in sorted(SITEMAPS):
        raw = (built_site / name).read_bytes()
        xml = (gzip.decompress(raw) if name.endswith(".gz") else raw).decode("utf-8")
        locs = set(re.findall(r"<loc>\s*([^<\s]+)\s*</loc>", xml))
        shells = sorted(x for x in locs if "_kepu-shell" in x)
        missing = [f"{SITE_URL}{a.campaign.id}/activities/{a.slug}/" for a in all_activities(site_model)]
        missing = [u for u in missing if u not in locs]
        problems = [f"{name}: lists the internal shell page {u}" for u in shells]
        if missing:
            problems.append(f"{name}: {len(missing)} activity pages missing, e.g. {missing[0]}")
        fail_if(problems)


def test_search_index_has_every_activity_once(site_model: Site, built_site: Path):
    locations = Counter(d[0] for d in search_docs(built_site))
    problems = []
    for a in all_activities(site_model):
        loc = f"{a.campaign.id}/activities/{a.slug}/"
        if locations[loc] != 1:
            problems.append(f"{loc}: {locations[loc]} search entries")
    problems += [loc for loc in locations if "_kepu-shell" in loc]
    fail_if(problems)


# -- activity pages -------------------------------------------------------------------------------


def test_activity_page_one_h1_with_title(site_model: Site, built_site: Path):
    problems = []
    for a in all_activities(site_model):
        soup = soup_of(activity_file(built_site, a))
        h1s = soup.find_all("h1")
        if len(h1s) != 1:
            problems.append(f"{a.slug}: {len(h1s)} <h1> elements")
        elif a.title not in text_of(h1s[0]):
            problems.append(f"{a.slug}: h1 {text_of(h1s[0])!r} lacks the title {a.title!r}")
    fail_if(problems)


def test_activity_page_title_tag_and_canonical(site_model: Site, built_site: Path):
    problems = []
    for a in all_activities(site_model):
        soup = soup_of(activity_file(built_site, a))
        title = soup.find("title")
        if title is None or a.title not in title.get_text():
            problems.append(f"{a.slug}: <title> {title and title.get_text()!r} lacks {a.title!r}")
        canon = soup.select('link[rel="canonical"]')
        want = f"{SITE_URL}{a.campaign.id}/activities/{a.slug}/"
        if len(canon) != 1 or canon[0]["href"] != want:
            problems.append(f"{a.slug}: canonical {[c.get('href') for c in canon]} != {want}")
        desc = soup.select_one('meta[name="description"]')
        if desc is None or a.campaign.label not in desc.get("content", ""):
            problems.append(f"{a.slug}: meta description lacks the brand label")
    fail_if(problems)


def test_district_page_title_tag_canonical_and_sitemap(site_model: Site, built_site: Path):
    """District pages are filled into a shell page like activity pages: each must carry its own
    title, description and URL, none the shell's, and be listed in the sitemap."""
    sitemap = (built_site / "sitemap.xml").read_text(encoding="utf-8")
    problems = []
    for c in site_model.published():
        for d, name in c.districts.items():
            html = (built_site / c.id / d / "index.html").read_text(encoding="utf-8")
            soup = soup_of(built_site / c.id / d / "index.html")
            if "_kepu-shell" in html or "@@KEPU" in html:
                problems.append(f"{c.id}/{d}: shell marker or URL left in the page")
            title = soup.find("title")
            if title is None or f"{name}活动安排" not in title.get_text():
                problems.append(f"{c.id}/{d}: <title> {title and title.get_text()!r}")
            canon = soup.select('link[rel="canonical"]')
            want = f"{SITE_URL}{c.id}/{d}/"
            if len(canon) != 1 or canon[0]["href"] != want:
                problems.append(f"{c.id}/{d}: canonical {[x.get('href') for x in canon]} != {want}")
            desc = soup.select_one('meta[name="description"]')
            if desc is None or name not in desc.get("content", "") or c.label not in desc["content"]:
                problems.append(f"{c.id}/{d}: meta description {desc and desc.get('content')!r}")
            if f"<loc>{want}</loc>" not in sitemap:
                problems.append(f"{c.id}/{d}: not in the sitemap")
    fail_if(problems)


def brand_problems(soup, c: Campaign, where: str) -> list[str]:
    problems = []
    labels = [text_of(x) for x in soup.select(".kepu-brand .kepu-label")]
    if c.label not in labels:
        problems.append(f"{where}: .kepu-label {labels} lacks {c.label!r}")
    brand = soup.select_one(".kepu-brand")
    for logo in c.all_logos:
        imgs = [i for i in brand.select("img.kepu-logo") if i.get("alt") == logo.name] if brand else []
        texts = [t for t in brand.select(".kepu-logo--text") if text_of(t) == logo.name] if brand else []
        if not imgs and not texts:
            problems.append(f"{where}: no logo (img alt or text badge) for {logo.name!r}")
        for img in imgs:
            if "//" in img.get("src", "") or not img.get("src"):
                problems.append(f"{where}: logo {logo.name} has a non-local src {img.get('src')!r}")
    return problems


def test_activity_page_label_and_logos(site_model: Site, built_site: Path):
    problems = []
    for a in all_activities(site_model):
        problems += brand_problems(soup_of(activity_file(built_site, a)), a.campaign, a.slug)
    fail_if(problems)


def test_every_campaign_page_has_label_and_logos(site_model: Site, built_site: Path):
    """SPEC Branding: logos appear on every page of the campaign."""
    problems = []
    for c in site_model.published():
        pages = [built_site / c.id / "index.html", built_site / c.id / "stats" / "index.html"]
        pages += [built_site / c.id / d / "index.html" for d in c.districts]
        for p in pages:
            problems += brand_problems(soup_of(p), c, str(p.relative_to(built_site)))
    fail_if(problems)


def test_status_banners(site_model: Site, built_site: Path):
    kinds = {"cancelled": "已取消", "postponed": "已延期", "tentative": "暂定"}
    seen = Counter()
    problems = []
    for a in all_activities(site_model):
        soup = soup_of(activity_file(built_site, a))
        expected = {"cancelled": a.status == "cancelled", "postponed": a.status == "postponed",
                    "tentative": a.tentative}
        for kind, word in kinds.items():
            banners = soup.select(f".kepu-banner--{kind}")
            if expected[kind]:
                seen[kind] += 1
                if not banners or word not in text_of(banners[0]):
                    problems.append(f"{a.slug}: {a.status}/tentative={a.tentative} but no {word} banner")
            elif banners:
                problems.append(f"{a.slug}: unexpected {kind} banner")
        if a.status == "cancelled" and "已取消" not in text_of(soup.find("h1")):
            problems.append(f"{a.slug}: cancelled, but the h1 does not say 已取消")
    fail_if(problems)
    # the sample data must exercise all three, or this test proves nothing
    assert all(seen[k] for k in kinds), f"sample data lacks some statuses: {dict(seen)}"


def test_amap_link_iff_coordinates(site_model: Site, built_site: Path):
    problems = []
    for a in all_activities(site_model):
        soup = soup_of(activity_file(built_site, a))
        links = [x for x in soup.select("a[href]") if urlparse(x["href"]).netloc == "uri.amap.com"]
        has_geo = a.venue is not None and a.venue.lat is not None and a.venue.lng is not None
        if has_geo:
            if len(links) != 1:
                problems.append(f"{a.slug}: {len(links)} 高德 links, venue has coordinates")
                continue
            q = parse_qs(urlparse(links[0]["href"]).query)
            lng, lat = (float(x) for x in q["position"][0].split(","))
            if (lng, lat) != (a.venue.lng, a.venue.lat):
                problems.append(f"{a.slug}: 高德 position {lng},{lat} != venue {a.venue.lng},{a.venue.lat}")
        elif links:
            problems.append(f"{a.slug}: 高德 link without coordinates")
    fail_if(problems)


def test_qr_code_is_inline_svg(site_model: Site, built_site: Path):
    problems = []
    for a in all_activities(site_model):
        soup = soup_of(activity_file(built_site, a))
        svg = soup.select_one(".kepu-share svg, .kepu-qr svg")
        if svg is None or not svg.find(["path", "rect"]):
            problems.append(f"{a.slug}: no inline QR svg")
    fail_if(problems)


def test_json_ld_event(site_model: Site, built_site: Path):
    problems = []
    for a in all_activities(site_model):
        soup = soup_of(activity_file(built_site, a))
        scripts = soup.select('script[type="application/ld+json"]')
        if len(scripts) != 1:
            problems.append(f"{a.slug}: {len(scripts)} JSON-LD blocks")
            continue
        try:
            data = json.loads(scripts[0].string)
        except (TypeError, ValueError) as err:
            problems.append(f"{a.slug}: JSON-LD does not parse: {err}")
            continue
        if data.get("@type") != "Event":
            problems.append(f"{a.slug}: @type {data.get('@type')!r}")
        if not str(data.get("eventStatus", "")).endswith("/" + STATUS_JSONLD[a.status]):
            problems.append(f"{a.slug}: eventStatus {data.get('eventStatus')!r} for status {a.status}")
        if data.get("name") != a.title:
            problems.append(f"{a.slug}: JSON-LD name {data.get('name')!r}")
        if data.get("url") != f"{SITE_URL}{a.campaign.id}/activities/{a.slug}/":
            problems.append(f"{a.slug}: JSON-LD url {data.get('url')!r}")
    fail_if(problems)


def test_contacts_private_hidden_public_shown(site_model: Site, built_site: Path):
    problems = []
    n_private = n_public = 0
    for a in all_activities(site_model):
        if a.contact is None:
            continue
        html = activity_file(built_site, a).read_text(encoding="utf-8")
        text = text_of(soup_of(activity_file(built_site, a)))
        values = [v for v in (a.contact.name, a.contact.phone, a.contact.email) if v]
        if a.contact.public:
            n_public += 1
            section = soup_of(activity_file(built_site, a)).select_one(".kepu-contact")
            for v in values:
                if v not in text_of(section):
                    problems.append(f"{a.slug}: public contact {v!r} not shown")
        else:
            n_private += 1
            for v in values:
                if v in html or v in text:
                    problems.append(f"{a.slug}: PRIVATE contact {v!r} appears in the page")
    fail_if(problems)
    assert n_private and n_public, "sample data should have both public and private contacts"


def test_cancelled_and_tentative_marked_in_listings(site_model: Site, built_site: Path):
    problems = []
    for c in site_model.published():
        soup = soup_of(built_site / c.id / "index.html")
        by_slug = {a.slug: a for a in c.activities}
        for li in soup.select("li.kepu-item"):
            slug = li.select_one("a.kepu-item__link")["href"].rstrip("/").rsplit("/", 1)[-1]
            a = by_slug[slug]
            meta = text_of(li)
            if a.status == "cancelled" and "已取消" not in meta:
                problems.append(f"{c.id}/{slug}: cancelled, listing entry does not say so")
            if a.status == "postponed" and "已延期" not in meta:
                problems.append(f"{c.id}/{slug}: postponed, listing entry does not say so")
            if a.tentative and "暂定" not in meta:
                problems.append(f"{c.id}/{slug}: tentative, listing entry does not say so")
    fail_if(problems)


# -- campaign and district pages -------------------------------------------------------------------


def listing_pages(site: Site, out: Path) -> list[tuple[Campaign, Path]]:
    pages = []
    for c in site.published():
        pages.append((c, out / c.id / "index.html"))
        pages += [(c, out / c.id / d / "index.html") for d in c.districts]
    return pages


def test_every_listing_entry_carries_the_label(site_model: Site, built_site: Path):
    problems = []
    for c, page in listing_pages(site_model, built_site):
        for li in soup_of(page).select("li.kepu-item"):
            labels = [text_of(x) for x in li.select(".kepu-item__label")]
            if labels != [c.label]:
                problems.append(f"{page.relative_to(built_site)}: entry {text_of(li)[:30]!r} labels {labels}")
    # the home page lists entries of every campaign (in a <template>), each with its own label
    by_id = {c.id: c for c in site_model.published()}
    for li in soup_of(built_site / "index.html").select("li.kepu-item"):
        cid = li.select_one("a.kepu-item__link")["href"].split("/")[0]
        labels = [text_of(x) for x in li.select(".kepu-item__label")]
        if cid in by_id and labels != [by_id[cid].label]:
            problems.append(f"index.html: entry for {cid} labels {labels}")
    fail_if(problems)


def test_campaign_listing_has_every_activity_once_under_its_first_day(site_model: Site, built_site: Path):
    """Without the visitor's script the listing is by day, each activity once, under the day of
    its first session: a daily exhibition is not repeated under every day of the window."""
    for c in site_model.published():
        soup = soup_of(built_site / c.id / "index.html")
        got = []
        for day in soup.select("section.kepu-day"):
            d = date.fromisoformat(day["data-date"])
            for slug in listed_slugs(day, c.id):
                got.append((d, slug))
        want = {(a.occurrence_days()[0], a.slug) for a in c.activities}
        assert len(got) == len(set(got)) == len(c.activities), f"{c.id}: an activity is listed twice"
        missing, extra = sorted(want - set(got))[:5], sorted(set(got) - want)[:5]
        assert set(got) == want, f"{c.id}: missing {missing}, extra {extra}"
        days = [s["data-date"] for s in soup.select("section.kepu-day")]
        assert days == sorted(days), f"{c.id}: days are not in date order"


def test_filter_form_has_every_option(site_model: Site, built_site: Path):
    for c in site_model.published():
        form = soup_of(built_site / c.id / "index.html").select_one("form.kepu-filters")
        assert form is not None, f"{c.id}: no filter form"

        def values(name, form=form, cid=c.id):
            sel = form.select_one(f'select[name="{name}"]')
            assert sel is not None, f"{cid}: no {name} select"
            return [o["value"] for o in sel.find_all("option") if o["value"]]

        assert values("district") == list(c.districts), c.id
        assert set(values("category")) == set(c.category_list), c.id
        assert set(values("audience")) == set(c.audiences), c.id
        assert set(values("mode")) >= {"online", "offline"}, c.id
        # options read as names, not ids
        dist = {o["value"]: text_of(o) for o in form.select('select[name="district"] option')}
        assert all(dist[k] == v for k, v in c.districts.items()), c.id


def test_listing_data_attributes_match_model(site_model: Site, built_site: Path):
    problems = []
    for c in site_model.published():
        by_slug = {a.slug: a for a in c.activities}
        for li in soup_of(built_site / c.id / "index.html").select("li.kepu-item"):
            slug = li.select_one("a.kepu-item__link")["href"].rstrip("/").rsplit("/", 1)[-1]
            a = by_slug[slug]
            if li.get("data-district") != a.district:
                problems.append(f"{c.id}/{slug}: data-district {li.get('data-district')}")
            if a.category not in li.get("data-category", "").split():
                problems.append(f"{c.id}/{slug}: data-category {li.get('data-category')}")
            parent = c.category_list[a.category].parent
            if parent and parent not in li.get("data-category", "").split():
                problems.append(f"{c.id}/{slug}: data-category lacks parent {parent}")
            if set(li.get("data-audience", "").split()) != set(a.audiences):
                problems.append(f"{c.id}/{slug}: data-audience {li.get('data-audience')}")
            if li.get("data-mode") != a.mode:
                problems.append(f"{c.id}/{slug}: data-mode {li.get('data-mode')}")
    fail_if(problems)


def test_district_pages_list_exactly_their_activities(site_model: Site, built_site: Path):
    problems = []
    for c in site_model.published():
        for d, name in c.districts.items():
            soup = soup_of(built_site / c.id / d / "index.html")
            got = set(listed_slugs(soup, c.id))
            want = {a.slug for a in c.activities if a.district == d}
            if got != want:
                problems.append(f"{c.id}/{d}: lists {sorted(got)}, expected {sorted(want)}")
            if any(li.get("data-district") != d for li in soup.select("li.kepu-item")):
                problems.append(f"{c.id}/{d}: an entry from another district")
            if name not in text_of(soup.find("h1")):
                problems.append(f"{c.id}/{d}: h1 lacks the district name {name}")
            summary = text_of(soup.select_one(".kepu-summary"))
            if f"{len(want)} 项" not in summary:
                problems.append(f"{c.id}/{d}: summary {summary!r} does not say {len(want)} 项")
    fail_if(problems)


def test_campaign_page_district_counts(site_model: Site, built_site: Path):
    for c in site_model.published():
        soup = soup_of(built_site / c.id / "index.html")
        got = {li.a["href"].rstrip("/"): text_of(li.select_one(".kepu-count"))
               for li in soup.select("ul.kepu-districts li")}
        want = {d: f"{len(c.activities_by_district()[d])} 项" for d in c.districts}
        assert got == want, c.id


def facts(soup) -> dict[str, str]:
    dl = soup.select_one("dl.kepu-facts")
    return {text_of(dt): text_of(dt.find_next_sibling("dd")) for dt in dl.find_all("dt")}


def test_theme_pending_and_tentative_subtheme(site_model: Site, built_site: Path):
    chengdu = next(c for c in site_model.published() if c.id == "2023-chengdu-kepuri")
    assert chengdu.theme is None and chengdu.subtheme and chengdu.subtheme.tentative, "sample data changed"
    f = facts(soup_of(built_site / chengdu.id / "index.html"))
    assert "待定" in f.get("主题", ""), f
    assert chengdu.subtheme.text in f.get("副主题", "") and "暂定" in f["副主题"], f
    # and a campaign with a settled theme shows it, without 待定/暂定
    for c in site_model.published():
        if c.theme and c.theme.text and not c.theme.tentative:
            f = facts(soup_of(built_site / c.id / "index.html"))
            assert c.theme.text in f["主题"] and "待定" not in f["主题"] and "暂定" not in f["主题"], c.id


# -- stats ----------------------------------------------------------------------------------------


def test_stats_page_numbers_match_model(site_model: Site, built_site: Path):
    for c in site_model.published():
        soup = soup_of(built_site / c.id / "stats" / "index.html")
        live = [a for a in c.activities if a.status != "cancelled"]
        cancelled = len(c.activities) - len(live)
        summary = text_of(soup.select_one(".kepu-summary"))
        assert f"共 {len(live)} 项活动" in summary, (c.id, summary)
        if cancelled:
            assert f"{cancelled} 项已取消" in summary, (c.id, summary)

        want_d = {name: str(sum(a.district == k for a in live)) for k, name in c.districts.items()}
        assert section_table(soup, "district") == want_d, c.id

        def top(a: Activity, c: Campaign = c) -> str:
            cat = c.category_list[a.category]
            return cat.parent or cat.id

        want_c = {cat.name: str(sum(top(a) == k for a in live))
                  for k, cat in c.category_list.items() if cat.parent is None}
        assert section_table(soup, "category") == want_c, c.id

        want_a = {name: str(sum(k in a.audiences for a in live)) for k, name in c.audiences.items()}
        assert section_table(soup, "audience") == want_a, c.id

        modes = {"线下": "offline", "线上": "online", "线上线下": "hybrid"}
        got_m = section_table(soup, "mode")
        for word, mode in modes.items():
            assert got_m.get(word) == str(sum(a.mode == mode for a in live)), (c.id, word, got_m)

        systems = {"科协系统": "kexie", "其他系统": "other", "未填写": None}
        got_s = section_table(soup, "system")
        for word, key in systems.items():
            n = sum(a.organizer_system == key for a in live)
            assert got_s.get(word, "0") == str(n), (c.id, word, got_s)

        reported = [a.report for a in live if a.report is not None]
        report = section_table(soup, "report") if reported else {}
        if reported:
            def num(s: str) -> int:
                return int(re.sub(r"[^\d]", "", s))

            assert num(report["已填报活动"]) == len(reported), c.id
            assert num(report["线下参与人数"]) == sum(r.participants_offline or 0 for r in reported), c.id
            assert num(report["线上参与人数"]) == sum(r.participants_online or 0 for r in reported), c.id
            assert num(report["志愿者人数"]) == sum(r.volunteers or 0 for r in reported), c.id
            assert num(report["媒体报道"]) == sum(len(r.media) for r in reported), c.id


# -- open data ------------------------------------------------------------------------------------


def test_activities_json(site_model: Site, built_site: Path):
    for c in site_model.published():
        doc = json.loads((built_site / c.id / "activities.json").read_text(encoding="utf-8"))
        records = doc["activities"]
        assert sorted(r["id"] for r in records) == sorted(a.slug for a in c.activities), c.id
        by_id = {r["id"]: r for r in records}
        for a in c.activities:
            r = by_id[a.slug]
            assert r["title"] == a.title and r["label"] == c.label and r["status"] == a.status
            if a.contact and not a.contact.public:
                blob = json.dumps(r, ensure_ascii=False)
                for v in (a.contact.name, a.contact.phone, a.contact.email):
                    assert not v or v not in blob, f"{c.id}/{a.slug}: private contact {v!r} in JSON"


def test_activities_csv(site_model: Site, built_site: Path):
    for c in site_model.published():
        raw = (built_site / c.id / "activities.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), f"{c.id}: CSV lacks the UTF-8 BOM Excel needs"
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
        header, body = rows[0], rows[1:]
        assert "活动名称" in header, header
        assert len(body) == sum(len(a.occurrence_days()) if a.recurrence else 1 for a in c.activities), c.id
        assert all(len(r) == len(header) for r in body), f"{c.id}: ragged CSV"
        titles = {r[header.index("活动名称")] for r in body}
        assert titles == {a.title for a in c.activities}, c.id


# -- nothing from other hosts ---------------------------------------------------------------------


def test_no_external_resources_in_html(built_site: Path):
    problems = []
    for page in sorted(built_site.rglob("*.html")):
        soup = soup_of(page)
        rel = page.relative_to(built_site)
        for tag, attr in (("script", "src"), ("img", "src"), ("link", "href"), ("iframe", "src"),
                          ("source", "src"), ("video", "src"), ("audio", "src"), ("embed", "src"),
                          ("object", "data"), ("image", "href")):
            for el in soup.find_all(tag):
                value = el.get(attr) or ""
                if tag == "link" and "canonical" in (el.get("rel") or []):
                    if not value.startswith(SITE_URL):
                        problems.append(f"{rel}: canonical {value!r} is not on {SITE_URL}")
                    continue
                if "//" in value or value.startswith(("http:", "https:", "data:text/html")):
                    problems.append(f"{rel}: <{tag} {attr}={value!r}>")
        for el in soup.find_all(style=True):
            if re.search(r"url\(\s*['\"]?(?:https?:)?//", el["style"]):
                problems.append(f"{rel}: inline style loads from another host: {el['style']!r}")
    fail_if(problems)


def test_no_google_fonts_or_cdn_anywhere(built_site: Path):
    """Google Fonts nowhere (not even in the theme's bundle); no CDN in our pages, CSS and JS.
    (mkdocs-material's bundle names unpkg.com for mermaid, loaded only for mermaid diagrams;
    test_browser checks that no page actually requests another host.)"""
    problems = []
    for p in built_site.rglob("*"):
        if p.is_file() and p.suffix in {".html", ".css", ".js", ".json", ".xml"}:
            text = p.read_text(encoding="utf-8", errors="replace")
            ours = not p.relative_to(built_site).as_posix().startswith("assets/javascripts/")
            for bad in ("fonts.googleapis", "fonts.gstatic", "cdn.jsdelivr", "unpkg.com", "cdnjs"):
                if bad in text and (ours or bad.startswith("fonts.")):
                    problems.append(f"{p.relative_to(built_site)}: {bad}")
    for css in built_site.rglob("*.css"):
        for m in re.finditer(r"@import\s+(?:url\()?['\"]?([^'\")]+)", css.read_text(encoding="utf-8")):
            if "//" in m.group(1):
                problems.append(f"{css.relative_to(built_site)}: @import {m.group(1)}")
    fail_if(problems)


# -- reproducible builds --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def second_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same repository built again, as if on another day (SOURCE_DATE_EPOCH two days on)."""
    out = tmp_path_factory.mktemp("again") / "site"
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(time.time()) + 2 * 86400)
    try:
        assert build_site(ROOT, out, quiet=True)
    finally:
        if old is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old
    return out


SITEMAPS = {"sitemap.xml", "sitemap.xml.gz"}


def test_building_twice_gives_identical_pages_feeds_and_data(built_site: Path, second_build: Path):
    a, b = tree_hashes(built_site), tree_hashes(second_build)
    assert sorted(a) == sorted(b), f"file sets differ: {sorted(set(a) ^ set(b))[:10]}"
    differ = [k for k in a if a[k] != b[k] and k not in SITEMAPS]
    fail_if([f"{k} differs between two builds" for k in differ])


def test_sitemap_is_dated_by_git_not_by_the_build(built_site: Path):
    """Pages are dated by the last commit (SOURCE_DATE_EPOCH from git) and activity pages by
    their own last change, so a rebuild on another day gives the same sitemap bytes."""
    import subprocess
    from datetime import UTC, datetime

    stamp = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%ct"],
                           capture_output=True, text=True, check=True).stdout.strip()
    last_commit = datetime.fromtimestamp(int(stamp), UTC).date().isoformat()
    xml = (built_site / "sitemap.xml").read_text(encoding="utf-8")
    dates = re.findall(r"<lastmod>([^<]+)</lastmod>", xml)
    assert dates, "sitemap has no <lastmod>"
    assert max(dates) <= last_commit, f"sitemap dated after the last commit ({last_commit}): {max(dates)}"
    gz = (built_site / "sitemap.xml.gz").read_bytes()
    assert gz[4:8] == b"\0\0\0\0", "sitemap.xml.gz carries a build timestamp in its header"
    assert gzip.decompress(gz) == xml.encode()


# -- builds that must fail or must leave things out ------------------------------------------------


def test_duplicate_activity_url_fails_and_keeps_the_old_site(tmp_path: Path, capsys, caplog):
    cid = "2022-xinxiang-kejizhou"
    repo = copy_repo(tmp_path / "repo", [cid])
    acts = repo / "campaigns" / cid / "activities"
    victim = acts / "hongqi" / "kexue-zhiye-qinzi-kexue-jianianhua.yml"
    set_top_level(victim, "id", "keji-huodongzhou-qidongshi")  # the id of gaoxin/keji-huodongzhou-qidongshi
    out = tmp_path / "out" / "site"
    out.mkdir(parents=True)
    (out / "index.html").write_text("the good old site", encoding="utf-8")
    (out / ".kepu-site").write_text("kepu-calendar\n", encoding="utf-8")  # a site of ours

    ok = build_site(repo, out, quiet=True)

    said = capsys.readouterr().err + caplog.text
    assert ok is False, "a build with two activities on one URL must fail"
    assert "keji-huodongzhou-qidongshi" in said and "重复" in said, f"no clear message:\n{said}"
    assert "kexue-zhiye-qinzi-kexue-jianianhua.yml" in said, "the message should name the file to fix"
    assert (out / "index.html").read_text(encoding="utf-8") == "the good old site"
    assert sorted(p.name for p in out.iterdir()) == [".kepu-site", "index.html"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["site"], "half-built folders left behind"


def test_same_file_name_in_two_districts_fails(tmp_path: Path, capsys, caplog):
    """Activity URLs do not contain the district, so wujin/x.yml and xinbei/x.yml collide."""
    cid = "2022-xinxiang-kejizhou"
    repo = copy_repo(tmp_path / "repo", [cid])
    acts = repo / "campaigns" / cid / "activities"
    src = acts / "muye" / "xiaoxiao-kexuejia-keji-chuangxin-caozuoshi.yml"
    (acts / "hongqi" / src.name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "site"
    assert build_site(repo, out, quiet=True) is False
    said = capsys.readouterr().err + caplog.text
    assert "xiaoxiao-kexuejia-keji-chuangxin-caozuoshi" in said and "重复" in said, said
    assert not out.exists()


@pytest.fixture(scope="module")
def draft_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    draft, live = "2022-changzhou-kepuri", "2022-xinxiang-kejizhou"
    repo = copy_repo(tmp_path_factory.mktemp("draftrepo") / "repo", [draft, live])
    set_top_level(repo / "campaigns" / draft / "campaign.yml", "status", "draft")
    out = tmp_path_factory.mktemp("draftsite") / "site"
    assert build_site(repo, out, quiet=True)
    return out, draft, live


def test_draft_campaign_is_not_published(draft_build: tuple[Path, str, str]):
    out, draft, live = draft_build
    assert (out / live / "index.html").is_file(), "the published campaign is missing"
    assert not (out / draft).exists(), f"draft campaign {draft} was published"
    # hand-written pages (content/*.md) may use the sample campaign's id as an example URL
    handwritten = {p.stem for p in (ROOT / "content").glob("*.md")} - {"index"}
    leaks = []
    for p in out.rglob("*"):
        rel = p.relative_to(out)
        if not p.is_file() or rel.parts[0] in handwritten or rel.parts[0] == "search":
            continue
        text = p.read_text(encoding="utf-8-sig", errors="replace") if p.suffix in TEXT_SUFFIXES else ""
        if draft in text:
            leaks.append(str(rel))
    if draft.encode() in gzip.decompress((out / "sitemap.xml.gz").read_bytes()):
        leaks.append("sitemap.xml.gz")
    for doc in search_docs(out):
        if doc[0].startswith(f"{draft}/"):
            leaks.append(f"search entry {doc[0]}")
    fail_if([f"{x} mentions the draft campaign" for x in leaks])
    home = soup_of(out / "index.html")
    titles = [text_of(a) for a in home.select(".kepu-campaign-card a")]
    assert titles and all("常州" not in t for t in titles), titles


def test_changing_brands_yml_changes_the_site_without_code(tmp_path: Path):
    """The label, logos and colours come from brands.yml only: edit it, rebuild, see it."""
    cid = "2023-jiujiang-kepuri"
    repo = copy_repo(tmp_path / "repo", [cid])
    brands = repo / "campaigns" / "brands.yml"
    text = brands.read_text(encoding="utf-8")
    text = text.replace('label: "{year}年全国科普日活动"', 'label: "{year}年全国科普日·鸠江试点活动"', 1)
    text = text.replace("{id: kepu-zhongguo, name: 科普中国}", "{id: kepu-zhongguo, name: 科普中国新标识}", 1)
    brands.write_text(text, encoding="utf-8")
    (repo / "site_theme" / "assets" / "logos").mkdir(parents=True, exist_ok=True)
    (repo / "site_theme" / "assets" / "logos" / "quanguo-kepuri.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40"/></svg>',
        encoding="utf-8",
    )
    out = tmp_path / "site"
    assert build_site(repo, out, quiet=True)
    page = next((out / cid / "activities").glob("*/index.html"))
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    assert soup.select_one(".kepu-label").get_text(strip=True) == "2023年全国科普日·鸠江试点活动"
    logo = soup.select_one('img.kepu-logo[alt="全国科普日"]')
    assert logo["src"].endswith("assets/logos/quanguo-kepuri.svg")
    assert (out / "assets" / "logos" / "quanguo-kepuri.svg").is_file(), "the logo image is not published"
    badges = [b.get_text(strip=True) for b in soup.select(".kepu-logo--text")]
    assert "科普中国新标识" in badges
    feed = (out / cid / "calendar.ics").read_bytes().decode("utf-8").replace("\r\n ", "")
    assert "2023年全国科普日·鸠江试点活动" in feed
