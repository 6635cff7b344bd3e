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
import os
import re
import shutil
import stat
from pathlib import Path

from mkdocs.exceptions import PluginError

from ..cache import key
from ..outputs.build import FilledPage, SiteBuild
from ..outputs.pages import squeeze
from ..outputs.site import KEPT, MADE, SHELL_DIR  # in the URL layout: ids may not take them
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

    def text(self, page: FilledPage) -> str:
        """A page: its shell with its title, description, own URL and body put in, in one pass,
        so that text which looks like a marker (a title with “@@KEPU-DESC@@”) stays text."""
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
        return "".join([p if i % 2 == 0 else values[p] for i, p in enumerate(parts)])

    def write_all(self, build: SiteBuild, out: SiteWriter) -> None:
        """Every activity and district page, on every core when the build allows it; a page the
        previous site holds from the same key and the same shell is not made again."""
        shells = {folder: key(page) for folder, page in self._pages.items()}

        def file_key(folder: str, k: str | None) -> str | None:
            return key(shells[folder], k) if k is not None else None

        build.make_pages(
            lambda page, k: out.write(page.path, self.text(page).encode(), file_key(page.folder, k)),
            lambda jobs: out.reuse_many([(job.path, file_key(job.folder, job.key)) for job in jobs]),
        )


_PIECE = 1 << 20


class SiteWriter:
    """Writes the site's files into the folder MkDocs builds (``stage``).

    Given ``previous``, the site this build will replace (kepu build), a file already there is
    not written again but listed as kept, and commands/publish.merge_in moves only the written
    files into place: a rebuild after one edit writes a few files instead of the whole site, which
    on a slow disk is most of its time. A file is known to be there by its bytes, or, before it is
    even made, by the key it was made from: ``made`` lists the previous build's files with their
    keys and sizes (the same key makes the same bytes; the size catches a file cut short).
    Safe in forked workers: each process lists what it kept and made in files of its own."""

    def __init__(self, stage: Path, previous: Path | None = None, copies: tuple[str, ...] = (),
                 made: dict[str, tuple[str, int]] | None = None):
        self.stage = stage
        self.previous = previous
        # the old site's folder as a string prefix: a Path join per file cost more than the rest
        # of a warm rebuild's check of that file
        self._old = f"{previous}{os.sep}" if previous is not None else ""
        self.copies = copies  # suffixes of the precompressed copies a kept file must have (".gz")
        self.made = made or {}
        self._pid = -1
        self._lists: dict[str, int] = {}  # this process's lists: KEPT, MADE → file descriptor

    def write(self, rel: str, data: bytes, key: str | None = None) -> None:
        if key is not None:
            self._note(MADE, rel, key, str(len(data)))
        if self.previous is not None and self._unchanged(rel, data) and self._keep(rel):
            return
        out = self.stage / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)

    def reuse(self, rel: str, key: str | None) -> bool:
        """Keep ``rel`` if the previous build made it from ``key`` and it is still whole (with
        its precompressed copies, if the site has them)."""
        return self.reuse_many([(rel, key)])[0]

    def reuse_many(self, files: list[tuple[str, str | None]]) -> list[bool]:
        """``reuse`` for each (rel, key) of ``files``, with the notes written in one go: after a
        one-file edit nearly every page and one-event feed is kept, and at that count the calls
        and writes per file cost more than the checks."""
        if self.previous is None:
            return [False] * len(files)
        made, old, lstat, is_reg = self.made, self._old, os.lstat, stat.S_ISREG
        copies = self.copies
        kept: list[str] = []
        listed: list[str] = []
        result: list[bool] = []
        for rel, k in files:
            entry = made.get(rel)
            ok = False
            if entry is not None and k is not None and entry[0] == k:
                try:
                    st = lstat(old + rel)
                    ok = is_reg(st.st_mode) and st.st_size == entry[1]
                except OSError:
                    pass
                if ok and copies and os.path.splitext(rel)[1] in PRECOMPRESS_SUFFIXES:
                    extra = [rel + c for c in copies]
                    ok = all(os.path.isfile(old + c) for c in extra)
                    if ok:
                        kept += extra
                if ok:
                    kept.append(rel)
                    listed += (rel, k, str(entry[1]))
            result.append(ok)
        if kept:
            self._note(KEPT, *kept)
            self._note(MADE, *listed)
        return result

    def made_now(self) -> dict[str, tuple[str, int]]:
        """The files of this build written with a key, or kept by it (rel → key, size), from
        every process's list; the lists are removed."""
        out: dict[str, tuple[str, int]] = {}
        for listing in self.stage.glob(f"{MADE}*"):
            parts = listing.read_text(encoding="utf-8").split("\0")
            for i in range(0, len(parts) - 2, 3):
                out[parts[i]] = (parts[i + 1], int(parts[i + 2]))
            listing.unlink()
        return out

    def _unchanged(self, rel: str, data: bytes) -> bool:
        assert self.previous is not None
        try:
            # O_NOFOLLOW: a link planted in the old site is replaced, not followed
            fd = os.open(self._old + rel, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return False
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
                return False
            # in pieces: a national campaign's feed is hundreds of megabytes, not to be read twice
            view = memoryview(data)
            return all(f.read(_PIECE) == view[at:at + _PIECE] for at in range(0, len(data), _PIECE))

    def _keep(self, rel: str) -> bool:
        """List the previous site's ``rel`` as kept, with its precompressed copies, if it has them."""
        assert self.previous is not None
        copies = ([rel + c for c in self.copies]
                  if self.copies and os.path.splitext(rel)[1] in PRECOMPRESS_SUFFIXES else [])
        if not all(os.path.isfile(self._old + c) for c in copies):
            return False
        self._note(KEPT, rel, *copies)
        return True

    def _note(self, kind: str, *fields: str) -> None:
        """Add to this process's list ``kind`` (opened on first use in each forked worker)."""
        if self._pid != os.getpid():
            self._pid, self._lists = os.getpid(), {}
        fd = self._lists.get(kind)
        if fd is None:
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
            fd = self._lists[kind] = os.open(self.stage / f"{kind}{self._pid}", flags, 0o644)
        data = memoryview("".join(f"{f}\0" for f in fields).encode())
        while data:  # a write may take less than it is given
            data = data[os.write(fd, data):]


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
    return xml, gzip_bytes(xml)


def gzip_bytes(data: bytes) -> bytes:
    """The one gzip form of the site (sitemap.xml.gz and every precompressed copy are the same
    bytes for the same file): mtime 0 and no file name, so builds are reproducible; level 6
    (gzip's own default): level 9 takes twice the time for 0.2 % less."""
    return gzip.compress(data, compresslevel=6, mtime=0)


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
        if gz:
            Path(path + ".gz").write_bytes(gzip_bytes(data))
        if br is not None:
            # quality 9 with a window sized to the file: quality 11 is 30× slower for 10 % less,
            # and a 4 MB default window costs more to set up than a page takes to compress
            window = max(16, min(24, len(data).bit_length() + 1))
            Path(path + ".br").write_bytes(br.compress(data, quality=9, lgwin=window))

    fork_map(one, files, parallel=parallel)
    return len(files)
