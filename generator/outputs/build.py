"""Step 5, build plan: which pages, feeds and data files a validated site produces, and where.

The one place that knows the published URL layout (SPEC "Published site"); the MkDocs plugin and
the CLI only move what it produces. No MkDocs import.
"""

from __future__ import annotations

import gzip
import html
import io
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import Any

from ..history import read_history
from ..model import Activity, Campaign, Site
from ..parallel import fork_map
from .data import open_data
from .feeds import changes_feed, iter_feeds
from .pages import Renderer
from .search import build_index


class SiteBuild:
    def __init__(self, site: Site, base_url: str, root: Path):
        self.site = site
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.root = root
        self.renderer = Renderer(site, self.base_url, root)
        for c in site.campaigns:  # positions only serve error messages: free them (≈7 KB each)
            for a in c.activities:
                a.field_pos = {}
        self.shells: dict[str, str] = {}
        self._shell_parts: dict[str, list[str]] = {}
        self.timings: dict[str, float] = {}
        self._bodies: dict[str, Callable[[], str]] = {}
        for c in site.published():
            self._bodies[f"{c.id}/index.md"] = lambda c=c: self.renderer.campaign_page(c)
            self._bodies[f"{c.id}/stats/index.md"] = lambda c=c: self.renderer.stats_page(c)

    def page_sources(self) -> dict[str, str]:
        """Generated MkDocs pages: source URI → title (plain text; the adapter escapes it).
        District and activity pages are filled into shell pages instead (see plugin.py)."""
        out: dict[str, str] = {}
        for c in self.site.published():
            out[f"{c.id}/index.md"] = c.title
            out[f"{c.id}/stats/index.md"] = "活动统计"
        return out

    def shell_dirs(self, shell: str) -> dict[str, str]:
        """Where the shell pages go (shell key → folder): one per campaign for its activity
        pages and one for its district pages, each at the depth of the pages filled from it."""
        out: dict[str, str] = {}
        for c in self.site.published():
            out[f"{c.id}/activities"] = f"{c.id}/activities/{shell}"
            out[c.id] = f"{c.id}/{shell}"
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
    def history(self) -> Any:
        return read_history(self.root)

    def extra_files(self, write: Callable[[str, bytes], None] | None = None) -> Iterator[tuple[str, bytes]]:
        """Feeds, open data and the search index as (path under the site root, bytes), one at a
        time so that a national site never holds all of them in memory. ``write`` (path, bytes),
        if given, is used in the workers for the one-event feed of every activity."""
        with self.timed("history"):
            self.history  # noqa: B018 (read git history once, timed on its own)
        yield from self._timed_items("feeds", iter_feeds(self.site, self.base_url, self.history, write))
        changes = _lazy(lambda: changes_feed(self.site, self.base_url, self.history))
        yield from self._timed_items("feeds", changes)
        for c in self.site.published():
            yield from self._timed_items("data", _lazy(lambda c=c: open_data(c, self.base_url)))
        yield from self._timed_items("search", _lazy(lambda: build_index(self.site)))

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

    def set_shell(self, campaign_id: str, page: str) -> None:
        """Keep the MkDocs-rendered shell page of a campaign, squeezed: the theme's templates
        indent generously, and a third of every activity page was blank lines and indentation
        (a gigabyte at national size). Runs of whitespace with a line break become one line break,
        which renders the same outside <pre> and <textarea>; a shell with either is kept as is."""
        if "<pre" not in page and "<textarea" not in page:
            page = _SQUEEZE.sub("\n", page)
        self.shells[campaign_id] = page
        self._shell_parts.pop(campaign_id, None)

    @cached_property
    def all_activities(self) -> list[Activity]:
        return [a for c in self.site.published() for a in c.activities]

    def _fill(self, key: str, markers: dict[str, str], url_dir: str, title: str, desc: str,
              body: str, out: Path) -> None:
        """Write a page: a shell with its title, description, own URL and body put in, in one
        pass, so that text which looks like a marker (a title with “@@KEPU-DESC@@”) stays text."""
        parts = self._shell_parts.get(key)
        if parts is None:
            # split once per shell: texts at even indexes, the marker's name at odd ones
            names = {markers["title"]: "title", markers["desc"]: "desc", markers["body"]: "body",
                     f"{key}/{markers['dir']}/": "dir"}
            split = re.split("(" + "|".join(map(re.escape, names)) + ")", self.shells[key])
            parts = self._shell_parts[key] = [p if i % 2 == 0 else names[p] for i, p in enumerate(split)]
        values = {"title": html.escape(title), "desc": html.escape(desc), "dir": f"{key}/{url_dir}/",
                  "body": body}
        page = "".join([p if i % 2 == 0 else values[p] for i, p in enumerate(parts)])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")

    def write_activity_page(self, a: Activity, site_dir: Path, markers: dict[str, str]) -> None:
        c = a.campaign
        self._fill(f"{c.id}/activities", markers, a.slug, a.title, self.renderer.description(a),
                   self.renderer.activity_page(a), site_dir / c.id / "activities" / a.slug / "index.html")

    def write_district_page(self, c: Campaign, d: str, site_dir: Path, markers: dict[str, str]) -> None:
        name = c.districts[d]
        count = len(self.renderer.grouped(c)[d])
        self._fill(c.id, markers, d, f"{name}活动安排", f"{c.label}：{c.title}，{name}共 {count} 项活动",
                   self.renderer.district_page(c, d), site_dir / c.id / d / "index.html")

    def write_pages(self, site_dir: Path, markers: dict[str, str]) -> None:
        """Every activity and district page, on every core when there are many (pages are
        independent, so the output is the same bytes either way)."""
        pages: list[Callable[[], None]] = [
            (lambda a=a: self.write_activity_page(a, site_dir, markers)) for a in self.all_activities
        ]
        districts: list[Callable[[], None]] = []
        for c in self.site.published():
            self.renderer.grouped(c)  # grouped once, before the workers fork
            districts += [
                (lambda c=c, d=d: self.write_district_page(c, d, site_dir, markers)) for d in c.districts
            ]
        # district pages (long listings) spread among the activity pages, so that no worker's
        # share of the work is all of them
        every = max(1, len(pages) // max(1, len(districts)))
        rest = iter(districts)
        jobs: list[Callable[[], None]] = []
        for i, page in enumerate(pages, 1):
            jobs.append(page)
            if i % every == 0:
                jobs.extend(islice(rest, 1))
        jobs.extend(rest)
        fork_map(lambda job: job(), jobs)

    @property
    def site_day(self) -> str:
        """The day of the build's data: SOURCE_DATE_EPOCH (set from the last commit), else
        today, as MkDocs dates its own sitemap entries (mkdocs.utils.get_build_date)."""
        stamp = os.environ.get("SOURCE_DATE_EPOCH")
        when = datetime.fromtimestamp(int(stamp), UTC) if stamp else datetime.now(UTC)
        return when.date().isoformat()

    def sitemap(self, mkdocs_xml: str, skip: str) -> tuple[bytes, bytes]:
        """MkDocs' sitemap lists only MkDocs pages; add every activity page (dated by its last
        change) and district page (by its latest activity) and drop the shell pages. Returns
        (sitemap.xml, sitemap.xml.gz) bytes."""
        blocks = [b for b in re.findall(r"<url>.*?</url>", mkdocs_xml, re.S) if skip not in b]
        latest: dict[tuple[str, str], str] = {}  # a district page changes with its activities
        urls: list[tuple[str, str]] = []
        for a in self.all_activities:
            day = self.history.revision(a.pos.path)[1].date().isoformat()
            urls.append((f"{a.campaign.id}/activities/{a.slug}/", day))
            key = (a.campaign.id, a.district)
            latest[key] = max(latest.get(key, day), day)
        for c in self.site.published():
            urls += [(f"{c.id}/{d}/", latest.get((c.id, d), self.site_day)) for d in c.districts]
        for path, day in urls:
            loc = html.escape(self.base_url + path)
            blocks.append(f"<url>\n         <loc>{loc}</loc>\n         <lastmod>{day}</lastmod>\n    </url>")
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n    '
            + "\n    ".join(blocks) + "\n</urlset>\n"
        ).encode()
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:  # mtime 0: reproducible bytes
            gz.write(xml)
        return xml, buf.getvalue()


_SQUEEZE = re.compile(r"[ \t\r]*\n[ \t\r\n]*")  # ASCII only: U+3000 indents Chinese text


def _lazy(make: Callable[[], dict[str, bytes]]) -> Iterator[tuple[str, bytes]]:
    """Items of a dict made on first use, so that making it is timed with its items."""
    yield from make().items()
