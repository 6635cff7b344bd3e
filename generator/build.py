"""Step 5, build plan: which pages, feeds and data files a validated site produces, and where.

The one place that knows the published URL layout (SPEC "Published site"); the MkDocs plugin and
the CLI only move what it produces. No MkDocs import.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

from .data import open_data, when_text
from .feeds import build_feeds, changes_feed
from .history import read_history
from .model import Activity, Site
from .pages import Renderer

_TAGS = re.compile(r"<[^>]+>")


class SiteBuild:
    def __init__(self, site: Site, base_url: str, root: Path):
        self.site = site
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.root = root
        self.renderer = Renderer(site, self.base_url, root)
        self.shells: dict[str, str] = {}
        self._bodies: dict[str, Callable[[], str]] = {}
        for c in site.published():
            self._bodies[f"{c.id}/index.md"] = lambda c=c: self.renderer.campaign_page(c)
            self._bodies[f"{c.id}/stats/index.md"] = lambda c=c: self.renderer.stats_page(c)
            for d in c.districts:
                self._bodies[f"{c.id}/{d}/index.md"] = lambda c=c, d=d: self.renderer.district_page(c, d)

    def page_sources(self) -> dict[str, str]:
        """Generated MkDocs pages: source URI → title (as a YAML string for front matter)."""
        out: dict[str, str] = {}
        for c in self.site.published():
            out[f"{c.id}/index.md"] = _yaml_str(c.title)
            out[f"{c.id}/stats/index.md"] = _yaml_str("活动统计")
            for d, name in c.districts.items():
                out[f"{c.id}/{d}/index.md"] = _yaml_str(f"{name}活动安排")
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

    def extra_files(self) -> dict[str, bytes]:
        """Feeds and open data, keyed by path under the site root."""
        out = build_feeds(self.site, self.base_url, self.history)
        out.update(changes_feed(self.site, self.base_url, self.history))
        for c in self.site.published():
            out.update(open_data(c, self.base_url))
        return out

    def campaign_search_entries(self, segment: Callable[[str], str] | None) -> list[dict[str, str]]:
        """Campaign and district pages, indexed by what they are about (not their listings)."""
        out = []
        for c in self.site.published():
            facts = [c.label, c.region, c.theme.text if c.theme and c.theme.text else "",
                     c.subtheme.text if c.subtheme and c.subtheme.text else ""]
            out.append((f"{c.id}/", c.title, " ".join([*facts, *c.districts.values()])))
            for d, name in c.districts.items():
                out.append((f"{c.id}/{d}/", f"{name}活动安排", f"{c.title} {name}"))
        seg = segment or (lambda s: s)
        return [{"location": loc, "title": seg(title), "text": seg(text)} for loc, title, text in out]

    def search_entry(self, a: Activity, segment: Callable[[str], str] | None) -> dict[str, str]:
        """A search index entry for an activity page (mkdocs-material's index format)."""
        c = a.campaign
        venue = a.venue.name if a.venue else "线上"
        text = " ".join([c.label, when_text(a), c.districts[a.district], venue, a.organizer,
                         _TAGS.sub(" ", str(self.renderer.env.globals["markdown"](a.description)))])
        title = a.title
        if segment:
            title, text = segment(title), segment(text)
        return {"location": f"{c.id}/activities/{a.slug}/", "title": title, "text": text}


def _yaml_str(s: str) -> str:
    # Titles go into generated front matter; double-quoted YAML with escapes keeps them literal.
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
