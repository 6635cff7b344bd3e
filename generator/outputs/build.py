"""Step 5, build plan: which pages, feeds and data files a validated site produces, and where.

The one place that knows the published URL layout (SPEC "Published site"): which pages there
are, with which title, description and body, and the feeds, data and search files. How pages
reach the site (MkDocs pages, or bodies filled into MkDocs-rendered shells) is the adapter's
business (generator/mkdocs/shell.py). No MkDocs import.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import Any

from ..history import History, read_history
from ..model import Activity, Campaign, Site
from .data import open_data
from .feeds import changes_feed, iter_feeds
from .options import DEFAULT_OPTIONS, BuildOptions
from .pages import Renderer
from .search import build_index


@dataclass(frozen=True)
class FilledPage:
    """An activity or district page: its own parts, to be put into the shell page of its folder."""

    folder: str  # the shell it goes into: "<campaign>/activities" or "<campaign>"
    name: str  # its own folder under that one: the activity slug or the district id
    title: str  # plain text
    description: str  # plain text
    body: str  # HTML

    @property
    def path(self) -> str:
        """Where it is written, under the site root."""
        return f"{self.folder}/{self.name}/index.html"


class SiteBuild:
    def __init__(self, site: Site, base_url: str, root: Path, options: BuildOptions = DEFAULT_OPTIONS):
        self.site = site
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.root = root
        self.options = options
        self.renderer = Renderer(site, self.base_url, root, options)
        self.timings: dict[str, float] = {}
        self._bodies: dict[str, Callable[[], str]] = {}
        for c in site.published():
            self._bodies[f"{c.id}/index.md"] = lambda c=c: self.renderer.campaign_page(c)
            self._bodies[f"{c.id}/stats/index.md"] = lambda c=c: self.renderer.stats_page(c)

    def page_sources(self) -> dict[str, str]:
        """Generated MkDocs pages: source URI → title (plain text; the adapter escapes it).
        District and activity pages are filled into shell pages instead (see filled_pages)."""
        out: dict[str, str] = {}
        for c in self.site.published():
            out[f"{c.id}/index.md"] = c.title
            out[f"{c.id}/stats/index.md"] = "活动统计"
        return out

    def nav_pages(self) -> set[str]:
        return {uri for c in self.site.published() for uri in (f"{c.id}/index.md", f"{c.id}/stats/index.md")}

    def page_body(self, uri: str) -> str | None:
        make = self._bodies.get(uri)
        return make() if make else None

    def nav(self, nav: list[Any] | None) -> list[Any]:
        """The configured nav with one entry per published campaign after the home page.
        District and activity pages stay out of it: a nav listing them on every page would make
        the build grow with the square of the number of pages."""
        entries = [{c.title: [{"活动日程": f"{c.id}/index.md"}, {"活动统计": f"{c.id}/stats/index.md"}]}
                   for c in sorted(self.site.published(), key=lambda c: c.span.start, reverse=True)]
        nav = list(nav or [{"首页": "index.md"}])
        return nav[:1] + entries + nav[1:]

    @cached_property
    def history(self) -> History:
        return read_history(self.root)

    def extra_files(self, write: Callable[[str, bytes], None] | None = None) -> Iterator[tuple[str, bytes]]:
        """Feeds, open data and the search index as (path under the site root, bytes), one at a
        time so that a national site never holds all of them in memory. ``write`` (path, bytes),
        if given, is used in the workers for the one-event feed of every activity."""
        with self.timed("history"):
            self.history  # noqa: B018 (read git history once, timed on its own)
        feeds = iter_feeds(self.site, self.base_url, self.history, write, self.options)
        yield from self._timed_items("feeds", feeds)
        changes = _lazy(lambda: changes_feed(self.site, self.base_url, self.history, self.options))
        yield from self._timed_items("feeds", changes)
        for c in self.site.published():
            yield from self._timed_items("data", _lazy(lambda c=c: open_data(c, self.base_url)))
        index = _lazy(lambda: build_index(self.site, parallel=self.options.parallel))
        yield from self._timed_items("search", index)

    def _timed_items(self, phase: str, items: Iterator[tuple[str, bytes]]) -> Iterator[tuple[str, bytes]]:
        """Time only the making of each item, not the writing the consumer does in between (the
        one-event feeds, written where they are made, count as making)."""
        while True:
            with self.timed(phase):
                item = next(items, None)
            if item is None:
                return
            yield item

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        """Phase timings, logged by the plugin: the benchmark reads them."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[phase] = self.timings.get(phase, 0.0) + time.perf_counter() - start

    @cached_property
    def all_activities(self) -> list[Activity]:
        return [a for c in self.site.published() for a in c.activities]

    def shell_folders(self) -> list[str]:
        """The folders whose pages are filled into a shell (FilledPage.folder): per campaign,
        one for its activity pages and one for its district pages."""
        return [key for c in self.site.published() for key in (f"{c.id}/activities", c.id)]

    def activity_page(self, a: Activity) -> FilledPage:
        return FilledPage(f"{a.campaign.id}/activities", a.slug, a.title, self.renderer.description(a),
                          self.renderer.activity_page(a))

    def district_page(self, c: Campaign, d: str) -> FilledPage:
        name = c.districts[d]
        count = len(self.renderer.grouped(c)[d])
        return FilledPage(c.id, d, f"{name}活动安排", f"{c.label}：{c.title}，{name}共 {count} 项活动",
                          self.renderer.district_page(c, d))

    def filled_pages(self) -> list[Callable[[], FilledPage]]:
        """Every activity and district page, each made when called (pages are independent, so
        the caller may make them on every core and the output is the same bytes either way)."""
        pages: list[Callable[[], FilledPage]] = [
            (lambda a=a: self.activity_page(a)) for a in self.all_activities
        ]
        districts: list[Callable[[], FilledPage]] = []
        for c in self.site.published():
            self.renderer.grouped(c)  # grouped once, before any worker forks
            districts += [(lambda c=c, d=d: self.district_page(c, d)) for d in c.districts]
        # district pages (long listings) spread among the activity pages, so that no worker's
        # share of the work is all of them
        every = max(1, len(pages) // max(1, len(districts)))
        rest = iter(districts)
        jobs: list[Callable[[], FilledPage]] = []
        for i, page in enumerate(pages, 1):
            jobs.append(page)
            if i % every == 0:
                jobs.extend(islice(rest, 1))
        jobs.extend(rest)
        return jobs

    def page_dates(self, build_day: str) -> list[tuple[str, str]]:
        """(URL path, last change as YYYY-MM-DD) of every activity page (its file's last commit)
        and district page (its latest activity; ``build_day`` for one without activities)."""
        latest: dict[tuple[str, str], str] = {}  # a district page changes with its activities
        urls: list[tuple[str, str]] = []
        for a in self.all_activities:
            day = self.history.revision(a.pos.path)[1].date().isoformat()
            urls.append((f"{a.campaign.id}/activities/{a.slug}/", day))
            key = (a.campaign.id, a.district)
            latest[key] = max(latest.get(key, day), day)
        for c in self.site.published():
            urls += [(f"{c.id}/{d}/", latest.get((c.id, d), build_day)) for d in c.districts]
        return urls


def _lazy(make: Callable[[], dict[str, bytes]]) -> Iterator[tuple[str, bytes]]:
    """Items of a dict made on first use, so that making it is timed with its items."""
    yield from make().items()
