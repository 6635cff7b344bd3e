"""Text passes of the activity pages written for speed (generator/outputs/pages.py): each must do
exactly what its plain regular expression does."""

from __future__ import annotations

import random
import re

from generator.outputs.pages import _CJK, _CJK_BREAK, sanitize_markdown


def test_cjk_break_joins_exactly_the_breaks_between_cjk_characters():
    rule = re.compile(f"(?<=[{_CJK}])\n(?=[{_CJK}])")
    rng = random.Random(16)
    alphabet = "a一\n 。，b\u3000Ｚ\r"
    cases = ["", "\n", "一\n二", "一\n\n二", "a\n二", "一\na", "\n一\n", "一\n二\n三"]
    cases += ["".join(rng.choices(alphabet, k=rng.randrange(1, 20))) for _ in range(5000)]
    for text in cases:
        assert _CJK_BREAK.sub("", text) == rule.sub("", text), repr(text)


def test_soft_breaks_in_chinese_paragraphs_are_joined():
    assert str(sanitize_markdown("第一行\n第二行\nEnglish\n一")) == "<p>第一行第二行\nEnglish\n一</p>\n"
