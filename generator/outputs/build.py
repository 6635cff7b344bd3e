"""Step 5, build plan: which pages, feeds and data files a validated site produces, and where.

Which pages there are (their paths come from site.py, the URL layout), with which title,
description and body, and the feeds, data and search files. How pages
reach the site (MkDocs pages, or bodies filled into MkDocs-rendered shells) is the adapter's
business (generator/mkdocs/shell.py). No MkDocs import.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache

from ..cache import Cache, PackWriter, folder_key, key
from ..history import History, read_history
from ..model import Activity, Campaign, Site
from ..parallel import fork_map
from . import site as url
from .data import activities_schema, open_data
from .feeds import changes_feed, iter_feeds
from .options import DEFAULT_OPTIONS, BuildOptions, Writer
from .pages import Renderer
from .search import build_index


class TemplateCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates, kept in the content cache: compiling the theme's and our templates
    is about a third of a second of every build, the most of a small rebuild. Jinja checks each
    entry against its template's source; a damaged entry is remade with a notice instead of
    stopping the build (Jinja's own loader lets an unpickling error through)."""

    def __init__(self, cache: Cache):
        folder = cache.dir / "templates"
        folder.mkdir(exist_ok=True)
        super().__init__(str(folder))
        self.cache = cache

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 (whatever unpickling damaged bytes raises)
            bucket.reset()
            self.cache.damaged(f"模板 {bucket.key}")

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError as err:
            self.cache.unwritable(err)


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


@dataclass(frozen=True)
class PageJob:
    """An activity or district page to be made: where it goes and its cache key (None without a
    cache) are known before it is made, so a writer holding the same page can skip making it."""

    folder: str
    name: str
    key: str | None
    make: Callable[[], FilledPage]

    @property
    def path(self) -> str:
        return f"{self.folder}/{self.name}/index.html"


class SiteBuild:
    def __init__(self, site: Site, base_url: str, root: Path, options: BuildOptions = DEFAULT_OPTIONS,
                 cache: Cache | None = None):
        self.site = site
        self.base_url = url.base(base_url)
        self.root = root
        self.options = options
        self.renderer = Renderer(site, self.base_url, root, options)
        self.timings: dict[str, float] = {}
        self.cache = cache
        # What every page and event depends on beyond its own campaign and file (whose keys the
        # model carries): the site's URL, its options, its template overrides and logo images.
        # Whether it runs in parallel changes nothing in the output, so it is left out.
        self.site_key = key(
            self.base_url, repr(dataclasses.replace(options, parallel=True)),
            folder_key(root / "site_theme" / "kepu"), repr(sorted(self.renderer.logo_files.items())),
        ) if cache is not None else ""
        self.pages = cache.packs("pages") if cache is not None else None
        self.templates: TemplateCache | None = None
        if cache is not None:
            try:
                self.templates = self.renderer.env.bytecode_cache = TemplateCache(cache)
            except OSError as err:
                cache.unwritable(err)
        self._writer: PackWriter | None = None  # in a worker making pages: where new ones go
        self._bodies: dict[str, Callable[[], str]] = {}
        for c in site.published():
            for page, make in ((url.campaign_page(c), self.renderer.campaign_page),
                               (url.stats_page(c), self.renderer.stats_page)):
                uri = url.source(page)
                self._bodies[uri] = lambda c=c, uri=uri, make=make: self.body(uri, [c], lambda: make(c))
        # the bodies of the campaign, stats and home pages, by what they show (see ``body``)
        self._body_table = cache.table("bodies") if cache is not None else None

    def page_sources(self) -> dict[str, str]:
        """Generated MkDocs pages: source URI → title (plain text; the adapter escapes it).
        District and activity pages are filled into shell pages instead (see filled_pages)."""
        out: dict[str, str] = {}
        for c in self.site.published():
            out[url.source(url.campaign_page(c))] = c.title
            out[url.source(url.stats_page(c))] = "活动统计"
        return out

    def nav_pages(self) -> set[str]:
        return {url.source(page) for c in self.site.published()
                for page in (url.campaign_page(c), url.stats_page(c))}

    def page_body(self, uri: str) -> str | None:
        make = self._bodies.get(uri)
        return make() if make else None

    def body(self, name: str, campaigns: list[Campaign], make: Callable[[], str]) -> str:
        """A page body that shows ``campaigns`` and their activities and nothing else of the
        repository (a campaign page lists every activity: at national size its making is most of
        MkDocs' part of a rebuild), from the cache when they are unchanged."""
        parts = [c.source_key for c in campaigns] + [a.source_key for c in campaigns for a in c.activities]
        table = self._body_table
        if table is None or not all(parts):
            return make()
        k = key(self.site_key, "body", name, *parts)
        made = table.get(k)
        if not isinstance(made, str):
            made = make()
        table.put(k, made)
        return made

    def bodies_done(self) -> None:
        """Store the bodies this build used (once MkDocs has rendered its pages)."""
        if self._body_table is not None:
            self._body_table.save()

    def nav(self, nav: list[Any] | None) -> list[Any]:
        """The configured nav with one entry per published campaign after the home page.
        District and activity pages stay out of it: a nav listing them on every page would make
        the build grow with the square of the number of pages."""
        entries = [{c.title: [{"活动日程": url.source(url.campaign_page(c))},
                              {"活动统计": url.source(url.stats_page(c))}]}
                   for c in sorted(self.site.published(), key=lambda c: c.span.start, reverse=True)]
        nav = list(nav or [{"首页": "index.md"}])
        return nav[:1] + entries + nav[1:]

    @cached_property
    def history(self) -> History:
        return read_history(self.root)

    def extra_files(self, out: Writer | None = None) -> Iterator[tuple[str, bytes]]:
        """Feeds, open data (with its schema), robots.txt and the search index as (path under the
        site root, bytes), one at a time so that a national site never holds all of them in
        memory. ``out``, if given, takes the feeds and search files that a rebuild may keep as
        they are (with the key they were made from) instead of their being yielded."""
        with self.timed("history"):
            self.history  # noqa: B018 (read git history once, timed on its own)
        feeds = iter_feeds(self.site, self.base_url, self.history, out, self.options,
                           cache=self.cache, site_key=self.site_key)
        yield from self._timed_items("feeds", feeds)
        changes = _lazy(lambda: changes_feed(self.site, self.base_url, self.history, self.options))
        yield from self._timed_items("feeds", changes)
        for c in self.site.published():
            yield from self._timed_items("data", _lazy(lambda c=c: open_data(c, self.base_url, self.cache,
                                                                             self.site_key)))
        yield url.DATA_SCHEMA, activities_schema(self.base_url)
        yield url.ROBOTS, self.robots()
        index = _lazy(lambda: build_index(self.site, parallel=self.options.parallel, cache=self.cache,
                                          site_key=self.site_key, out=out))
        yield from self._timed_items("search", index)

    def robots(self) -> bytes:
        """robots.txt: every page may be crawled; the sitemap is named by its absolute URL (as
        RFC 9309 and the sitemaps protocol want). Only read at a host's root: a site published
        under a sub-path needs the same lines in the host's own robots.txt."""
        return f"User-agent: *\nAllow: /\n\nSitemap: {self.base_url}{url.SITEMAP}\n".encode()

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
        return [key for c in self.site.published()
                for key in (url.activities_folder(c), url.campaign_folder(c))]

    def activity_page(self, a: Activity) -> FilledPage:
        return self._cached(self.activity_key(a), lambda: FilledPage(
            url.activities_folder(a.campaign), a.slug, a.title, self.renderer.description(a),
            self.renderer.activity_page(a)))

    def activity_key(self, a: Activity) -> str | None:
        """The cache key of an activity's page: its file (with its campaign) and the site."""
        return key(self.site_key, "activity", a.source_key) if self.cache and a.source_key else None

    def district_key(self, c: Campaign, d: str) -> str | None:
        """The cache key of a district page: its campaign, the site and each of its activities."""
        acts = self.renderer.grouped(c)[d]
        if self.cache is None or not c.source_key or not all(a.source_key for a in acts):
            return None
        return key(self.site_key, "district", c.source_key, d, *(a.source_key for a in acts))

    def _cached(self, k: str | None, make: Callable[[], FilledPage]) -> FilledPage:
        """A page from the cache, or made and stored there (by the worker that made it)."""
        if self.pages is None or k is None:
            return make()
        data = self.pages.get(k)
        if data is not None:
            try:
                return FilledPage(*pickle.loads(data))
            except Exception:  # noqa: BLE001 (whatever unpickling damaged bytes raises)
                self.pages.cache.damaged(f"页面 {k}")
        page = make()
        if self._writer is not None:
            data = (page.folder, page.name, page.title, page.description, page.body)  # astuple deep-copies
            self._writer.put(k, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
        return page

    def make_pages(self, write: Callable[[FilledPage, str | None], None],
                   reuse: Callable[[list[PageJob]], list[bool]] | None = None) -> None:
        """Make every activity and district page and hand it with its key to ``write``, on every
        core when the build allows it, in batches: each batch stores the pages it made in one
        pack. A page ``reuse`` says is already written is not made at all."""
        every = self.filled_pages()
        # asked here, not in the workers: after a one-file edit nearly every page is kept, and
        # forking to ask costs more than asking
        jobs = ([job for job, kept in zip(every, reuse(every), strict=True) if not kept]
                if reuse is not None else every)
        batches = max(1, (os.cpu_count() or 1) * 4)
        size = -(-len(jobs) // batches) or 1
        chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]

        def run(chunk: list[PageJob]) -> dict[str, tuple[str, int, int]]:
            self._writer = self.pages.writer() if self.pages is not None else None
            try:
                for job in chunk:
                    write(job.make(), job.key)
            finally:
                made = self._writer.close() if self._writer is not None else {}
                self._writer = None
            return made

        parallel = self.options.parallel and len(jobs) >= 400  # forking costs more for a few pages
        made: dict[str, tuple[str, int, int]] = {}
        for entries in fork_map(run, chunks, parallel=parallel, min_items=1):
            made.update(entries)
        if self.pages is not None:
            keys = {job.key for job in every}
            used = {k: made.get(k) or self.pages.index.get(k) for k in keys if k is not None}
            self.pages.keep({k: v for k, v in used.items() if v is not None})

    def district_page(self, c: Campaign, d: str) -> FilledPage:
        return self._cached(self.district_key(c, d), lambda: self._district_page(c, d))

    def _district_page(self, c: Campaign, d: str) -> FilledPage:
        name = c.districts[d]
        count = len(self.renderer.grouped(c)[d])
        desc = f"{c.label}：{c.title}，{name}共 {count} 项活动"
        body = self.renderer.district_page(c, d)
        return FilledPage(url.campaign_folder(c), d, f"{name}活动安排", desc, body)

    def filled_pages(self) -> list[PageJob]:
        """Every activity and district page, each made when called (pages are independent, so
        the caller may make them on every core and the output is the same bytes either way)."""
        # In the order the files were read, which is the order their models lie in memory: a
        # worker then touches (so copies, reference counts being writes) the memory pages that
        # hold its share of the model, not pages all over it. Sorted by date instead, a worker
        # of a national build ended up with a copy of most of the model.
        acts = sorted(self.all_activities, key=lambda a: a.pos.path)
        pages = [PageJob(url.activities_folder(a.campaign), a.slug, self.activity_key(a),
                         lambda a=a: self.activity_page(a)) for a in acts]
        districts: list[PageJob] = []
        for c in self.site.published():
            self.renderer.grouped(c)  # grouped once, before any worker forks
            districts += [PageJob(url.campaign_folder(c), d, self.district_key(c, d),
                                  lambda c=c, d=d: self.district_page(c, d)) for d in c.districts]
        # district pages (long listings) spread among the activity pages, so that no worker's
        # share of the work is all of them
        every = max(1, len(pages) // max(1, len(districts)))
        rest = iter(districts)
        jobs: list[PageJob] = []
        for i, page in enumerate(pages, 1):
            jobs.append(page)
            if i % every == 0:
                jobs.extend(islice(rest, 1))
        jobs.extend(rest)
        return jobs

    def page_dates(self, build_day: str) -> list[tuple[str, str]]:
        """(URL path, last change as YYYY-MM-DD) of every generated page, from the files whose
        content it shows (not the repository's last commit, which may have changed only a test):
        an activity page its file; a district page its latest activity (``build_day`` for one
        without activities); a campaign and its stats page the latest of campaign.yml and its
        activity files; the home page the latest of all published campaigns."""

        def day(path: str) -> str:
            return self.history.revision(path)[1].date().isoformat()

        latest: dict[tuple[str, str], str] = {}  # a district page changes with its activities
        urls: list[tuple[str, str]] = []
        newest: dict[str, str] = {}  # campaign id → its latest file
        for a in self.all_activities:
            changed = day(a.pos.path)
            urls.append((url.activity_page(a), changed))
            key = (a.campaign.id, a.district)
            latest[key] = max(latest.get(key, changed), changed)
            newest[a.campaign.id] = max(newest.get(a.campaign.id, changed), changed)
        for c in self.site.published():
            urls += [(url.district_page(c, d), latest.get((c.id, d), build_day)) for d in c.districts]
            newest[c.id] = max(newest.get(c.id, ""), day(c.pos.path))
            urls += [(url.campaign_page(c), newest[c.id]), (url.stats_page(c), newest[c.id])]
        if newest:
            urls.append((url.home_page(), max(newest.values())))
        return urls


def _lazy(make: Callable[[], dict[str, bytes]]) -> Iterator[tuple[str, bytes]]:
    """Items of a dict made on first use, so that making it is timed with its items."""
    yield from make().items()
