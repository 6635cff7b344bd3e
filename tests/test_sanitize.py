"""Descriptions are Markdown from YAML, and raw HTML in them is not trusted (SPEC "Activity file").

Unit level: ``generator.outputs.pages.sanitize_markdown`` on hostile input, judged by the parsed result
(BeautifulSoup), never by string comparison. End to end: a copy of a sample campaign whose activity
has a hostile description and title, built, and the built pages read back.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from generator.outputs.pages import sanitize_markdown

pytest.register_assert_rewrite("site_fixtures")
from site_fixtures import (  # noqa: E402
    HOSTILE_CAMPAIGN,
    HOSTILE_CAMPAIGN_TAIL,
    HOSTILE_ORGANIZER_TAIL,
    HOSTILE_SLUG,
    HOSTILE_TITLE_TAIL,
    search_docs,
)

pytest_plugins = ["site_fixtures"]

FORBIDDEN_TAGS = {"script", "iframe", "frame", "frameset", "style", "object", "embed", "applet", "svg",
                  "math", "form", "input", "button", "textarea", "select", "meta", "base", "link", "img",
                  "video", "audio", "source", "template", "noscript"}
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcset"}
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")


def _scheme(url: str) -> str:
    # browsers ignore ASCII whitespace and control characters inside a scheme
    return re.sub(r"[\x00-\x20]", "", url).lower()


def unsafe_parts(soup) -> list[str]:
    """Everything in a parsed fragment that could run script, load from elsewhere or restyle."""
    found = []
    for el in soup.find_all(True):
        if el.name in FORBIDDEN_TAGS:
            found.append(f"<{el.name}> element")
        for attr, value in el.attrs.items():
            value = " ".join(value) if isinstance(value, list) else str(value)
            if attr.lower().startswith("on"):
                found.append(f"<{el.name} {attr}=…> event handler")
            if attr.lower() == "style":
                found.append(f"<{el.name} style=…>")
            if attr.lower() in URL_ATTRS and _scheme(value).startswith(BAD_SCHEMES):
                found.append(f"<{el.name} {attr}={value!r}>")
    return found


def clean(text: str) -> BeautifulSoup:
    out = sanitize_markdown(text)
    soup = BeautifulSoup(str(out), "html.parser")
    problems = unsafe_parts(soup)
    assert not problems, f"unsafe output for {text!r}:\n  {out}\n  " + "\n  ".join(problems)
    return soup


HOSTILE = {
    "script": "<script>alert(1)</script>正文",
    "script-upper": "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>正文",
    "img-onerror": '<img src=x onerror="alert(1)">',
    "md-javascript-link": "[点我](javascript:alert(1))",
    "md-javascript-mixed-case": "[点我](JaVaScRiPt:alert(1))",
    "md-javascript-reference": "[点我][1]\n\n[1]: javascript:alert(1)",
    "md-autolink-javascript": "<javascript:alert(1)>",
    "html-javascript-link": '<a href="javascript:alert(1)">链接</a>',
    "html-javascript-entity": '<a href="jav&#x09;ascript:alert(1)">链接</a>',
    "html-javascript-leading-space": '<a href="  javascript:alert(1)">链接</a>',
    "html-vbscript": '<a href="vbscript:msgbox(1)">链接</a>',
    "iframe": '<iframe src="https://evil.example/"></iframe>',
    "style-element": "<style>body{display:none}</style>正文",
    "style-attribute": '<p style="position:fixed;top:0">盖住页面</p>',
    "md-data-url": "[数据](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "html-data-url": '<a href="data:text/html,<script>alert(1)</script>">数据</a>',
    "md-image-data": "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "md-image-remote": "![远程图片](https://evil.example/track.png)",
    "event-handlers": '<p onclick="alert(1)" onmouseover="alert(2)">段落</p>'
                      '<div onfocus=alert(3) tabindex=0>x</div>',
    "nested-script": "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "nested-script-2": "<<script>script>alert(1)<</script>/script>",
    "svg-onload": '<svg onload="alert(1)"><circle r="1"/></svg>',
    "math-xlink": '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "object-embed": '<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x">',
    "form": '<form action="https://evil.example/"><input name="q"><button>提交</button></form>',
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    "base": '<base href="https://evil.example/">',
    "link-stylesheet": '<link rel="stylesheet" href="https://evil.example/x.css">',
    "close-script-early": "</script><script>alert(1)</script>",
    "comment-script": "<!--<script>alert(1)</script>-->正文",
    "template": "<template><script>alert(1)</script></template>",
    "noscript-trick": '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "attribute-breakout": '[x](https://ok.example "\\" onmouseover=\\"alert(1))',
    "link-title-html": '[x](https://ok.example "<script>alert(1)</script>")',
    "html-in-table": "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | <script>x</script> |",
    "html-in-list": "- <a href='javascript:alert(1)'>一</a>\n- <iframe></iframe>二",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_markup_is_neutralised(text: str):
    soup = clean(text)
    # and nothing that parses as a script tag survives, even as stray markup
    assert not re.search(r"<\s*script", str(soup), re.I), str(soup)


def test_visible_text_of_hostile_input_is_kept_as_text():
    soup = clean("<script>alert(1)</script>正文 <b onclick=x()>加粗</b>")
    text = soup.get_text()
    assert "正文" in text and "加粗" in text
    assert "alert" not in text, "the content of a script element should be dropped, not shown"


def test_links_keep_safe_schemes_and_get_rel():
    soup = clean("[官网](https://example.org/a?b=1&c=2) [电话](tel:0519-86001235) "
                 "[邮件](mailto:kepu@example.cn) [旧站](http://example.org/)")
    hrefs = [a["href"] for a in soup.find_all("a")]
    assert hrefs == ["https://example.org/a?b=1&c=2", "tel:0519-86001235", "mailto:kepu@example.cn",
                     "http://example.org/"]
    for a in soup.find_all("a"):
        rel = set(a.get("rel") or [])
        assert {"noopener", "nofollow"} <= rel, a


def test_javascript_link_keeps_its_text_but_loses_href():
    soup = clean("[点我](javascript:alert(1))")
    a = soup.find("a")
    assert a is None or not a.get("href"), a
    assert "点我" in soup.get_text()


def test_normal_markdown_survives():
    text = """\
**重要**：请*提前*到场。

1. 签到
2. 开幕式

- 青少年
- 老年人

### 交通

乘坐 `B1` 路公交。

> 雨天照常举行。

| 场次 | 时间 |
|---|---|
| 上午 | 09:00 |

[报名](https://example.org/signup)
"""
    soup = clean(text)
    assert soup.find("strong").get_text() == "重要"
    assert soup.find("em").get_text() == "提前"
    assert [li.get_text() for li in soup.select("ol > li")] == ["签到", "开幕式"]
    assert [li.get_text() for li in soup.select("ul > li")] == ["青少年", "老年人"]
    assert soup.find("h3").get_text() == "交通"
    assert soup.find("code").get_text() == "B1"
    assert "雨天照常举行" in soup.find("blockquote").get_text()
    assert [td.get_text() for td in soup.select("table td")] == ["上午", "09:00"]
    assert soup.find("a", href="https://example.org/signup").get_text() == "报名"


@pytest.mark.parametrize("text", [None, "", "纯文字，没有标记。"])
def test_plain_and_empty(text):
    soup = clean(text)
    assert soup.get_text().strip() == (text or "")


# -- end to end: the built page --------------------------------------------------------------------


def hostile_page(hostile_build):
    path = hostile_build / HOSTILE_CAMPAIGN / "activities" / HOSTILE_SLUG / "index.html"
    assert path.is_file(), "the hostile activity page was not built"
    return path


def test_built_page_description_is_clean_and_formatted(hostile_build):
    soup = BeautifulSoup(hostile_page(hostile_build).read_text(encoding="utf-8"), "html.parser")
    desc = soup.select_one(".kepu-description")
    assert desc is not None, "the description section is missing"
    problems = unsafe_parts(desc)
    assert not problems, "\n".join(problems)
    assert desc.find("strong") and "重要提示" in desc.find("strong").get_text()
    assert len(desc.select("ul > li")) == 2
    assert desc.find("a", href="https://example.org/signup") is not None
    assert "end of the hostile text" in desc.get_text(), "the description was cut short"


def test_built_page_has_no_injected_script_or_handler(hostile_build):
    page = hostile_page(hostile_build)
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    sibling = next(p for p in (page.parent.parent).glob("*/index.html") if p != page)
    clean_soup = BeautifulSoup(sibling.read_text(encoding="utf-8"), "html.parser")
    # the theme has its own scripts and search form: compare with an untouched page of the same build
    for tag in ("script", "iframe", "object", "embed", "form", "input", "img", "svg", "style", "base",
                "meta", "link"):
        assert len(soup.select(tag)) == len(clean_soup.select(tag)), f"extra <{tag}> in the page"
    handlers = [(el.name, a) for el in soup.find_all(True) for a in el.attrs if a.lower().startswith("on")]
    assert not handlers, handlers
    bad = [a.get("href") for a in soup.find_all(href=True) if _scheme(a["href"]).startswith(BAD_SCHEMES)]
    assert not bad, bad
    styles = [link["href"] for link in soup.select('link[rel="stylesheet"]') if "evil" in link["href"]]
    assert not styles


def test_built_page_shows_hostile_title_as_text(hostile_build):
    soup = BeautifulSoup(hostile_page(hostile_build).read_text(encoding="utf-8"), "html.parser")
    h1 = soup.find("h1")
    assert HOSTILE_TITLE_TAIL in h1.get_text(), "the title should be shown literally"
    assert h1.find("img") is None, "the title's markup became an element"
    assert HOSTILE_TITLE_TAIL in soup.find("title").get_text()
    organizer = [dd for dd in soup.select(".kepu-facts dd") if HOSTILE_ORGANIZER_TAIL in dd.get_text()]
    assert organizer and not organizer[0].find("img"), "the organizer should be shown literally"
    for listing in ("index.html", "muye/index.html"):
        page = BeautifulSoup((hostile_build / HOSTILE_CAMPAIGN / listing).read_text(encoding="utf-8"),
                             "html.parser")
        assert not page.select(".kepu-listing img"), f"{listing}: the title's markup became an element"


def soup_of_page(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_campaign_title_is_text_on_every_page(hostile_build):
    """The campaign title goes to MkDocs (nav, <title>, header, previous/next footer), whose
    templates do not escape: every page of the build must show it as text, never as markup."""
    pages = sorted(hostile_build.rglob("*.html"))
    assert len(pages) > 20
    seen_in_title = 0
    for path in pages:
        raw = path.read_text(encoding="utf-8")
        soup = BeautifulSoup(raw, "html.parser")
        rel = path.relative_to(hostile_build)
        scripts = [s.get_text() for s in soup.find_all("script")
                   if "alert(" in s.get_text() and s.get("type") != "application/ld+json"]
        assert not scripts, f"{rel}: the campaign title became a <script>: {scripts}"
        handlers = [(el.name, a) for el in soup.find_all(True) for a in el.attrs
                    if a.lower().startswith("on")]
        assert not handlers, f"{rel}: event handler attributes {handlers}"
        assert "<script>alert('c1')" not in raw, f"{rel}: the title is in the page unescaped"
        title = soup.find("title")
        if title is not None and HOSTILE_CAMPAIGN_TAIL in title.get_text():
            seen_in_title += 1
        for label in soup.select(".md-nav__link, .md-footer__title"):
            text = label.get_text()
            if "alert('c1')" in text:
                assert HOSTILE_CAMPAIGN_TAIL in text, f"{rel}: nav label changed: {text!r}"
                assert "&amp;" not in text and "&lt;" not in text, f"{rel}: escaped twice: {text!r}"
        for link in soup.select(".md-footer__link[aria-label]"):
            assert "&lt;" not in link["aria-label"], f"{rel}: aria-label escaped twice"
    assert seen_in_title >= 1
    campaign = soup_of_page(hostile_build / HOSTILE_CAMPAIGN / "index.html")
    assert HOSTILE_CAMPAIGN_TAIL in campaign.find("title").get_text(), "the campaign page's <title>"


def test_built_page_json_ld_is_inert(hostile_build):
    """JSON-LD carries the description. Escaping only "</" is not enough: "<!--<script>" inside a
    <script> element puts the HTML tokenizer in the "script data double escaped" state, and the
    element then swallows the page up to the NEXT </script> (Chromium: footer and theme scripts gone)."""
    html = hostile_page(hostile_build).read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    (block,) = soup.select('script[type="application/ld+json"]')
    raw = block.string
    data = json.loads(raw)
    assert data["@type"] == "Event"
    hazards = [h for h in ("<!--", "<script", "</script") if h in raw.lower()]
    assert not hazards, (
        f"JSON-LD contains {hazards}; escape < > & as \\u003c \\u003e \\u0026 when serialising "
        "(generator/outputs/pages.py Renderer.activity_page)"
    )


def test_search_index_entry_is_not_markup(hostile_build):
    """Search results are built with textContent, and the index holds the title as plain text:
    the hostile title is in the index verbatim (not dropped) and its document is well-formed."""
    url = f"{HOSTILE_CAMPAIGN}/activities/{HOSTILE_SLUG}/"
    (entry,) = [d for d in search_docs(hostile_build) if d[0] == url]
    script = (Path(__file__).parent.parent / "site_theme" / "assets" / "kepu-search.js").read_text("utf-8")
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script, "results are parsed as HTML"
    assert "<" in entry[1], "the hostile title should reach the index as text, not be silently changed"
