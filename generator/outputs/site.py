"""The site's URL layout (SPEC "Published site"): every path a build writes, in one place.

Paths are relative to the site root, with a trailing "/" for a page (its index.html). The names
that campaign and district ids must not take are derived from this layout and from the
hand-written pages and theme files, so a new output cannot silently replace an activity folder."""

from __future__ import annotations

from pathlib import Path

from ..model import Activity, Campaign
from ..problems import Pos, Problems

SHELL_DIR = "_kepu-shell"  # where the MkDocs adapter renders the page shells (removed after)


def campaign_page(c: Campaign) -> str:
    return f"{c.id}/"


def district_page(c: Campaign, district: str) -> str:
    return f"{c.id}/{district}/"


def activity_page(a: Activity) -> str:
    return f"{a.campaign.id}/activities/{a.slug}/"


def stats_page(c: Campaign) -> str:
    return f"{c.id}/stats/"


def campaign_feed(c: Campaign) -> str:
    return f"{c.id}/calendar.ics"


def district_feed(c: Campaign, district: str) -> str:
    return f"{c.id}/{district}/calendar.ics"


def activity_feed(a: Activity) -> str:
    return f"{a.campaign.id}/activities/{a.slug}.ics"


def category_feed(c: Campaign, category: str) -> str:
    return f"{c.id}/categories/{category}.ics"


def changes_feed(c: Campaign) -> str:
    return f"{c.id}/changes.xml"


def open_data(c: Campaign) -> tuple[str, str]:
    return f"{c.id}/activities.json", f"{c.id}/activities.csv"


# Names the build writes at the root besides campaigns (the theme's own folders included).
ROOT_OUTPUTS = ("index.html", "404.html", "calendar.ics", "sitemap.xml", "sitemap.xml.gz", "robots.txt",
                "activities.schema.json", "search", "assets", "stylesheets", "javascripts", SHELL_DIR)


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
    names = {n.split(".")[0] if n.endswith((".html",)) else n for n in ROOT_OUTPUTS}
    names |= set(ROOT_OUTPUTS)
    content = root / "content"
    if content.is_dir():
        for p in content.iterdir():
            names.add(p.stem if p.suffix == ".md" else p.name)
    theme = root / "site_theme"
    if theme.is_dir():
        names |= {p.name for p in theme.iterdir()} | {p.stem for p in theme.iterdir() if p.suffix == ".html"}
    return names


def check_paths(campaigns: list[Campaign], root: Path, problems: Problems) -> None:
    """Refuse campaign and district ids that would land on a path the site itself uses."""
    top = root_names(root)
    under = campaign_children()
    for c in campaigns:
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
