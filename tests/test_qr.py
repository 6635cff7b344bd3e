"""The QR code on each activity page must scan to that page's URL.

The SVG path is read back into a module grid (no image library needed) and decoded with a real
QR reader, so a wrong offset, run length or quiet zone fails here."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
import zxingcpp
from bs4 import BeautifulSoup

from generator.outputs.pages import qr_svg

pytest_plugins = ["site_fixtures"]
SCALE = 4


def decode_svg(svg: str) -> str | None:
    size = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', svg, re.I).group(1))  # html.parser lowercases it
    grid = bytearray(b"\xff" * size * size)
    # a small interpreter for what a stroked QR path may use: M/m move (absolute/relative), H/h and
    # V/v draw a one-module stroke (absolute/relative) on the centre line of its modules, a
    # transform moving the path down, and a dash pattern (stroke-dasharray) along the whole path
    path = re.search(r'<path[^>]* d="([^"]*)"', svg).group(1)
    shift = re.search(r'<path[^>]* transform="translate\(0 ([\d.]+)\)"', svg)
    dash = re.search(r'<path[^>]* stroke-dasharray="([^"]*)"', svg)
    pattern = [int(v) for v in dash.group(1).replace(",", " ").split()] if dash else []
    if len(pattern) % 2:
        pattern *= 2  # as SVG repeats an odd list
    # the pattern as one flag per unit of path length: drawn or not
    painted = [i % 2 == 0 for i, k in enumerate(pattern) for _ in range(k)]
    x = y = 0.0
    y_off = float(shift.group(1)) if shift else 0.0
    walked = 0
    for cmd, args in re.findall(r"([MmHhVv])([^MmHhVv]*)", path):
        nums = [float(v) for v in re.findall(r"-?[\d.]+", args)]
        if cmd in "Mm":
            dx, dy = nums[0], nums[1]
            x, y = (dx, dy) if cmd == "M" else (x + dx, y + dy)
            continue
        if cmd in "Vv":
            end = nums[0] if cmd == "V" else y + nums[0]
            steps = int(abs(end - y))
            on = [painted[(walked + i) % len(painted)] for i in range(steps)] if painted else [True] * steps
            assert not any(on), "a vertical stroke is painted: it would cover half of two modules"
            walked += steps
            y = end
            continue
        end = nums[0] if cmd == "H" else x + nums[0]
        row = int(y + y_off)  # strokes run along the middle (.5) of their row
        step = 1 if end > x else -1
        for i in range(int(abs(end - x))):
            col = int(x) + i * step if step > 0 else int(x) - 1 - i
            if not painted or painted[(walked + i) % len(painted)]:
                grid[row * size + col] = 0
        walked += int(abs(end - x))
        x = end
    # scale up so the reader sees modules of several pixels, as a phone camera would
    big = bytearray()
    for y in range(size):
        row = bytes(b for b in grid[y * size : (y + 1) * size] for _ in range(SCALE))
        big += row * SCALE
    img = memoryview(bytes(big)).cast("B", (size * SCALE, size * SCALE))
    found = zxingcpp.read_barcode(img)
    return found.text if found else None


@pytest.mark.parametrize("url", [
    "https://kepu.example.cn/2022-changzhou-kepuri/activities/qidong-yishi-kexuejia-jingshen-jiangtang/",
    "https://kepu.example.cn/a/",
    "https://kepu.example.cn/" + "x" * 200 + "/",
])
def test_qr_svg_scans_to_the_text(url: str):
    assert decode_svg(str(qr_svg(url))) == url


def test_qr_decoder_is_not_fooled_by_a_blank_code():
    svg = str(qr_svg("https://kepu.example.cn/a/"))
    assert decode_svg(re.sub(r'd="[^"]*"', 'd=""', svg)) is None


def assert_qr_leads_to_canonical(pages: list[Path], selector: str) -> None:
    """The QR code under ``selector`` on each page decodes to the page's canonical URL."""
    assert pages
    for page in pages:
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        svg = soup.select_one(f"{selector} svg")
        assert svg is not None, f"{page}: no QR code ({selector})"
        canonical = soup.select_one('link[rel="canonical"]')["href"]
        assert decode_svg(str(svg)) == canonical, f"{page}: QR does not lead to {canonical}"


def test_every_activity_page_qr_scans_to_its_own_url(built_site: Path):
    assert_qr_leads_to_canonical(sorted(built_site.glob("*/activities/*/index.html")), ".kepu-qr")


def test_every_district_notice_qr_scans_to_its_page(built_site: Path):
    pages = sorted(p for p in built_site.glob("*/*/index.html")
                   if p.parent.name not in ("activities", "stats") and (p.parent / "calendar.ics").is_file())
    assert_qr_leads_to_canonical(pages, ".kepu-print-qr")


def test_the_qr_path_paints_no_area_and_only_its_dashes():
    # one stroke snaking through the rows: without fill="none" its zigzag would be filled black;
    # the dash pattern covers exactly its length (it would repeat otherwise), and the stroke turns
    # outside the code, one module into the quiet zone (a dash ending at a corner gets a join
    # drawn in some renderers)
    svg = str(qr_svg("https://kepu.example.cn/a/"))
    path = re.search(r"<path([^>]*)/>", svg).group(1)
    assert 'fill="none"' in path
    n = int(re.search(r'viewBox="0 0 (\d+)', svg).group(1)) - 8
    dashes = [int(v) for v in re.search(r'stroke-dasharray="([^"]*)"', path).group(1).split()]
    d = re.search(r' d="([^"]*)"', path).group(1)
    assert sum(dashes) == sum(abs(int(v)) for v in re.findall(r"[hv](-?\d+)", d))
    x, turns = 4, []
    for cmd, v in re.findall(r"([hv])(-?\d+)", d):
        if cmd == "h":
            x += int(v)
            turns.append(x)
    assert set(turns[:-1]) == {3, n + 5}, turns


def test_the_dash_pattern_is_the_module_runs_along_the_snake():
    """qr_svg finds the runs by looking pairs of them up (for speed): they must be exactly the
    runs of dark and light modules along the path, for codes of every size."""
    for length in range(0, 400, 7):
        url = f"https://kepu.example.cn/{'汉x' * length}/"
        code = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M", data_mask=1)
        grid = memoryview(code.to_image(scale=1, add_quiet_zones=False)).tolist()
        n = len(grid)
        snake: list[bool] = []  # dark or not, along the path (turns are one light module out and back)
        for y in range(n):
            row = [v == 0 for v in grid[y]]
            snake += (row if y % 2 == 0 else row[::-1]) + [False] * 3
        snake = snake[:-2]
        runs = [len(list(g)) for _, g in itertools.groupby(snake)]
        svg = str(qr_svg(url))
        assert re.search(r'stroke-dasharray="([^"]*)"', svg).group(1) == " ".join(map(str, runs)), length
