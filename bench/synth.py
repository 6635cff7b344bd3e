"""Synthetic campaigns for the benchmark: N activities over D districts, Chinese text, the field
mix of the seed campaigns (timed, all-day, multi-day, daily recurrence, online, hybrid, cancelled,
tentative). Deterministic for a given N (seeded), so runs compare like with like.

    python bench/synth.py OUT_ROOT N DISTRICTS
"""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

WORDS = [
    "科学",
    "普及",
    "健康",
    "讲座",
    "青少年",
    "实验",
    "人工智能",
    "航天",
    "天文",
    "观测",
    "急救",
    "培训",
    "食品",
    "安全",
    "农业",
    "技术",
    "节水",
    "低碳",
    "生活",
    "防灾",
    "减灾",
    "应急",
    "演练",
    "机器人",
    "编程",
    "科幻",
    "创作",
    "展览",
    "开放日",
    "科技馆",
    "博物馆",
    "社区",
    "乡村",
    "振兴",
    "老年人",
    "智能手机",
    "反诈",
    "宣传",
    "心理",
    "中医药",
    "养生",
    "垃圾",
    "分类",
    "生物",
    "多样性",
    "湿地",
    "植物",
    "昆虫",
    "标本",
    "气象",
    "地震",
    "消防",
    "电力",
    "数字",
    "素养",
]
VENUES = [
    "科技馆",
    "青少年活动中心",
    "社区党群服务中心",
    "新时代文明实践站",
    "图书馆",
    "文化馆",
    "中学",
    "小学",
]


ORGS = ["科学技术协会", "教育局", "卫生健康委员会", "科普志愿者协会"]


def sentence(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(WORDS) for _ in range(n))


def make(out: Path, n: int, districts: int, cid: str = "bench-kepuri") -> Path:
    rng = random.Random(n)
    root = out
    (root / "campaigns").mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(__file__).resolve().parent.parent / "campaigns" / "brands.yml", root / "campaigns")
    cdir = root / "campaigns" / cid
    if cdir.exists():
        shutil.rmtree(cdir)
    (cdir / "activities").mkdir(parents=True)
    dists = [f"d{i:04d}" for i in range(districts)]
    lines = [
        "title: 2023年基准测试市“全国科普日”活动",
        "brand: kepuri",
        "year: 2023",
        "region: 基准市",
        "theme: 提升全民科学素质，助力科技自立自强",
        "period: {start: 2023-09-15, end: 2023-09-21}",
        "window: {start: 2023-08-15, end: 2023-10-15}",
        "sample: true",
        "districts:",
        *[f"  {d}: 第{i}区" for i, d in enumerate(dists)],
        "categories:",
        "  zhuchang: 主场活动",
        "  tese: 特色活动",
        "  lianhe:",
        "    name: 联合行动",
        "    children:",
        "      xuehui: 学会高校",
        "      qiye: 企业科协",
        "  zaixian: 在线活动",
    ]
    (cdir / "campaign.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cats = ["zhuchang", "tese", "xuehui", "qiye", "zaixian"]
    auds = ["qingshaonian", "nongmin", "chanye-gongren", "laonianren", "lingdao-ganbu"]
    for i in range(n):
        d = dists[i % districts]
        day = 15 + rng.randrange(7)
        kind = rng.random()
        body = [
            f"title: {sentence(rng, 5)}主题活动第{i}场",
            f"organizer: 第{i % districts}区{rng.choice(ORGS)}",
            f"organizer_system: {'kexie' if rng.random() < 0.7 else 'other'}",
            f"category: {rng.choice(cats)}",
            f"audiences: [{', '.join(rng.sample(auds, 2))}]",
        ]
        if kind < 0.6:
            h = 8 + rng.randrange(10)
            body += [f"start: 2023-09-{day:02d} {h:02d}:00", f"end: 2023-09-{day:02d} {h + 2:02d}:00"]
        elif kind < 0.75:
            body += [f"start: 2023-09-{day:02d}"]
        elif kind < 0.85:
            body += ["start: 2023-09-15", "end: 2023-09-21"]
        else:
            body += [
                "start: 2023-09-15 09:00",
                "end: 2023-09-15 17:00",
                "recurrence: {freq: daily, until: 2023-09-21}",
            ]
        if rng.random() < 0.8:
            body.append(
                f"venue: {{name: 第{i % districts}区{rng.choice(VENUES)}, "
                f"address: 基准市第{i % districts}区人民路{i}号, "
                f"lat: {30 + rng.random():.5f}, lng: {104 + rng.random():.5f}}}"
            )
        if rng.random() < 0.3 or "venue" not in body[-1]:
            body.append(f"online: {{url: https://live.example.cn/{i}, platform: 直播}}")
        if rng.random() < 0.03:
            body.append("status: cancelled")
        if rng.random() < 0.05:
            body.append("tentative: true")
        desc = "。".join(sentence(rng, 12) for _ in range(10))
        body.append("description: |\n  " + desc + "。\n\n  **欢迎参加**，" + sentence(rng, 20) + "。")
        f = cdir / "activities" / d / f"a{i:06d}.yml"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("\n".join(body) + "\n", encoding="utf-8")
    return root


if __name__ == "__main__":
    make(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
