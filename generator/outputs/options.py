"""What the outputs are given: the limits a deployment may tune, passed down explicitly (no module
constants, no environment; the MkDocs plugin fills them from its options in mkdocs.yml, the
defaults are what the site uses when nothing is set), and the writer files go to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol


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


class Writer(Protocol):
    """Where the site's files go (the adapter's SiteWriter). ``key``: what the bytes were made
    from (a cache key), so that a later build can tell the file it would make is already there
    without making it: ``reuse`` says so, and the file is then kept as it is."""

    def write(self, rel: str, data: bytes, key: str | None = None) -> None: ...

    def reuse(self, rel: str, key: str | None) -> bool: ...

    def reuse_many(self, files: list[tuple[str, str | None]]) -> list[bool]: ...
