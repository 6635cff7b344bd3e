"""The shell-page fill: MkDocs renders one "shell" page per folder of many pages, and every
activity and district page is that shell with its own title, description, URL and body put in
(the mkdocs-material look at string-copy cost, instead of MkDocs' per-page pipeline for 200,000
pages). Also MkDocs' sitemap, which lists only its own pages, completed with the filled ones,
and the optional precompressed copies of the site's text files.

What the pages are (FilledPage) comes from generator.outputs.build; this module only knows how
they reach MkDocs' output.
"""

from __future__ import annotations

import gzip
import html
import importlib.util
import io
import re
import shutil
from pathlib import Path

from mkdocs.exceptions import PluginError

from ..outputs.build import FilledPage, SiteBuild
from ..outputs.pages import squeeze
from ..outputs.site import SHELL_DIR  # part of the URL layout: ids may not take it
from ..parallel import fork_map

SHELL_TITLE = "@@KEPU-TITLE@@"
SHELL_DESC = "@@KEPU-DESC@@"
# contains "<h1" so mkdocs-material does not add a second page heading; the body brings its own
SHELL_BODY = "<!--@@KEPU-BODY<h1>-->"

_SHELL_MD = f"/{SHELL_DIR}/index.md"
# What the filled pages never use, left out of their shells (after squeezing): MkDocs' generator
# tag, material's content-tabs script (it opens a tab named by the URL's #fragment; page bodies
# have no tabs) and the search page's script (it acts only on the form of the search page).
_UNUSED = re.compile(
    r'<meta name="generator"[^>]*>\n'
    r'|<script>var target=document\.getElementById\(location\.hash[^<]*"__tabbed_"[^<]*</script>\n'
    r'|<script src="[^"]*assets/kepu-search\.js"></script>\n'
)


class Shells:
    """The shell pages of one build: one per folder of filled pages (SiteBuild.shell_folders),
    placed at the depth of the pages filled from it so that its relative links work for them."""

    def __init__(self, folders: list[str]):
        self.folders = folders
        self._pages: dict[str, str] = {}
        self._parts: dict[str, list[str]] = {}

    def sources(self) -> dict[str, str]:
        """The Markdown pages MkDocs renders as shells: source URI → content."""
        # kepu_lean: site_theme/main.html gives these pages a lean chrome (no campaign-wide nav);
        # hide: material's documented way to drop the sidebars, for its own layout rules
        front = (f"---\ntitle: \"{SHELL_TITLE}\"\ndescription: \"{SHELL_DESC}\"\n"
                 "kepu_lean: true\nhide: [navigation, toc]\n---\n")
        return {f"{folder}{_SHELL_MD}": front for folder in self.folders}

    @staticmethod
    def folder_of(uri: str) -> str | None:
        """The folder a shell page's source URI stands for, or None for any other page."""
        return uri.removesuffix(_SHELL_MD) if uri.endswith(_SHELL_MD) else None

    def keep(self, folder: str, page: str) -> None:
        """Keep the MkDocs-rendered shell page of a folder, squeezed: the theme's templates
        indent generously, and a third of every activity page was blank lines and indentation
        (a gigabyte at national size). Runs of whitespace with a line break become one line break,
        which renders the same outside <pre> and <textarea>; a shell with either is kept as is.
        What these pages never use (_UNUSED) is left out."""
        self._pages[folder] = _UNUSED.sub("", squeeze(page))
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
        build.make_pages(lambda page: self.fill(page, site_dir))


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


# The text files a host may serve precompressed (nginx gzip_static, Caddy precompressed, most CDNs
# and object stores with a Content-Encoding): pages, data, feeds, sitemap, and the theme's CSS/JS.
PRECOMPRESS_SUFFIXES = frozenset({".html", ".json", ".xml", ".ics", ".csv", ".css", ".js", ".svg", ".txt"})


def brotli_available() -> bool:
    """Whether `precompress: [gz, br]` can run: brotli (PyPI "brotli", Google's own binding) is
    optional, not a dependency, since only hosts that serve .br files want it."""
    return importlib.util.find_spec("brotli") is not None


def precompress_kinds(value: bool | list[object]) -> list[str]:
    """The plugin option `precompress` as encodings ("gz", "br"), or a clear message."""
    if isinstance(value, bool):
        return ["gz"] if value else []
    kinds = [str(k).lower().lstrip(".") for k in value]
    wrong = [k for k in kinds if k not in ("gz", "br")]
    if wrong:
        raise PluginError(f"mkdocs.yml 的 kepu 插件选项 precompress 只能是 true、false、[gz] 或 [gz, br]"
                          f"（现在有 {wrong[0]}）")
    if "br" in kinds and not brotli_available():
        raise PluginError("mkdocs.yml 的 kepu 插件选项 precompress 含 br，但没有安装 brotli："
                          "请运行 .venv/bin/pip install brotli，或只写 [gz]")
    return kinds


def precompress(site_dir: Path, kinds: list[str], *, parallel: bool) -> int:
    """Write ``name.gz`` (and ``name.br``) beside every text file of the site, for hosts that send
    precompressed files as they are. Same input, same bytes: gzip's header carries mtime 0 and no
    file name, brotli has no header, so two builds stay byte-identical. Returns the file count."""
    br = importlib.import_module("brotli") if "br" in kinds else None
    gz = "gz" in kinds
    files = sorted(str(p) for p in site_dir.rglob("*")
                   if p.suffix in PRECOMPRESS_SUFFIXES and p.is_file())

    def one(path: str) -> None:
        data = Path(path).read_bytes()
        if gz:  # level 6 (gzip's own default): level 9 takes twice the time for 0.2 % less
            Path(path + ".gz").write_bytes(gzip.compress(data, compresslevel=6, mtime=0))
        if br is not None:
            # quality 9 with a window sized to the file: quality 11 is 30× slower for 10 % less,
            # and a 4 MB default window costs more to set up than a page takes to compress
            window = max(16, min(24, len(data).bit_length() + 1))
            Path(path + ".br").write_bytes(br.compress(data, quality=9, lgwin=window))

    fork_map(one, files, parallel=parallel)
    return len(files)
