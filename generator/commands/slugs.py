"""File names for new activities. They become permanent URLs (/<campaign>/<district>/<id>/), so they
are made to be read: pinyin word by word (`baixiao-yuanshi-zhuanjia-jin-xiaoyuan`), place names read
as places (郫都 pidu, not pidou), words the path already says left out (the district, the campaign's
brand, region and year), at most 40 characters, cut only between words, and made unique with a date
or venue rather than `-2`."""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterable
from datetime import date

from ..convert import FULLWIDTH
from ..model import Campaign
from .match import SUFFIXES, bare

LIMIT = 40

# Place names whose pypinyin reading is wrong (its phrase data has no entry and the default reading of
# a heteronym is the common-word one: 长 zhang, 都 dou, 朝 zhao). A campaign's own districts are read
# from their ids (district_readings), so only places mentioned in titles need to be here.
PLACE_READINGS = {
    "长宁": "changning", "长垣": "changyuan", "长治": "changzhi", "郫都": "pidu", "新都": "xindu",
    "朝阳": "chaoyang", "单县": "shanxian", "洪洞": "hongtong", "涡阳": "guoyang", "六安": "luan",
    "乐清": "yueqing", "蔚县": "yuxian", "铅山": "yanshan", "番禺": "panyu", "东阿": "donge",
}

# One-character words that read better on their own (`jin-xiaoyuan`, 科普进校园); any other single
# character joins the word before it (明月村 → mingyuecun, 科普化 → kepuhua).
OWN_WORD = set("进走与和及暨在为给让向到从的之")
# said by every title: dropped when other words remain, and a title of nothing else gets its date
GENERIC = {"活动", "系列活动", "系列", "行动", "主题", "主题活动"}
YEAR_RE = re.compile(r"(?:19|20)\d{2}\s*年度?|(?<!\d)(?:19|20)\d{2}(?!\d)"
                     r"|第[0-9一二三四五六七八九十百]+[届季]")
HAN_RE = re.compile(r"[\u3400-\u9fff]")
GENERIC_PINYIN = {"huodong", "xilie", "xiliehuodong", "xingdong", "zhuti", "zhutihuodong"}


def _reads_as(text: str, target: str) -> bool:
    """Whether some reading of ``text`` (any heteronym per character) spells ``target``."""
    from pypinyin import Style, pinyin

    options = [set(o) for o in pinyin(text, style=Style.NORMAL, heteronym=True)]

    @functools.cache
    def rest(i: int, pos: int) -> bool:
        if i == len(options):
            return pos == len(target)
        return any(target.startswith(o, pos) and rest(i + 1, pos + len(o)) for o in options[i])

    return rest(0, 0)


def name_variants(name: str, region: str = "") -> list[str]:
    """郫都区 → 郫都区, 郫都; 成都高新区 (region 成都市) → 成都高新区, 成都高新, 高新区, 高新."""
    out = [name, bare(name)]
    for prefix in {region, bare(region)} - {""}:
        if name.startswith(prefix) and len(name) > len(prefix) + 1:
            rest = name[len(prefix):]
            out += [rest, bare(rest)]
    if name.startswith(("四川", "江苏", "河南", "安徽")):  # province before a new district's name
        out += [name[2:], bare(name[2:])]
    return list(dict.fromkeys(v for v in out if len(v) >= 2))


def district_readings(c: Campaign) -> dict[str, str]:
    """Each district name (and its bare forms) → its id, when the id is that name's pinyin: ids are
    written by people who know how the place is read (pidu: 郫都区)."""
    out: dict[str, str] = {}
    for did, name in c.districts.items():
        for v in name_variants(name, c.region):
            if HAN_RE.search(v) and _reads_as(v, did.replace("-", "")):
                out[v] = did
    return out


@functools.cache
def _tokenizer() -> object:
    # jieba: the common Chinese word segmenter (pypinyin's own phrase data only holds phrases whose
    # reading differs from the characters', so it cannot find words like 科普 or 剧本杀)
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    for word in PLACE_READINGS:
        tk.add_word(word, freq=10**6)
    return tk


class Namer:
    """Chooses ids for one campaign's new activities."""

    def __init__(self, c: Campaign):
        self.c = c
        self.places = {**PLACE_READINGS, **district_readings(c)}
        # a copy of the word list: this campaign's places and path words must not leak into others
        self.tk = copy.copy(_tokenizer())
        self.tk.FREQ = dict(self.tk.FREQ)  # type: ignore[attr-defined]
        for word in self.places:
            self.tk.add_word(word, freq=10**6)  # type: ignore[attr-defined]
        brand = c.brand_info
        words = [*(brand.marks if brand else []), brand.name if brand else ""]
        words += [w[2:] for w in words if w.startswith("全国")]  # 全国科普日 → 科普日 too
        words += name_variants(c.region)
        self.campaign_words = [w for w in dict.fromkeys(words) if w]
        # every word a path may drop is a word for the segmenter, added once: jieba's add_word
        # grows its frequency total on each call, so adding them per row made a row's id depend
        # on the rows before it
        for w in {*self.campaign_words, *(v for d in c.districts for v in self.drops(d))}:
            if not w.endswith(SUFFIXES):  # 常州 but not 常州市: 常州市民 is 常州 + 市民
                self.tk.add_word(w, freq=10**6)  # type: ignore[attr-defined]

    def drops(self, district: str | None) -> list[str]:
        words = list(self.campaign_words)
        if district and district in self.c.districts:
            words += name_variants(self.c.districts[district], self.c.region)
        return sorted(words, key=len, reverse=True)

    def words(self, text: str, district: str | None = None) -> list[str]:
        """The title's words in pinyin, the path's own words left out."""
        from pypinyin import Style, lazy_pinyin

        text = YEAR_RE.sub(" ", text.translate(FULLWIDTH))
        drops = set(self.drops(district))
        tk = self.tk
        out: list[str] = []
        joinable = False  # whether a one-character word may join the word before
        dropped = False
        for token in tk.lcut(text):  # type: ignore[attr-defined]
            if token in drops or (dropped and token in SUFFIXES):
                dropped, joinable = True, False
                continue
            dropped = False
            if token in self.places:
                out.append(self.places[token])
                joinable = True
            elif HAN_RE.search(token):
                if token in GENERIC:
                    out.append("\0" + "".join(lazy_pinyin(token, style=Style.NORMAL)))
                    joinable = False
                    continue
                word = "'".join(s for s in lazy_pinyin(token, style=Style.NORMAL) if s.isalnum())
                if len(token) == 1 and token not in OWN_WORD and joinable and out:
                    out[-1] += "'" + word
                else:
                    out.append(("~" if token in OWN_WORD else "") + word)
                joinable = token not in OWN_WORD
            else:
                out += re.findall(r"[a-z0-9]+", token.lower())
                joinable = False
        kept = [w for w in out if not w.startswith("\0")]
        if not kept:
            kept = [w[1:] for w in out]
        return [w for w in kept if w]

    def slug(self, text: str, district: str | None = None, limit: int = LIMIT) -> str:
        return fit(self.words(text, district), limit)

    def choose(self, title: str, district: str | None, day: date | None, venue: str | None,
               taken: set[str]) -> str:
        """A new id: the title's slug; if taken, with the date (`-0916`), then the venue, then both."""
        words = self.words(title, district) or ["huodong"]
        base = fit(words, LIMIT)
        generic = all(w.replace("'", "") in GENERIC_PINYIN for w in words)
        if base not in taken and not generic:
            return base
        hints = []
        if day:
            hints.append(f"{day:%m%d}")
        place = fit(self.words(venue, district), 16) if venue else ""
        if place and place not in base:
            hints.append(place)
        if len(hints) == 2:
            hints.append(f"{hints[1]}-{hints[0]}")
        for hint in hints:
            cand = f"{fit(words, LIMIT - len(hint) - 1)}-{hint}".strip("-")
            if cand not in taken:
                return cand
        return unique_slug(base, taken)  # same title, day and venue: a number is all that is left


def fit(words: Iterable[str], limit: int) -> str:
    """Words joined by hyphens up to ``limit`` characters, cut only between words (a first word
    longer than that is cut between its syllables, which words() marks with an apostrophe)."""
    words = list(words)
    if words and len(words[0].replace("'", "")) > limit:
        words = words[0].split("'") + words[1:]
    kept: list[str] = []
    for w in words:
        if len("-".join([*kept, w]).replace("'", "").replace("~", "")) > limit:
            break
        kept.append(w)
    while kept and kept[-1].startswith("~"):  # never end on 与, 的, 进 …
        kept.pop()
    return "-".join(kept).replace("'", "").replace("~", "")


def slugify(title: str, limit: int = LIMIT) -> str:
    """An id for a title outside any campaign (kepu new activity): year dropped, words kept whole."""
    from pypinyin import Style, lazy_pinyin

    text = YEAR_RE.sub(" ", title.translate(FULLWIDTH))
    words: list[str] = []
    for token in _tokenizer().lcut(text):  # type: ignore[attr-defined]
        if token in PLACE_READINGS:
            words.append(PLACE_READINGS[token])
        elif HAN_RE.search(token):
            words.append("'".join(s for s in lazy_pinyin(token, style=Style.NORMAL) if s.isalnum()))
        else:
            words += re.findall(r"[a-z0-9]+", token.lower())
    return fit([w for w in words if w], limit) or "huodong"


def unique_slug(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
