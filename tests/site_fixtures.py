"""Shared fixtures for the built-site tests (test_site, test_browser, test_sanitize).

Loaded with ``pytest_plugins = ["site_fixtures"]`` from those modules, so conftest.py stays
untouched. The real sample site (this repository) is built ONCE per test session into a temporary
folder; browser tests serve that folder over http://127.0.0.1:<random port>/.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from generator.commands.cli import build_site
from generator.model import Site
from generator.validate import read_site

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
SITE_URL = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["site_url"]
if not SITE_URL.endswith("/"):
    SITE_URL += "/"


# -- the real sample site ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def site_model() -> Site:
    site, problems = read_site(ROOT)
    assert not problems.errors, "sample data has errors:\n" + "\n".join(p.format() for p in problems.errors)
    assert site.published(), "no published campaign in the sample data"
    return site


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("built") / "site"
    assert build_site(ROOT, out, quiet=True), "building the sample site failed (see stderr)"
    return out


@functools.cache
def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def soup_of(path: Path) -> BeautifulSoup:
    """Parsed page, cached: many tests read the same pages. Do not mutate the result."""
    return _soup(path)


# -- repository copies for builds that change the data ----------------------------------------


def copy_repo(dest: Path, campaigns: list[str] | None = None) -> Path:
    """A minimal repository copy (mkdocs.yml, content, theme, brands and the given campaigns)."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "mkdocs.yml", dest / "mkdocs.yml")
    for sub in ("content", "site_theme"):
        if (ROOT / sub).is_dir():
            shutil.copytree(ROOT / sub, dest / sub)
    (dest / "campaigns").mkdir()
    shutil.copy2(ROOT / "campaigns" / "brands.yml", dest / "campaigns" / "brands.yml")
    for cdir in sorted(p for p in (ROOT / "campaigns").iterdir() if p.is_dir()):
        if campaigns is None or cdir.name in campaigns:
            shutil.copytree(cdir, dest / "campaigns" / cdir.name)
    return dest


def set_top_level(path: Path, key: str, value: str) -> None:
    """Set a top-level ``key: value`` line in a YAML file (replacing an existing one)."""
    text = path.read_text(encoding="utf-8-sig")
    pattern = re.compile(rf"^{re.escape(key)}:.*$", re.M)
    line = f"{key}: {value}"
    if pattern.search(text):
        text = pattern.sub(line, text, count=1)
    else:
        text = text.rstrip("\n") + "\n" + line + "\n"
    path.write_text(text, encoding="utf-8")


# -- serving and the browser ------------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 (random free port) in a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def served_site(built_site: Path) -> Iterator[str]:
    """Base URL (ending in /) of the built sample site."""
    with serve(built_site) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install the Debian package 'chromium' "
            "(the browser tests never download a browser)", pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


# -- a campaign with hostile input (test_sanitize, test_browser) ---------------------------------

HOSTILE_CAMPAIGN = "2022-xinxiang-kejizhou"
HOSTILE_FILE = "activities/muye/kepu-jiangjie-dasai-xinxiang-yuxuansai.yml"
HOSTILE_SLUG = "kepu-jiangjie-dasai-xinxiang-yuxuansai"
# the shell page's markers too: a title must not be able to pull in the description or rewrite URLs
HOSTILE_TITLE_TAIL = (
    "<img src=x onerror=alert('t1')> @@KEPU-DESC@@ 2022-xinxiang-kejizhou/activities/_kepu-shell/"
)
HOSTILE_ORGANIZER_TAIL = "<img src=y onerror=alert('o1')>"
# The campaign title reaches MkDocs (nav, <title>, header, previous/next footer) on every page:
# "</title>" would end the title element if any writer let it through unescaped.
HOSTILE_CAMPAIGN_TAIL = "</title><script>alert('c1')</script><img src=z onerror=alert('c2')> & \"引号\""
# Markdown that staff might paste from a web page, plus the usual tricks. Each payload calls
# alert('xN'); a browser test fails if any dialog opens. The first line's tricks fall within the
# 300 characters the JSON-LD description keeps (<!--<script> inside a <script> element switches
# the HTML tokenizer to "double escaped" state, so the element would swallow the rest of the page).
HOSTILE_DESCRIPTION = """\
**重要提示**：请带好身份证。<!--<script> </script><script>alert('x7')</script>

- 第一项：开幕式
- 第二项：*现场讲解*

[报名页面](https://example.org/signup)

<script>alert('x1')</script>
<img src=x onerror="alert('x2')">
[点我](javascript:alert('x3'))
<a href="javascript:alert('x4')">链接四</a>
<iframe src="https://evil.example/frame"></iframe>
<style>body{display:none}</style>
[数据](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
<p onclick="alert('x5')" onmouseover="alert('x5b')">段落五</p>
<scr<script>ipt>alert('x6')</scr</script>ipt>
<a href="JaVaScRiPt:alert('x8')">链接八</a>
<a href="jav&#x09;ascript:alert('x9')">链接九</a>
<svg onload="alert('x10')"><circle r=1></circle></svg>
<object data="https://evil.example/x.swf"></object>
<form action="https://evil.example/"><input name=q></form>
<meta http-equiv="refresh" content="0;url=https://evil.example/">
<base href="https://evil.example/">
<link rel=stylesheet href="https://evil.example/x.css">

end of the hostile text
"""


def replace_block(text: str, key: str, block: str) -> str:
    """Replace a top-level YAML key (and its indented continuation) with ``key: |`` + block."""
    lines = text.splitlines()
    out, skip = [], False
    for ln in lines:
        if ln.startswith(f"{key}:"):
            skip = True
            continue
        if skip and (ln.startswith(" ") or not ln.strip()):
            continue
        skip = False
        out.append(ln)
    out.append(f"{key}: |")
    out += ["  " + ln if ln else "" for ln in block.splitlines()]
    return "\n".join(out) + "\n"


@pytest.fixture(scope="session")
def hostile_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built from one campaign whose activity has a hostile title tail and description."""
    repo = copy_repo(tmp_path_factory.mktemp("hostilerepo") / "repo", [HOSTILE_CAMPAIGN])
    path = repo / "campaigns" / HOSTILE_CAMPAIGN / HOSTILE_FILE
    text = replace_block(path.read_text(encoding="utf-8"), "description", HOSTILE_DESCRIPTION)
    title = re.search(r"^title: (.*)$", text, re.M).group(1)
    text = text.replace(f"title: {title}", f"title: \"{title}{HOSTILE_TITLE_TAIL}\"", 1)
    organizer = re.search(r"^organizer: (.*)$", text, re.M).group(1)
    text = text.replace(f"organizer: {organizer}", f"organizer: \"{organizer}{HOSTILE_ORGANIZER_TAIL}\"", 1)
    path.write_text(text, encoding="utf-8")
    cpath = repo / "campaigns" / HOSTILE_CAMPAIGN / "campaign.yml"
    ctext = cpath.read_text(encoding="utf-8")
    ctitle = re.search(r"^title: (.*)$", ctext, re.M).group(1)
    hostile_title = json.dumps(ctitle + HOSTILE_CAMPAIGN_TAIL, ensure_ascii=False)
    ctext = ctext.replace(f"title: {ctitle}", f"title: {hostile_title}", 1)
    cpath.write_text(ctext, encoding="utf-8")
    out = tmp_path_factory.mktemp("hostilesite") / "site"
    assert build_site(repo, out, quiet=True), "the hostile description must not stop the build"
    return out


# -- the chunked search index (generator/outputs/search.py) ----------------------------------------------


def search_docs(site: Path) -> list[list[str]]:
    """Every search document in id order: [url, title, when, where, label, status]."""
    manifest = json.loads((site / "search" / "manifest.json").read_text(encoding="utf-8"))
    docs: list[list[str]] = []
    for k in range(0, manifest["count"], manifest["docsPerShard"]):
        shard = site / "search" / "d" / f"{k // manifest['docsPerShard']:x}.json"
        docs += json.loads(shard.read_text(encoding="utf-8"))
    assert len(docs) == manifest["count"]
    return docs


def search_page(visit, word: str):
    """Open the search page for a word, as a visitor arriving from the toolbar link would."""
    page = visit.go("search/")
    page.fill("input[name=q]", word)
    page.press("input[name=q]", "Enter")
    page.wait_for_selector(".kepu-search__link, .kepu-search__note:has-text('没有找到')", timeout=10_000)
    return page
