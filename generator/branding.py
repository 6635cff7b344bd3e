"""Step 4, branding: labels, logos and title rules, all driven by campaigns/brands.yml."""

from __future__ import annotations

import re
import string
from pathlib import Path

from .convert import INVALID, MAX_YEAR, MIN_YEAR, Converter, suggest
from .load import read_yaml
from .model import Brand, Campaign, Logo
from .problems import Pos, Problems

LOGO_DIR = Path("site_theme") / "assets" / "logos"
LOGO_EXTS = (".svg", ".png", ".jpg", ".webp")


HEX_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


def contrast_with_white(hex_colour: str) -> float:
    """WCAG contrast ratio of white text on this colour (labels are white on the accent)."""

    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    lum = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return 1.05 / (lum + 0.05)


LABEL_FIELDS = ("year", "edition")


def _label_parts(template: str) -> list[tuple[str, str | None, str | None, str | None]]:
    """The template as string.Formatter sees it, without formatting anything: str.format on a
    staff-written template would run "{year:>3000000000}" (gigabytes) or "{year.__class__}"."""
    return list(string.Formatter().parse(template))


def label_problem(template: str) -> str:
    """Why a brands.yml label template cannot be used, or "" when it is fine."""
    fix = "标签模板只能用 {year}（年份）和 {edition}（届次），如 \"{year}年全国科普日活动\""
    try:
        parts = _label_parts(template)
    except ValueError:
        return f"{fix}：花括号没有配对（要显示花括号本身，请写 {{{{ 或 }}}}）"
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in LABEL_FIELDS:
            return f"{fix}，不能写 {{{name}}}"
        if spec or conversion:
            return f"{fix}，花括号里不能再加冒号或感叹号后的格式"
    return ""


def label_fields(template: str) -> set[str]:
    try:
        return {name for _, name, _, _ in _label_parts(template) if name}
    except ValueError:
        return set()


def render_label(template: str, year: int, edition: int | None) -> str:
    """Fill in {year} and {edition} by hand (never str.format, see _label_parts); anything else
    in braces is dropped, though check has refused it already."""
    values = {"year": str(year), "edition": "" if edition is None else str(edition)}
    try:
        parts = _label_parts(template)
    except ValueError:
        return template
    return "".join(text + values.get(name or "", "") for text, name, _, _ in parts)


def read_brands(file: Path, display: str, problems: Problems) -> dict[str, Brand]:
    if not file.exists():
        problems.error(Pos(display), "缺少品牌规则文件 brands.yml：请从示例仓库复制一份")
        return {}
    tree = read_yaml(file, display, problems, inside=file.parent.parent)  # the repository
    if tree is None:
        return {}
    brands = Converter(problems).dict(tree, Brand, "")
    if brands is INVALID:
        return {}
    for key, brand in brands.items():
        brand.id = key
        message = label_problem(brand.label)
        if message:
            problems.error(brand.field_pos.get("label", brand.pos), message, "label")
        for name in ("from_", "until"):
            year = getattr(brand.years, name) if brand.years else None
            if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
                problems.error(
                    brand.field_pos.get(f"years.{name.rstrip('_')}", brand.pos),
                    f"年份 {year} 超出 {MIN_YEAR}–{MAX_YEAR}：是不是年份写错了？",
                    f"years.{name.rstrip('_')}",
                )
        for name in ("primary", "accent"):
            colour = getattr(brand.colors, name) if brand.colors else None
            where = brand.field_pos.get("colors", brand.pos)
            if colour is None:
                continue
            if not HEX_RE.match(colour):
                problems.error(where, f"颜色 {colour} 要写成 #rrggbb，如 #0d5aa7", f"colors.{name}")
            elif (ratio := contrast_with_white(colour)) < 4.5:
                problems.error(
                    where,
                    f"颜色 {colour} 与白色文字的对比度只有 {ratio:.1f}:1，低于 4.5:1，"
                    "老年人看不清：请用更深的颜色",
                    f"colors.{name}",
                )
        for other in brand.also:
            if other not in brands:
                problems.error(brand.field_pos["also"], f"没有品牌 {other}{suggest(other, brands)}", "also")
    return brands


def apply(campaign: Campaign, brands: dict[str, Brand], problems: Problems) -> None:
    """Attach the brand, its label and logos to a validated campaign; check the brand's years."""
    brand = brands.get(campaign.brand)
    pos = campaign.field_pos.get("brand", campaign.pos)
    if brand is None:
        problems.error(
            pos, f"brands.yml 中没有品牌 {campaign.brand}{suggest(campaign.brand, brands)}", "brand"
        )
        return
    campaign.brand_info = brand
    years = brand.years
    if years and years.until and campaign.year > years.until:
        nxt = f"，请改用 brand: {years.successor}" if years.successor else ""
        problems.error(pos, f"{brand.name}品牌只用到 {years.until} 年{nxt}", "brand")
    if years and years.from_ and campaign.year < years.from_:
        problems.error(pos, f"{brand.name}品牌从 {years.from_} 年起才使用", "brand")
    if "edition" in label_fields(brand.label) and campaign.edition is None:
        problems.error(pos, f"{brand.name}的标签需要届次：请在 campaign.yml 中写 edition", "edition")
    campaign.label = render_label(brand.label, campaign.year, campaign.edition)
    seen: set[str] = set()
    campaign.all_logos = []
    for logo in [*brand.logos, *campaign.logos]:
        if logo.id not in seen:
            seen.add(logo.id)
            campaign.all_logos.append(logo)


def _mark_re(mark: str) -> re.Pattern[str]:
    # "2021年…全国科普日": a year, up to a dozen characters (region, quotes), then the brand word
    return re.compile(r"(\d{4})\s*年[^\d年，。；]{0,12}?" + re.escape(mark))


def title_problems(title: str, campaign: Campaign, brands: dict[str, Brand]) -> list[str]:
    """Messages for a title that carries another year's or another brand's label."""
    own = campaign.brand_info
    if own is None:
        return []
    allowed = {own.id, *own.also}
    out = []
    for brand in brands.values():
        for mark in brand.marks:
            for m in _mark_re(mark).finditer(title):
                year = int(m.group(1))
                if brand.id not in allowed:
                    out.append(
                        f"标题带有“{m.group(0)}”，但本活动属于“{campaign.label}”：请去掉其他品牌的标签"
                    )
                elif year != campaign.year:
                    out.append(
                        f"标题中的“{m.group(0)}”年份不对，本活动是 {campaign.year} 年："
                        f"请改为 {campaign.year}年"
                    )
    return out


def logo_file(root: Path, logo: Logo) -> str | None:
    """The logo image supplied by the deploying organisation, relative to site_theme/, if any."""
    for ext in LOGO_EXTS:
        if (root / LOGO_DIR / f"{logo.id}{ext}").exists():
            return f"assets/logos/{logo.id}{ext}"
    return None
