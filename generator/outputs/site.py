"""The site's URL layout (SPEC "Published site"): every path a build writes, in one place.

Paths are relative to the site root, with a trailing "/" for a page (its index.html). The names
that campaign and district ids must not take are derived from this layout and from the
hand-written pages and theme files, so a new output cannot silently replace an activity folder."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

from ..model import Activity, Campaign
from ..problems import Pos, Problems

# The site_url this repository ships with: a real deployment must replace it, or every webcal and
# calendar link, QR code and printed footer points at a host that is not theirs (plugin.py, init.py).
EXAMPLE_SITE_URL = "https://kepu.example.cn/"

SHELL_DIR = "_kepu-shell"  # where the MkDocs adapter renders the page shells (removed after)
# the lists of files a rebuild kept from the previous site and of the keys files were made from,
# one per process (removed after; a leading dot, which no campaign id has)
KEPT = ".kepu-kept-"
MADE = ".kepu-made-"


def base(site_url: str) -> str:
    """The site's absolute URL, ending in "/" (the one place it is normalised)."""
    return site_url if site_url.endswith("/") else site_url + "/"


def source(page: str) -> str:
    """The MkDocs source file of a generated page: "c/stats/" → "c/stats/index.md"."""
    return page + "index.md"


def campaign_folder(c: Campaign) -> str:
    return c.id


def activities_folder(c: Campaign) -> str:
    return f"{c.id}/activities"


def home_page() -> str:
    return ""


def campaign_page(c: Campaign) -> str:
    return f"{c.id}/"


def district_page(c: Campaign, district: str) -> str:
    return f"{campaign_folder(c)}/{district}/"


def activity_page(a: Activity) -> str:
    return f"{activities_folder(a.campaign)}/{a.slug}/"


def stats_page(c: Campaign) -> str:
    return f"{c.id}/stats/"


def campaign_feed(c: Campaign) -> str:
    return f"{c.id}/calendar.ics"


def district_feed(c: Campaign, district: str) -> str:
    return f"{c.id}/{district}/calendar.ics"


def activity_feed(a: Activity) -> str:
    return f"{activities_folder(a.campaign)}/{a.slug}.ics"


def category_feed(c: Campaign, category: str) -> str:
    return f"{c.id}/categories/{category}.ics"


def changes_feed(c: Campaign) -> str:
    return f"{c.id}/changes.xml"


def open_data(c: Campaign) -> tuple[str, str]:
    return f"{c.id}/activities.json", f"{c.id}/activities.csv"


DATA_SCHEMA = "activities.schema.json"  # JSON Schema of every campaign's activities.json
SITEMAP = "sitemap.xml"
ROBOTS = "robots.txt"

# Names the build writes at the root besides campaigns (the theme's own folders included).
ROOT_OUTPUTS = ("index.html", "404.html", "calendar.ics", SITEMAP, "sitemap.xml.gz", ROBOTS,
                DATA_SCHEMA, "search", "assets", "stylesheets", "javascripts", SHELL_DIR)


def campaign_children() -> set[str]:
    """First path segments under /<campaign>/ that the layout uses (district ids may not)."""
    probe = Campaign.__new__(Campaign)
    probe.id = "c"
    probe_activity = Activity.__new__(Activity)
    probe_activity.campaign, probe_activity.slug = probe, "a"
    paths = [stats_page(probe), campaign_feed(probe), activity_page(probe_activity),
             activity_feed(probe_activity), category_feed(probe, "x"), changes_feed(probe),
             *open_data(probe), f"c/{SHELL_DIR}/", "c/index.html"]
    return {p.split("/")[1] for p in paths}


def root_names(root: Path) -> set[str]:
    """First path segments at the site root that campaign ids may not take: the build's own
    outputs, the hand-written pages of content/ and the files of the theme folder."""
    names = set(ROOT_OUTPUTS) | {n.removesuffix(".html") for n in ROOT_OUTPUTS}
    content = root / "content"
    if content.is_dir():
        for p in content.iterdir():
            names.add(p.stem if p.suffix == ".md" else p.name)
    theme = root / "site_theme"
    if theme.is_dir():
        names |= {p.name for p in theme.iterdir()} | {p.stem for p in theme.iterdir() if p.suffix == ".html"}
    return names


def campaign_outputs(c: Campaign) -> Iterator[tuple[str, str]]:
    """(path, what) of every file and page a campaign publishes but its activities', for the
    collision check (activity_outputs has those)."""
    yield campaign_page(c), "专题页面"
    yield stats_page(c), "统计页面"
    yield campaign_feed(c), "专题日历"
    yield changes_feed(c), "变动订阅"
    for p in open_data(c):
        yield p, "开放数据"
    for d, name in c.districts.items():
        yield district_page(c, d), f"{name}页面"
        yield district_feed(c, d), f"{name}日历"
    for cat in c.category_list:
        yield category_feed(c, cat), f"类别 {cat} 的日历"


def activity_outputs(c: Campaign) -> Iterator[tuple[str, str]]:
    """(path, what) of every activity's page and feed: all inside activities_folder(c)/. Read
    through a stand-in activity, as the collision check may be given Lean records of them."""
    probe = Activity.__new__(Activity)
    probe.campaign = c
    for a in c.activities:
        probe.slug = a.slug
        yield activity_page(probe), f"活动 {a.pos.path}"
        yield activity_feed(probe), f"活动 {a.pos.path} 的日历"


def check_paths(campaigns: list[Campaign], root: Path, problems: Problems) -> None:
    """Refuse campaign and district ids that would land on a path the site itself uses, and
    any two outputs on one path (one would silently replace the other)."""
    top = root_names(root)
    under = campaign_children()
    for c in campaigns:
        reserved_before = len(problems.errors)
        if c.id in top:
            problems.error(
                Pos(c.pos.path, 1, 1),
                f"活动专题编号不能用 {c.id}：网站根目录已经用了这个名字（{c.id}/），请给文件夹换个名字",
            )
        for key in c.districts:
            if key in under:
                problems.error(
                    c.field_pos.get(f"districts.{key}", c.field_pos.get("districts", c.pos)),
                    f"辖区编号不能用 {key}：网站在活动专题下已经用了这个名字（{c.id}/{key}/）", "districts",
                )
        if reserved_before == len(problems.errors):  # a reserved id collides already: said once
            seen: dict[str, str] = {}
            outputs = campaign_outputs(c)
            # Activities write only inside their folder: unless something else does, none of
            # theirs can meet another output (and at 200,000 activities listing theirs takes a second)
            if any(path.startswith(f"{activities_folder(c)}/") for path, _ in campaign_outputs(c)):
                outputs = itertools.chain(outputs, activity_outputs(c))
            for path, what in outputs:
                other = seen.setdefault(path, what)
                # two activity files with one id are reported by validate.check_ids, with both files
                if other != what and not (other.startswith("活动") and what.startswith("活动")):
                    problems.error(Pos(c.pos.path, 1, 1), f"{what}和{other}会写到同一个网址 {path}：请改编号")
