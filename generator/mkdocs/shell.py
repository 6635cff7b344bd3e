"""The shell-page fill: MkDocs renders one "shell" page per folder of many pages, and every
activity and district page is that shell with its own title, description, URL and body put in
(the mkdocs-material look at string-copy cost, instead of MkDocs' per-page pipeline for 200,000
pages). Also MkDocs' sitemap, which lists only its own pages, completed with the filled ones.

What the pages are (FilledPage) comes from generator.outputs.build; this module only knows how
they reach MkDocs' output.
"""

from __future__ import annotations

import gzip
import html
import io
import re
import shutil
from pathlib import Path

from ..outputs.build import FilledPage, SiteBuild
from ..outputs.site import SHELL_DIR  # part of the URL layout: ids may not take it
from ..parallel import fork_map

SHELL_TITLE = "@@KEPU-TITLE@@"
SHELL_DESC = "@@KEPU-DESC@@"
# contains "<h1" so mkdocs-material does not add a second page heading; the body brings its own
SHELL_BODY = "<!--@@KEPU-BODY<h1>-->"

_SHELL_MD = f"/{SHELL_DIR}/index.md"
_SQUEEZE = re.compile(r"[ \t\r]*\n[ \t\r\n]*")  # ASCII only: U+3000 indents Chinese text


class Shells:
    """The shell pages of one build: one per folder of filled pages (SiteBuild.shell_folders),
    placed at the depth of the pages filled from it so that its relative links work for them."""

    def __init__(self, folders: list[str]):
        self.folders = folders
        self._pages: dict[str, str] = {}
        self._parts: dict[str, list[str]] = {}

    def sources(self) -> dict[str, str]:
        """The Markdown pages MkDocs renders as shells: source URI → content."""
        front = f"---\ntitle: \"{SHELL_TITLE}\"\ndescription: \"{SHELL_DESC}\"\n---\n"
        return {f"{folder}{_SHELL_MD}": front for folder in self.folders}

    @staticmethod
    def folder_of(uri: str) -> str | None:
        """The folder a shell page's source URI stands for, or None for any other page."""
        return uri.removesuffix(_SHELL_MD) if uri.endswith(_SHELL_MD) else None

    def keep(self, folder: str, page: str) -> None:
        """Keep the MkDocs-rendered shell page of a folder, squeezed: the theme's templates
        indent generously, and a third of every activity page was blank lines and indentation
        (a gigabyte at national size). Runs of whitespace with a line break become one line break,
        which renders the same outside <pre> and <textarea>; a shell with either is kept as is."""
        if "<pre" not in page and "<textarea" not in page:
            page = _SQUEEZE.sub("\n", page)
        self._pages[folder] = page
        self._parts.pop(folder, None)

    def has(self, folder: str) -> bool:
        return folder in self._pages

    def missing(self) -> list[str]:
        return [f for f in self.folders if f not in self._pages]

    def remove_from(self, site_dir: Path) -> None:
        """The shells themselves are not pages of the site."""
        for folder in self.folders:
            shutil.rmtree(site_dir / folder / SHELL_DIR, ignore_errors=True)

    def fill(self, page: FilledPage, site_dir: Path) -> None:
        """Write a page: its shell with its title, description, own URL and body put in, in one
        pass, so that text which looks like a marker (a title with “@@KEPU-DESC@@”) stays text."""
        key = page.folder
        parts = self._parts.get(key)
        if parts is None:
            # split once per shell: texts at even indexes, the marker's name at odd ones
            names = {SHELL_TITLE: "title", SHELL_DESC: "desc", SHELL_BODY: "body",
                     f"{key}/{SHELL_DIR}/": "dir"}
            split = re.split("(" + "|".join(map(re.escape, names)) + ")", self._pages[key])
            parts = self._parts[key] = [p if i % 2 == 0 else names[p] for i, p in enumerate(split)]
        values = {"title": html.escape(page.title), "desc": html.escape(page.description),
                  "dir": f"{key}/{page.name}/", "body": page.body}
        out = site_dir / page.path
        out.parent.mkdir(parents=True, exist_ok=True)
        text = "".join([p if i % 2 == 0 else values[p] for i, p in enumerate(parts)])
        out.write_text(text, encoding="utf-8")

    def write_all(self, build: SiteBuild, site_dir: Path) -> None:
        """Every activity and district page, on every core when the build allows it."""
        pages = build.filled_pages()
        fork_map(lambda make: self.fill(make(), site_dir), pages, parallel=build.options.parallel)


def sitemap(mkdocs_xml: str, base_url: str, pages: list[tuple[str, str]]) -> tuple[bytes, bytes]:
    """MkDocs' sitemap without the shell pages, plus ``pages`` ((URL path, YYYY-MM-DD) of the
    generated pages): a page MkDocs listed (home, campaign, stats) takes its date from there
    instead of MkDocs' build date, the filled ones are added. Returns (sitemap.xml, .gz) bytes."""
    dates = dict(pages)
    blocks = []
    for block in re.findall(r"<url>.*?</url>", mkdocs_xml, re.S):
        if f"/{SHELL_DIR}/" in block:
            continue
        loc = re.search(r"<loc>(.*?)</loc>", block, re.S)
        path = html.unescape(loc[1].strip()).removeprefix(base_url) if loc else None
        if path is not None and path in dates:
            block = re.sub(r"<lastmod>.*?</lastmod>", f"<lastmod>{dates.pop(path)}</lastmod>", block)
        blocks.append(block)
    for path, day in dates.items():
        loc = html.escape(base_url + path)
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
