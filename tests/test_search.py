"""The chunked search index (generator/outputs/search.py): tokens, shards, and what a visitor downloads.

A query is answered here the way assets/kepu-search.js answers it (manifest → one term shard per
term → intersect → document shards of the first results), on a synthetic 3,000-activity campaign,
so the "< 1 MB before the first result" goal is checked on real output."""

from __future__ import annotations

import json
import random
import sys
import unicodedata
from pathlib import Path

import pytest

from generator.outputs.search import build_index, nfkc, shard_of, tokens
from generator.validate import read_site

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from synth import make  # noqa: E402


def test_tokens_are_bigrams_words_and_title_characters():
    assert tokens("科学家精神") == {"科学", "学家", "家精", "精神"}
    assert tokens("VR 航天 5G") == {"vr", "航天", "5g"}
    assert tokens("ＶＲ２０２３") == {"vr2023"}  # full-width folded as NFKC does in the browser
    assert "茶" in tokens("白茶", unigrams=True) and "茶" not in tokens("白茶")


def test_nfkc_is_unicode_nfkc():
    """search.nfkc normalises character by character first (for speed): it must give exactly what
    unicodedata does, also where neighbours compose or reorder."""
    cases = [
        "", "科学", "科学，普及（第１期）：ＶＲ！", "ｶﾞｷﾞｸﾞ ﾊﾟﾝ", "か\u3099", "e\u0301\u0316", "ﬁ ㈱ ① ㍻ Ⅷ ²",
        "\uf900\uf901豈", "⼀⼆\u2e9f", "Å\u0301 Ω K", "\u1100\u1161\u11a8 한", "ｱ\uff9e\u0301",
        "𝐀𝟏 \U0002f800", "\u0344\u0308a\u0301\u0344", "　全角空格　",
        "\ud800 x", "Ｅ\u0301", "ḱ\u0323ﬃ\u0301",
    ]
    rng = random.Random(16)
    alphabet = "".join({c for case in cases for c in case}) + "abc科学，\u0301\u0323\u3099\uff9e"
    cases += ["".join(rng.choices(alphabet, k=rng.randrange(1, 12))) for _ in range(3000)]
    for text in cases:
        assert nfkc(text) == unicodedata.normalize("NFKC", text), ascii(text)


def test_shard_hash_is_fnv1a():
    # FNV-1a 32-bit of "a" is 0xe40c292c: the same number the browser computes with Math.imul
    assert shard_of("a", 2**32 - 1) == 0xE40C292C % (2**32 - 1)


def rank(ids: list[int], manifest: dict, today: str) -> list[int]:
    """kepu-search.js rank(): upcoming activities soonest first, ended ones most recent first,
    then campaign and district pages; "upcoming" = last session ends on or after ``today``."""
    acts = manifest["activities"]
    boundary = next((i for day, i in manifest["ends"] if day >= today), acts)
    up = [i for i in ids if boundary <= i < acts]
    ended = [i for i in ids if i < boundary][::-1]
    return up + ended + [i for i in ids if i >= acts]


class Reader:
    """The browser's reading of the index, in Python."""

    def __init__(self, files: dict[str, bytes]):
        self.files = files
        self.fetched: set[str] = set()

    def get(self, path: str):
        self.fetched.add(path)
        return json.loads(self.files[path])

    def search(self, query: str, first: int = 20, today: str = "9999-12-31") -> list[list[str]]:
        m = self.get("search/manifest.json")
        terms = [t for t in tokens(query) if t not in set(m["stop"])]
        lists = []
        for t in terms:
            shard = self.get(f"search/t/{shard_of(t, m['shards']):x}.json")
            ids, prev = [], 0
            for gap in shard.get(t, "").split(",") if t in shard else []:
                prev += int(gap, 36)
                ids.append(prev)
            lists.append(ids)
        hits = rank(sorted(set.intersection(*map(set, lists))) if lists else [], m, today)
        per = m["docsPerShard"]
        return [self.get(f"search/d/{i // per:x}.json")[i % per] for i in hits[:first]]

    def downloaded(self) -> int:
        return sum(len(self.files[p]) for p in self.fetched)


@pytest.fixture(scope="module")
def big_index(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    repo = make(tmp_path_factory.mktemp("big"), 3000, 23)
    site, problems = read_site(repo)
    assert not problems.errors
    return build_index(site)


def test_large_site_search_downloads_a_small_part_of_the_index(big_index: dict[str, bytes]):
    total = sum(len(v) for v in big_index.values())
    reader = Reader(big_index)
    results = reader.search("急救培训")
    assert results, "a common pair of words found nothing"
    assert reader.downloaded() < 1_000_000, f"{reader.downloaded()} bytes before the first result"
    assert reader.downloaded() < total / 4, f"fetched {reader.downloaded()} of {total} bytes"


def test_every_activity_is_found_by_its_own_title(big_index: dict[str, bytes]):
    reader = Reader(big_index)
    docs = [d for k in sorted(p for p in big_index if p.startswith("search/d/"))
            for d in json.loads(big_index[k])]
    for doc in docs[::97]:  # a spread sample: every title must find its own page
        found = [r[0] for r in reader.search(doc[1], first=10_000)]
        assert doc[0] in found, f"{doc[1]!r} does not find {doc[0]}"


def test_sample_site_title_words_find_their_activity():
    site, _ = read_site(ROOT)
    reader = Reader(build_index(site))
    hits = reader.search("讲解大赛")
    assert any("讲解大赛" in h[1] for h in hits)
    assert reader.search("不存在的词甲乙丙") == []


def test_activities_rank_before_pages_upcoming_before_ended(tmp_path: Path):
    """科普 on the sample site: activities first (still to come, soonest first, then ended, most
    recent first), then campaign and district pages; a district with no activity is no result."""
    site, _ = read_site(ROOT)
    index = build_index(site)
    manifest = json.loads(index["search/manifest.json"])
    assert len(index["search/manifest.json"]) < 4_000, "the manifest is read before every search"
    today = "2023-09-16"
    hits = Reader(index).search("科普", first=10_000, today=today)
    kinds = [h[5] if h[5] in ("campaign", "district") else "activity" for h in hits]
    first_page = kinds.index("campaign") if "campaign" in kinds else len(kinds)
    assert set(kinds[:first_page]) == {"activity"} and set(kinds[first_page:]) <= {"campaign", "district"}
    acts = {f"{c.id}/activities/{a.slug}/": a for c in site.published() for a in c.activities}
    from generator.outputs.text import sessions
    ends = [sessions(acts[h[0]])[-1][1].date().isoformat() for h in hits[:first_page]]
    split = next(i for i, e in enumerate(ends) if e < today)
    assert split > 0, "no upcoming activity on 2023-09-16?"
    assert ends[:split] == sorted(ends[:split]), "upcoming: soonest first"
    assert all(e < today for e in ends[split:]) and ends[split:] == sorted(ends[split:], reverse=True)
    used = {(c.id, a.district) for c in site.published() for a in c.activities}
    districts = {h[0] for h in hits if h[5] == "district"}
    empty = {f"{c.id}/{d}/" for c in site.published() for d in c.districts if (c.id, d) not in used}
    assert empty and not districts & empty, "a district page with no activity is a result"
    assert manifest["activities"] == len(acts)
