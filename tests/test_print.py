"""The district page printed as an A4 notice for a community board (issue 12, point 7).

A fixture campaign puts 12 single activities (realistic titles and addresses) in one district;
Chromium prints the page to PDF at A4 and the notice must fit on one page with the QR code of the
district page (about 3 cm), each activity's address, and none of the page's interactive chrome.
The PDF and (when poppler-utils is installed) a PNG of it go to tests/artifacts/ for a human.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from generator.commands.cli import build_site

pytest.register_assert_rewrite("site_fixtures")
from site_fixtures import copy_repo, serve  # noqa: E402

pytest_plugins = ["site_fixtures"]

ARTIFACTS = Path(__file__).parent / "artifacts"
CAMPAIGN = "2022-changzhou-kepuri"
DISTRICT = "wujin"
MODEL = "changzhou-daxue-shiyanshi-kaifangri.yml"  # one day, address, registration
CM = 96 / 2.54  # CSS pixels per centimetre
# (title, start, end, venue, address): as long as real ones in the samples
ACTIVITIES = [
    ("“走进气象站”青少年气象科普开放日", "2022-09-15 09:00", "2022-09-15 11:30", "武进区气象局观测场",
     "江苏省常州市武进区湖塘镇人民中路88号"),
    ("社区健康大讲堂：高血压、糖尿病的家庭自我管理", "2022-09-15 14:00", "2022-09-15 16:00",
     "湖塘镇花园社区党群服务中心", "江苏省常州市武进区湖塘镇花园街12号"),
    ("“双碳”知识进校园：节能减排小实验", "2022-09-16 09:30", "2022-09-16 11:00", "武进区星河实验小学",
     "江苏省常州市武进区湖塘镇星河路7号"),
    ("农业科技服务下乡：水稻病虫害绿色防控现场培训", "2022-09-16 14:00", "2022-09-16 17:00",
     "嘉泽镇农业技术推广站", "江苏省常州市武进区嘉泽镇嘉泽大道150号"),
    ("防灾减灾应急演练与自救互救技能体验", "2022-09-17 09:00", "2022-09-17 11:00", "武进区应急管理宣教基地",
     "江苏省常州市武进区南夏墅街道南湖西路16号"),
    ("常州花博园植物科普导览：认识身边的花草树木", "2022-09-17 14:00", "2022-09-17 16:30", "常州花博园",
     "江苏省常州市武进区嘉泽镇花博大道1号"),
    ("青少年机器人编程体验营", "2022-09-18 09:00", "2022-09-18 12:00", "武进区青少年活动中心",
     "江苏省常州市武进区湖塘镇延政中路2号"),
    ("科普电影展映：《流浪地球》背后的科学", "2022-09-18 14:00", "2022-09-18 16:30", "武进区文化馆影剧院",
     "江苏省常州市武进区湖塘镇广电路29号"),
    ("食品安全科普进社区：教你看懂食品标签", "2022-09-19 09:30", "2022-09-19 11:00", "牛塘镇卢家巷社区",
     "江苏省常州市武进区牛塘镇卢家巷路5号"),
    ("企业开放日：新能源汽车电池生产线参观", "2022-09-19 14:00", "2022-09-19 16:00",
     "武进国家高新区某电池企业", "江苏省常州市武进区武进国家高新区西湖路8号"),
    ("老年人防范电信网络诈骗专题讲座", "2022-09-20 09:30", "2022-09-20 11:00", "雪堰镇老年活动中心",
     "江苏省常州市武进区雪堰镇雪中路66号"),
    ("天文科普之夜：望远镜观星与月面观测", "2022-09-20 19:00", "2022-09-20 21:00", "武进区西太湖湿地公园",
     "江苏省常州市武进区西太湖大道1号"),
]


def page_count(pdf: bytes) -> int:
    """Pages in a PDF: its /Type /Page objects (not /Pages). pypdf would do it, but this one regex
    on Chromium's own uncompressed object headers is enough and keeps the test extras small."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


@pytest.fixture(scope="module")
def crowded_district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample campaign with the 武进 district holding exactly the 12 activities above."""
    repo = copy_repo(tmp_path_factory.mktemp("printrepo") / "repo", [CAMPAIGN])
    folder = repo / "campaigns" / CAMPAIGN / "activities" / DISTRICT
    model = (folder / MODEL).read_text(encoding="utf-8")
    shutil.rmtree(folder)
    folder.mkdir()
    for k, (title, start, end, venue, address) in enumerate(ACTIVITIES, 1):
        text = re.sub(r"^kepuri_id:.*\n", "", model, flags=re.M)
        text = re.sub(r"^title: .*$", f"title: {title}", text, count=1, flags=re.M)
        text = re.sub(r"^start: .*$", f"start: {start}\nend: {end}", text, count=1, flags=re.M)
        text = re.sub(r"^  name: .*$", f"  name: {venue}", text, count=1, flags=re.M)
        text = re.sub(r"^  address: .*$", f"  address: {address}", text, count=1, flags=re.M)
        (folder / f"print-test-{k:02d}.yml").write_text(text, encoding="utf-8")
    out = tmp_path_factory.mktemp("printsite") / "site"
    assert build_site(repo, out, quiet=True), "the crowded district fixture does not build"
    return out


@pytest.fixture
def printed(browser, crowded_district: Path):
    with serve(crowded_district) as base:
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        try:
            page = ctx.new_page()
            page.goto(f"{base}{CAMPAIGN}/{DISTRICT}/", wait_until="load")
            page.evaluate("document.fonts.ready")
            assert page.locator("li.kepu-item").count() == len(ACTIVITIES), "each activity is listed once"
            page.emulate_media(media="print")
            yield page
        finally:
            ctx.close()


def test_printed_notice_shows_qr_addresses_and_no_chrome(printed):
    qr = printed.locator(".kepu-print-footer .kepu-print-qr svg")
    assert qr.is_visible(), "the QR code is not printed"
    box = qr.bounding_box()
    assert 2.5 * CM <= box["width"] <= 3.5 * CM and abs(box["width"] - box["height"]) < 2, \
        f"the QR code prints {box['width'] / CM:.1f} × {box['height'] / CM:.1f} cm, not about 3 cm"
    addresses = printed.locator(".kepu-item__address")
    assert addresses.count() == len(ACTIVITIES)
    for k in range(addresses.count()):
        assert addresses.nth(k).is_visible(), f"address {k + 1} is not printed"
        assert addresses.nth(k).inner_text().strip() == ACTIVITIES[k][4]
    shown = []
    for sel in ("header", ".md-header", ".md-banner", ".kepu-toolbar", ".md-sidebar", ".md-footer",
                ".kepu-subscribe", ".kepu-print-hint", ".kepu-near", ".kepu-filters", ".kepu-when-filter",
                ".md-top", "button", "select", "input"):
        loc = printed.locator(sel)
        shown += [sel for k in range(loc.count()) if loc.nth(k).is_visible()]
    assert not shown, f"interactive chrome is printed: {sorted(set(shown))}"


def test_twelve_activities_fit_on_one_a4_page(printed):
    pdf = printed.pdf(format="A4", print_background=True)
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / "print-district-12.pdf"
    out.write_bytes(pdf)
    for old in ARTIFACTS.glob(f"{out.stem}-*.png"):
        old.unlink()
    if shutil.which("pdftoppm"):  # a picture for a human to look at (poppler-utils)
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(out), str(out.with_suffix(""))], check=True)
    pages = page_count(pdf)
    assert pages >= 1, "no page objects found in the PDF"
    assert pages == 1, f"a district with {len(ACTIVITIES)} activities prints on {pages} A4 pages"
