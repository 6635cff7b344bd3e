"""`kepu new`: campaign and activity files that pass `kepu check` as generated.

Each starts with the `yaml-language-server` schema line (VS Code then completes and explains the
fields) and carries a Chinese comment on every field; optional fields are commented out with an
example. The comment texts («field» below) come from the model's field docs, so they cannot drift
from what the validator accepts; tests/test_staff.py fails when a model field is missing here.
"""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ..convert import field_shape
from ..model import DEFAULT_AUDIENCES, Activity, Brand, Campaign
from ..problems import shown
from .match import unoptional
from .yamlwrite import scalar

CAMPAIGN_TEMPLATE = """\
# yaml-language-server: $schema={schema}
# 新专题 {cid}：由 kepu new campaign 生成，现在是草稿（status: draft，只校验、不发布）。
# 请对照通知逐项修改。以“# ”开头的是说明或可选字段：要用时删掉行首的“# ”。改完运行 kepu check。

# «title»
title: {title}
# «brand»：{brands}
brand: {brand}
# «year»
year: {year}
# «region»
region: {region}
# «period»
period: {{start: {p_start}, end: {p_end}}}
# «districts»。编号用拼音小写（如 wujin），活动文件放在 activities/<编号>/ 文件夹里
districts:
  shiqu: 市区
# «categories»
categories:
  zhuchang: 主场活动
  gedi-tese: 各地各部门特色活动
  # 有子类别时这样写（活动文件里写子类别编号）：
  # lianhe-xingdong:
  #   name: 系列科普联合行动
  #   children:
  #     xuehui-gaoxiao: 学会高校科普联合行动
  #     qiye-kexie: 企业科协联合行动
# «theme»；主题还没公布时写成 {{text: 主题文字, tentative: true}}
# theme: 请填写通知中的活动主题
# «subtheme»
# subtheme: {{text: 请填写副主题, tentative: true}}
# «edition»
{edition}
# «window»
# window: {{start: {w_start}, end: {w_end}}}
# «deadlines»
# deadlines:
#   - {{date: {d_reg}, what: 在全国平台完成活动注册和信息填报, kind: registration}}
#   - {{date: {d_sum}, what: 报送活动总结和统计表, kind: report}}
# «document»
# document:
#   number: ××科协〔{year}〕1号
#   issued: {issued}
#   issuers: [××市科学技术协会]
#   url: https://www.example.cn/tongzhi.html
# «timezone»
# timezone: Asia/Shanghai
# «audiences»
# audiences:
{audiences}
# «topics»
# topics:
#   weisheng-jiankang: 卫生健康
#   yingji-kepu: 应急科普
# «logos»
# logos:
#   - {{id: tianfu-kejiyun, name: 天府科技云}}
# «rules»
# rules: {{city_level_uses_subtheme: true}}
# «status»；准备好发布时改成 published
status: draft
# «sample»
# sample: true
# «owners»；改了以后运行 kepu codeowners
# owners:
#   shiqu: "@your-org/shiqu"
"""

ACTIVITY_TEMPLATE = """\
# yaml-language-server: $schema={schema}
# 新活动：由 kepu new activity 生成（{campaign}，{district}）。
# 请逐项修改。以“# ”开头的是说明或可选字段：要用时删掉行首的“# ”。改完运行 kepu check。

# «title»
title: {title}
# «organizer»
organizer: 请填写主办单位全称
# «co_organizers»
# co_organizers: [××市科学技术协会, ××市教育局]
# «organizer_system»（用于统计科协系统以外的占比）
# organizer_system: kexie
# «level»
# level: district
# «category»。可选：
{categories}
category: {category}
# «audiences»。可选：{audience_names}
# audiences: [{audiences}]
# «topics»{topic_names}
# topics: [{topics}]
# «start»
start: {day} 09:00
# «end»
end: {day} 11:00
# «recurrence»。例如每天同一时间、到 {until} 为止：
# recurrence: {{freq: daily, until: {until}}}
# 每周二、周四，其中一天停办：{{freq: weekly, byday: [tu, th], interval: 1, until: {until}, except: [{skip}]}}
# «tentative»：时间定下来后删掉这一行
tentative: true
# «status»
# status: cancelled
# «venue»；纯线上活动删掉 venue，改写 online
venue:
  # «venue.name»
  name: 请填写场地名称
  # «venue.address»
  # address: 请填写详细地址（省、市、区、街道、门牌号）
  # «venue.lat»
  # lat: 31.78
  # «venue.lng»
  # lng: 119.95
# «online»
# online:
#   url: https://live.example.cn/xxx  # «online.url»
#   platform: 直播  # «online.platform»
# «subtheme»
# subtheme: 请填写副主题
# «description»
# description: |
#   第一段：活动内容、亮点。
#
#   第二段：参加方式、注意事项。
# «registration»
# registration:
#   required: true  # «registration.required»
#   url: https://www.example.cn/baoming  # «registration.url»
#   deadline: {reg_deadline}  # «registration.deadline»
#   capacity: 50  # «registration.capacity»
# «contact»
# contact:
#   name: 王老师  # «contact.name»
#   phone: 0000-00000000  # «contact.phone»
#   email: kepu@example.cn  # «contact.email»
#   public: false  # «contact.public»
# «kepuri_id»；请加引号
# kepuri_id: "{year}-000000-0001"
# «id»
# id: {slug}
# «report»
# report:
#   participants_offline: 120  # «report.participants_offline»
#   participants_online: 3000  # «report.participants_online»
#   volunteers: 10  # «report.volunteers»
#   media: [https://news.example.cn/xxx.html]  # «report.media»
#   photos: [zhaopian-1.jpg]  # «report.photos»
"""


def _doc(cls: Any, path: str) -> str:
    for part in path.split("."):
        hints, keys = field_shape(cls)
        fld = keys[part]
        cls = unoptional(hints[fld.name])
    return fld.metadata["doc"]


def _fill(template: str, cls: Any, **values: Any) -> str:
    """The field docs go into the template first, the values last: a value is text, so a title
    with «» or {} in it is written as it is (it once was looked up as a field: KeyError)."""
    docs = re.sub(r"«([\w.]+)»", lambda m: _doc(cls, m[1]).replace("{", "{{").replace("}", "}}"), template)
    return docs.format(**values)


def _comment(text: str) -> str:
    """Text for a # comment: on one line, so a line break in a name cannot add YAML."""
    return shown(" ".join(text.split()))


def schema_line(file: Path, root: Path, kind: str) -> str:
    rel = os.path.relpath(root / "schemas" / f"{kind}.schema.json", file.parent)
    return Path(rel).as_posix()


def campaign_text(root: Path, cid: str, brand_id: str, brand: Brand, brands: dict[str, Brand], year: int,
                  region: str, title: str | None) -> str:
    file = root / "campaigns" / cid / "campaign.yml"
    autumn = brand_id in ("kepuri", "kepuyue")  # 全国科普日/科普月 are in September, the weeks in May
    start = date(year, 9, 15) if autumn else date(year, 5, 20)
    end = start + timedelta(6)
    return _fill(
        CAMPAIGN_TEMPLATE, Campaign,
        schema=schema_line(file, root, "campaign"), cid=cid, year=year, brand=brand_id, region=scalar(region),
        title=scalar(title or f"{year}年{region}“{brand.name}”活动"),
        brands=_comment("、".join(f"{k}（{b.name}）" for k, b in brands.items())),
        p_start=start, p_end=end, w_start=start - timedelta(31), w_end=end + timedelta(7),
        d_reg=end + timedelta(7), d_sum=end + timedelta(21), issued=start - timedelta(30),
        edition=("edition: 1  # 这个品牌的标签要写届次，请改成实际的届次" if "{edition}" in brand.label
                 else "# edition: 33"),
        audiences="\n".join(f"#   {k}: {v}" for k, v in DEFAULT_AUDIENCES.items()),
    )


def activity_text(root: Path, c: Campaign, district: str, slug: str, title: str | None) -> str:
    file = root / "campaigns" / c.id / "activities" / district / f"{slug}.yml"
    leaves = [cat for cat in c.category_list.values() if not cat.children]
    day = c.period.start
    return _fill(
        ACTIVITY_TEMPLATE, Activity,
        schema=schema_line(file, root, "activity"), campaign=_comment(c.title),
        district=_comment(c.districts[district]), title=scalar(title or "请把这里改成具体的活动名称"),
        slug=slug, year=c.year,
        categories="\n".join(f"#   {cat.id}: {_comment(cat.name)}" for cat in leaves),
        category=leaves[0].id if leaves else "",
        audience_names=_comment("、".join(f"{k} {v}" for k, v in c.audiences.items())),
        audiences=", ".join(list(c.audiences)[:2]),
        topic_names=_comment("。可选：" + "、".join(f"{k} {v}" for k, v in c.topics.items())) if c.topics
        else "（本专题没有列出话题）",
        topics=", ".join(list(c.topics)[:1]),
        day=day, until=(until := min(day + timedelta(6), c.span.end)), skip=min(day + timedelta(5), until),
        reg_deadline=day - timedelta(2),
    )


def model_keys(cls: Any, prefix: str = "") -> list[str]:
    """Every YAML key of a model class, nested ones dotted (for the completeness test)."""
    hints, keys = field_shape(cls)
    out = []
    for key, fld in keys.items():
        out.append(prefix + key)
        tp = unoptional(hints[fld.name])
        if dataclasses.is_dataclass(tp):
            out += model_keys(tp, f"{prefix}{key}.")
    return out
