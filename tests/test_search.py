"""The chunked search index (generator/outputs/search.py): tokens, shards, and what a visitor downloads.

A query is answered here the way assets/kepu-search.js answers it (manifest → one term shard per
term → intersect → document shards of the first results), on a synthetic 3,000-activity campaign,
so the "< 1 MB before the first result" goal is checked on real output."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from generator.outputs.search import build_index, shard_of, tokens
from generator.validate import read_site

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from synth import make  # noqa: E402


def test_tokens_are_bigrams_words_and_title_characters():
    assert tokens("科学家精神") == {"科学", "学家", "家精", "精神"}
    assert tokens("VR 航天 5G") == {"vr", "航天", "5g"}
    assert tokens("ＶＲ２０２３") == {"vr2023"}  # full-width folded as NFKC does in the browser
    assert "茶" in tokens("白茶", unigrams=True) and "茶" not in tokens("白茶")


def test_shard_hash_is_fnv1a():
    # FNV-1a 32-bit of "a" is 0xe40c292c: the same number the browser computes with Math.imul
    assert shard_of("a", 2**32 - 1) == 0xE40C292C % (2**32 - 1)


class Reader:
    """The browser's reading of the index, in Python."""

    def __init__(self, files: dict[str, bytes]):
        self.files = files
        self.fetched: set[str] = set()

    def get(self, path: str):
        self.fetched.add(path)
        return json.loads(self.files[path])

    def search(self, query: str, first: int = 20) -> list[list[str]]:
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
        hits = sorted(set.intersection(*map(set, lists))) if lists else []
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
