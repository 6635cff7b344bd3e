"""Page weight and precompressed copies (issue 16, "Weight").

Activity and district pages get a lean chrome (site_theme/main.html, `kepu_lean` from the shell's
front matter): no campaign-wide nav, no drawer, a slim material config. With `precompress` in the
kepu plugin options every text file gets a .gz (and .br) copy with reproducible bytes.
"""

from __future__ import annotations

import filecmp
import gzip
import importlib.util
import random
import re
import statistics
from pathlib import Path

import pytest
from mkdocs.exceptions import PluginError

from generator.commands.cli import build_site
from generator.mkdocs.plugin import unused_theme_file
from generator.mkdocs.shell import PRECOMPRESS_SUFFIXES, precompress_kinds
from generator.outputs.pages import squeeze

pytest.register_assert_rewrite("site_fixtures")
from site_fixtures import copy_repo, soup_of  # noqa: E402

pytest_plugins = ["site_fixtures"]

# What the sample reaches (bench/run.py --site prints it): the median activity page, the largest
# (a weekly activity whose JSON-LD lists 16 sessions), and the chrome around a page's own body.
# Before the lean chrome they were 23.7 KB, 36.4 KB and ~13 KB; before the shorter QR path, links
# and JSON-LD description 13.9 KB and 26.1 KB; before the dashed QR stroke, squeezed bodies and
# the shells' unused scripts 13.1 KB, 25.6 KB and 4.4 KB; now 12.1 KB, 24.6 KB and 4.2 KB.
MEDIAN_PAGE = 12.5 * 1024
LARGEST_PAGE = 25.5 * 1024
CHROME = 4.4 * 1024
CID = "2023-chengdu-kepuri"


def activity_pages(site: Path) -> list[Path]:
    pages = sorted(site.glob("*/activities/*/index.html"))
    assert pages, "no activity pages"
    return pages


def test_activity_pages_weigh_what_the_issue_asks(built_site: Path):
    sizes = {p: p.stat().st_size for p in activity_pages(built_site)}
    assert statistics.median(sizes.values()) <= MEDIAN_PAGE, f"median {statistics.median(sizes.values())} B"
    heavy = {str(p.relative_to(built_site)): n for p, n in sizes.items() if n > LARGEST_PAGE}
    assert not heavy, f"activity pages over {LARGEST_PAGE} B: {heavy}"


@pytest.mark.parametrize("kind", ["activity", "district"])
def test_filled_pages_have_a_lean_chrome(built_site: Path, kind: str):
    pages = (activity_pages(built_site) if kind == "activity"
             else sorted(p for p in built_site.glob(f"{CID}/*/index.html") if p.parent.name not in
                         ("activities", "stats")))
    assert pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        body = re.search(r'<div class="kepu kepu-(?:activity|district).*(?=</article>)', text, re.S)
        assert body, page
        chrome = len(text.encode()) - len(body[0].encode())
        assert chrome <= CHROME, f"{page}: {chrome} B around the page's own body"
        soup = soup_of(page)
        # no campaign-wide nav, no drawer to open it, no search texts in material's config
        assert not soup.select(".md-sidebar, .md-nav, label[for='__drawer'].md-header__button"), page
        assert "search.result" not in text, page
        # what stays: the look's header with the way home, the 大字 toolbar, the footer, breadcrumbs
        assert soup.select_one(".md-header a.md-logo[href]"), page
        assert soup.select_one(".kepu-toolbar .kepu-large-toggle"), page
        assert soup.select_one("footer.md-footer .kepu-copyright"), page
        assert soup.select_one(".kepu-up a[href]"), page
        assert soup.select_one("script#__config") and soup.select_one("script[src$='kepu.js']"), page
        # what these pages never use: MkDocs' generator tag, material's content-tabs script, the
        # search page's script
        assert not soup.select("meta[name=generator], script[src$='kepu-search.js']"), page
        assert "__tabbed_" not in text, page


def test_the_search_page_keeps_its_script(built_site: Path):
    assert soup_of(built_site / "search" / "index.html").select_one("script[src$='kepu-search.js']")


def test_no_theme_files_that_no_page_loads(built_site: Path):
    # material's search is off (the site has its own): no lunr, search worker or source maps
    assets = {str(p.relative_to(built_site)) for p in (built_site / "assets").rglob("*") if p.is_file()}
    assert not [a for a in assets if "lunr" in a or "workers" in a or a.endswith(".map")], sorted(assets)
    for page in (built_site / "index.html", activity_pages(built_site)[0]):
        for ref in soup_of(page).select("script[src], link[rel=stylesheet], link[rel=icon]"):
            target = (page.parent / (ref.get("src") or ref.get("href"))).resolve()
            assert target.is_file(), f"{page}: {ref} is missing"
    assert unused_theme_file("assets/javascripts/lunr/min/lunr.zh.min.js")
    assert unused_theme_file("assets/stylesheets/main.57a0d79d.min.css.map")
    assert not unused_theme_file("assets/javascripts/bundle.a5f9d56c.min.js")
    assert not unused_theme_file("guide/example.map")


def test_squeeze_leaves_preformatted_text_alone():
    assert squeeze("<p>一\n   二</p>\n\n  <p>三</p>") == "<p>一\n二</p>\n<p>三</p>"
    code = "<pre><code>a\n    b\n\n</code></pre>\n  <p>x</p>"
    assert squeeze(code) == code
    assert squeeze("　　首行缩进\n　　第二段") == "　　首行缩进\n　　第二段"  # U+3000 is text


def test_squeeze_is_the_whitespace_rule():
    """squeeze strips lines (for speed); what it must do is replace every run of ASCII whitespace
    holding a line break with one line break, as this regular expression does."""
    rule = re.compile(r"[ \t\r]*\n[ \t\r\n]*")
    rng = random.Random(16)
    pieces = [" ", "\t", "\r", "\n", "　", "a", "<p>", "二"]
    cases = ["", "\n", " ", "\n\n", " \n ", "a\n", "\na", " a \n", "\r\n\t", "a\r\rb\n \r", "\u3000\n\u3000"]
    cases += ["".join(rng.choices(pieces, k=rng.randrange(1, 30))) for _ in range(3000)]
    for text in cases:
        assert squeeze(text) == rule.sub("\n", text), repr(text)


def test_other_pages_keep_the_nav(built_site: Path):
    assert soup_of(built_site / CID / "index.html").select(".md-sidebar--primary .md-nav__link")


# -- precompressed copies -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def precompressed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, bool]:
    """The same repository built twice with precompression (.br too when brotli is installed)."""
    has_br = importlib.util.find_spec("brotli") is not None
    kinds = "[gz, br]" if has_br else "true"
    base = tmp_path_factory.mktemp("precompress")
    repo = copy_repo(base / "repo", [CID])
    cfg = repo / "mkdocs.yml"
    text = cfg.read_text(encoding="utf-8")
    assert re.search(r"^  - kepu\n", text, re.M), "mkdocs.yml lists the plugin as '  - kepu'"
    options = f"  - kepu:\n      precompress: {kinds}\n"
    cfg.write_text(re.sub(r"^  - kepu\n", options, text, count=1, flags=re.M), encoding="utf-8")
    for out in ("one", "two"):
        assert build_site(repo, base / out, quiet=True), "the precompressed build failed (see stderr)"
    return base / "one", base / "two", has_br


def test_every_text_file_has_a_gz_copy_of_the_same_bytes(precompressed: tuple[Path, Path, bool]):
    site, _, _ = precompressed
    texts = [p for p in site.rglob("*") if p.is_file() and p.suffix in PRECOMPRESS_SUFFIXES]
    kinds = {p.suffix for p in texts}
    assert {".html", ".json", ".xml", ".ics"} <= kinds, kinds
    for p in texts:
        gz = p.with_name(p.name + ".gz")
        assert gz.is_file(), f"{p}: no .gz"
        raw = gz.read_bytes()
        assert raw[4:8] == b"\0\0\0\0", f"{gz}: gzip mtime is not 0"
        assert gzip.decompress(raw) == p.read_bytes(), f"{gz} does not decompress to {p.name}"


def test_br_copies_decompress_to_the_same_bytes(precompressed: tuple[Path, Path, bool]):
    site, _, has_br = precompressed
    if not has_br:
        pytest.skip("brotli is not installed (optional: pip install brotli)")
    import brotli

    pages = activity_pages(site)
    for p in pages:
        assert brotli.decompress(p.with_name(p.name + ".br").read_bytes()) == p.read_bytes(), p


def test_two_precompressed_builds_are_byte_identical(precompressed: tuple[Path, Path, bool]):
    one, two, _ = precompressed
    files = sorted(str(p.relative_to(one)) for p in one.rglob("*") if p.is_file())
    assert files == sorted(str(p.relative_to(two)) for p in two.rglob("*") if p.is_file())
    match, mismatch, errors = filecmp.cmpfiles(one, two, files, shallow=False)
    assert not mismatch and not errors, f"differ between two builds: {mismatch[:5]} {errors[:5]}"
    assert any(f.endswith(".html.gz") for f in match)


def test_without_the_option_there_are_no_copies(built_site: Path):
    # the sample's mkdocs.yml leaves it off: only the sitemap's own .gz, which search engines read
    assert [p.name for p in built_site.rglob("*.gz")] == ["sitemap.xml.gz"]
    assert not list(built_site.rglob("*.br"))


def test_a_bad_precompress_option_is_a_clear_message():
    assert precompress_kinds(False) == [] and precompress_kinds(True) == ["gz"]
    if importlib.util.find_spec("brotli") is not None:
        assert precompress_kinds(["gz", ".br"]) == ["gz", "br"]
    else:
        with pytest.raises(PluginError, match="没有安装 brotli"):
            precompress_kinds(["gz", "br"])
    with pytest.raises(PluginError, match="precompress 只能是"):
        precompress_kinds(["zip"])
