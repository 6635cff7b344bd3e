"""What a deployment customises without touching generator/: a template of its own in
site_theme/kepu/<template>.html, and the kepu plugin's options in mkdocs.yml. Both checked on a
built copy of the repository."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from site_fixtures import ROOT, copy_repo, soup_of  # noqa: E402

from generator.commands.cli import build_site
from generator.model import Site
from generator.outputs.options import BuildOptions
from generator.validate import read_site

pytest_plugins = ["site_fixtures"]
CID = "2022-xinxiang-kejizhou"
# extends nothing: the whole body of every activity page comes from here
OVERRIDE = '<p class="kepu-override">自定义模板：{{ a.title }}（{{ a.campaign.label }}）</p>\n'
OPTIONS = """  - kepu:
      site_feed_name: 测试日历
      refresh_hours: 12
      max_changes: 2
      listing_limit: 1
"""


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Site]:
    repo = copy_repo(tmp_path_factory.mktemp("custom") / "repo", [CID])
    (repo / "site_theme" / "kepu").mkdir(parents=True, exist_ok=True)
    (repo / "site_theme" / "kepu" / "activity.html").write_text(OVERRIDE, encoding="utf-8")
    cfg = repo / "mkdocs.yml"
    text = cfg.read_text(encoding="utf-8")
    assert re.search(r"^  - kepu\n", text, re.M), "mkdocs.yml lists the plugin as '  - kepu'"
    cfg.write_text(re.sub(r"^  - kepu\n", OPTIONS, text, count=1, flags=re.M), encoding="utf-8")
    out = repo / "site"
    assert build_site(repo, out, quiet=True), "the customised build failed (see stderr)"
    site, problems = read_site(ROOT)
    assert not problems.errors
    return out, site


def test_activity_template_override_is_used(custom: tuple[Path, Site]) -> None:
    out, site = custom
    c = next(c for c in site.campaigns if c.id == CID)
    for a in c.activities:
        page = out / CID / "activities" / a.slug / "index.html"
        marker = soup_of(page).select(".kepu-override")
        assert len(marker) == 1, a.slug
        assert marker[0].get_text() == f"自定义模板：{a.title}（{c.label}）"
        assert "kepu-activity" not in page.read_text(encoding="utf-8"), "the built-in template was used"
        # still the shell page around it: the theme, and the page's own <title>
        assert f"<title>{html.escape(a.title, quote=False)}" in page.read_text(encoding="utf-8")
    # the other templates are the built-in ones
    assert soup_of(out / CID / "index.html").select(".kepu-campaign")


def test_plugin_options_reach_the_outputs(custom: tuple[Path, Site]) -> None:
    out, site = custom
    c = next(c for c in site.campaigns if c.id == CID)
    whole = (out / "calendar.ics").read_bytes().decode("utf-8")
    assert "\r\nNAME:测试日历\r\n" in whole and "\r\nX-WR-CALNAME:测试日历\r\n" in whole
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT12H\r\n" in whole and "X-PUBLISHED-TTL:PT12H\r\n" in whole
    atom = ET.parse(out / CID / "changes.xml").getroot()
    assert len(atom.findall("{http://www.w3.org/2005/Atom}entry")) == 2 < len(c.activities)
    # a listing of more than one entry: the campaign page lists only the city-level activities
    links = soup_of(out / CID / "index.html").select(".kepu-campaign a[href]")
    linked = {a["href"].split("/")[-2] for a in links if "activities/" in a["href"]}
    city = {a.slug for a in c.activities if a.level == "city"}
    assert city and linked == city != {a.slug for a in c.activities}


def test_a_bad_plugin_option_is_a_clear_message() -> None:
    from mkdocs.exceptions import PluginError

    from generator.mkdocs.plugin import KepuConfig, build_options

    cfg = KepuConfig()
    cfg.load_dict({"listing_limit": 0})
    assert not cfg.validate()[0]
    with pytest.raises(PluginError, match="listing_limit 必须是正整数"):
        build_options(cfg, parallel=True)
    cfg = KepuConfig()
    cfg.load_dict({})
    cfg.validate()
    assert build_options(cfg, parallel=False) == BuildOptions(parallel=False)  # defaults: today's values
