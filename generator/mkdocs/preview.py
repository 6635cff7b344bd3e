"""Fast preview of one edited activity (used by `kepu serve`). No MkDocs import.

A full rebuild of a 3,000-activity campaign takes many seconds; staff checking an edit want to
see its page at once. An edited activity file is read and checked on its own against the already
loaded campaign, and only its page is written again; a full rebuild still follows so listings
and feeds catch up. Anything else (new, renamed or deleted files, campaign.yml) needs the full
rebuild, which the caller asks for.
"""

from __future__ import annotations

from pathlib import Path

from ..outputs import site as url
from ..outputs.build import SiteBuild
from ..problems import Problems
from ..validate import read_activity
from .shell import Shells, SiteWriter


def refresh_activity(build: SiteBuild, shells: Shells, path: Path, site_dir: Path) -> Problems | None:
    """Re-read one changed activity file and rewrite its page. Returns the problems found, or
    None when the change is not a simple edit of a published activity (rebuild instead)."""
    path = path.resolve()
    parts = path.parts
    if path.suffix not in (".yml", ".yaml") or len(parts) < 5 or parts[-3] != "activities":
        return None
    campaign_dir = path.parents[2]
    campaigns = build.site.published()
    c = next((c for c in campaigns if (build.root / "campaigns" / c.id).resolve() == campaign_dir), None)
    if c is None or not shells.has(url.activities_folder(c)):
        return None
    old = next((a for a in c.activities if Path(a.pos.path).resolve() == path), None)
    if old is None:
        return None
    problems = Problems()
    new = read_activity(path, campaign_dir / "activities", c, build.site.brands, problems)
    if problems.errors or new is None:
        return problems
    if new.slug != old.slug:
        return None  # the URL changed: other pages link to it
    c.activities[c.activities.index(old)] = new
    build.all_activities[build.all_activities.index(old)] = new
    page = build.activity_page(new)
    SiteWriter(site_dir).write(page.path, shells.text(page).encode())
    return problems
