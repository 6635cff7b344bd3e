"""The limits a deployment may tune, passed down explicitly to every output (no module constants,
no environment). The MkDocs plugin fills them from its options in mkdocs.yml; the defaults are
what the site uses when nothing is set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class BuildOptions:
    home_limit: int = 300  # activities behind "today / this week" on the home page
    listing_limit: int = 600  # activities above which a campaign page lists
    # only its city-level activities and links to the district pages
    refresh: timedelta = timedelta(hours=6)  # how often calendar apps should fetch a feed again
    max_changes: int = 100  # entries in a campaign's changes.xml
    site_feed_name: str = "科普活动日历 · 全部活动"  # the name of the whole-site calendar.ics
    parallel: bool = True  # per-activity work on every core (off in `kepu serve`, see parallel.py)


DEFAULT_OPTIONS = BuildOptions()
