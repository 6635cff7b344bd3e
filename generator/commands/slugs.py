"""File names for new activities: pinyin of the title (`yin-ling-shu-zi-ke-tang`), made unique
within the campaign."""

from __future__ import annotations

import re

from ..convert import FULLWIDTH


def slugify(title: str, syllables: int = 6, limit: int = 40) -> str:
    """`“银龄数字课堂”：智能手机…` → `yin-ling-shu-zi-ke-tang` (pypinyin, a leading year dropped:
    the campaign id has it)."""
    from pypinyin import lazy_pinyin

    text = re.sub(r"^\s*\d{4}\s*年", "", title.translate(FULLWIDTH))
    words = [w for chunk in lazy_pinyin(text) for w in re.findall(r"[a-z0-9]+", chunk.lower())]
    out = ""
    for w in words[:syllables]:
        cand = f"{out}-{w}" if out else w[:limit]
        if len(cand) > limit:
            break
        out = cand
    return out or "huodong"


def unique_slug(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
