"""What the public reads, from the build (issue 12, server side): full dates with year and
weekday, schedules in words, each activity listed once, no add-to-calendar or 报名 for a
cancelled activity, a Google link that carries the recurrence, Chinese soft breaks joined,
plain words on buttons, staff deadlines off the public campaign page, the district notice's QR."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from bs4 import BeautifulSoup

from generator.model import Activity, Campaign, Recurrence, Site
from generator.outputs.pages import google_calendar_link, sanitize_markdown
from generator.outputs.text import date_text, sessions, when_text

pytest.register_assert_rewrite("site_fixtures")
from site_fixtures import soup_of  # noqa: E402

pytest_plugins = ["site_fixtures"]

FULL_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日（星期[一二三四五六日]）")


def fake(start: date | datetime, end: date | datetime | None = None, recurrence: Recurrence | None = None,
         status: str = "scheduled") -> Activity:
    c = Campaign(title="t", brand="kepuri", year=2024, region="r", period=None, districts={}, categories={})
    a = Activity(title="讲座", organizer="o", category="x", start=start, end=end, recurrence=recurrence,
                 status=status)
    a.campaign = c
    return a


@pytest.mark.parametrize(("activity", "text"), [
    (fake(datetime(2024, 9, 21, 14), datetime(2024, 9, 21, 17)), "2024年9月21日（星期六）14:00–17:00"),
    (fake(datetime(2024, 9, 21, 14), datetime(2024, 9, 22, 11)),
     "2024年9月21日（星期六）14:00 至 9月22日（星期日）11:00"),
    (fake(date(2024, 9, 21)), "2024年9月21日（星期六）全天"),
    (fake(date(2024, 12, 30), date(2025, 1, 2)),
     "2024年12月30日（星期一）至2025年1月2日（星期四）（每天全天）"),
    (fake(datetime(2024, 9, 16, 9), datetime(2024, 9, 16, 17),
          Recurrence(freq="daily", until=date(2024, 9, 24), except_=[date(2024, 9, 18)])),
     "2024年9月16日（星期一）至9月24日（星期二） 每天 09:00–17:00，9月18日除外"),
    (fake(datetime(2024, 9, 7, 14), datetime(2024, 9, 7, 16),
          Recurrence(freq="weekly", until=date(2024, 9, 29), byday=["sa", "su"])),
     "2024年9月7日（星期六）至9月29日（星期日） 每周六、周日 14:00–16:00"),
])
def test_when_text_is_in_full(activity: Activity, text: str) -> None:
    assert when_text(activity) == text


def test_sessions_of_a_daily_exhibition() -> None:
    a = fake(datetime(2024, 9, 16, 9), datetime(2024, 9, 16, 17),
             Recurrence(freq="daily", until=date(2024, 9, 24), except_=[date(2024, 9, 18)]))
    got = sessions(a)
    assert len(got) == 8 and got[0][0].isoformat() == "2024-09-16T09:00:00+08:00"
    assert all(e - s == got[0][1] - got[0][0] for s, e in got)
    assert date(2024, 9, 18) not in {s.date() for s, _ in got}
    span = sessions(fake(date(2024, 9, 21), date(2024, 9, 23)))
    assert [(s.isoformat(), e.isoformat()) for s, e in span] == [
        ("2024-09-21T00:00:00+08:00", "2024-09-24T00:00:00+08:00")], "an exhibition span is one session"


def test_google_link_carries_the_recurrence_or_is_left_out() -> None:
    weekly = fake(datetime(2024, 9, 7, 14), datetime(2024, 9, 7, 16),
                  Recurrence(freq="weekly", until=date(2024, 9, 29), byday=["sa", "su"]))
    q = parse_qs(urlparse(google_calendar_link(weekly, "https://x/")).query)
    assert q["recur"] == ["RRULE:FREQ=WEEKLY;UNTIL=20240929;BYDAY=SA,SU"]
    assert q["dates"] == ["20240907T140000/20240907T160000"], "the first session, repeated by recur"
    with_exception = fake(datetime(2024, 9, 16, 9), datetime(2024, 9, 16, 17),
                          Recurrence(freq="daily", until=date(2024, 9, 24), except_=[date(2024, 9, 18)]))
    assert google_calendar_link(with_exception, "https://x/") is None, "Google's link has no EXDATE"
    assert google_calendar_link(fake(date(2024, 9, 21), status="cancelled"), "https://x/") is None


def test_chinese_soft_break_joins_without_a_space() -> None:
    html = str(sanitize_markdown("第一句话说完。\n第二句话接着说。\nThe end\nof English."))
    assert "说完。第二句" in html
    assert "The end\nof English" in html, "a break between Latin words stays a space"


def activity_pages(site: Path, c: Campaign) -> list[tuple[Activity, BeautifulSoup]]:
    return [(a, soup_of(site / c.id / "activities" / a.slug / "index.html")) for a in c.activities]


def test_every_activity_page_gives_the_full_date(site_model: Site, built_site: Path) -> None:
    for c in site_model.published():
        for a, soup in activity_pages(built_site, c):
            when = soup.select_one(".kepu-when").get_text(" ", strip=True)
            assert FULL_DATE.match(when), f"{a.slug}: {when!r} lacks year or weekday"
            assert when.startswith(when_text(a)), f"{a.slug}: {when!r}"
            if a.last_day != a.first_day:
                assert len(FULL_DATE.findall(when)) + when.count("月") >= 2, f"{a.slug}: only one end: {when}"


def test_listing_entries_carry_their_sessions(site_model: Site, built_site: Path) -> None:
    c = next(c for c in site_model.published() if any(a.recurrence for a in c.activities))
    soup = soup_of(built_site / c.id / "index.html")
    by_slug = {a.slug: a for a in c.activities}
    seen = 0
    for li in soup.select("li.kepu-item"):
        slug = li.select_one("a")["href"].rstrip("/").rsplit("/", 1)[-1]
        a = by_slug[slug]
        pairs = li["data-sessions"].split()
        got = [tuple(datetime.fromisoformat(t) for t in pair.split("/")) for pair in pairs]
        assert got == sessions(a), slug
        assert li.select_one(".kepu-item__when").get_text(strip=True) == when_text(a)
        seen += 1
    assert seen == len(c.activities)


def test_cancelled_activity_offers_no_calendar_or_registration(site_model: Site, built_site: Path) -> None:
    cancelled = [(c, a) for c in site_model.published() for a in c.activities if a.status == "cancelled"]
    assert cancelled, "the samples have a cancelled activity"
    for c, a in cancelled:
        soup = soup_of(built_site / c.id / "activities" / a.slug / "index.html")
        assert soup.select_one(".kepu-calendar") is None, f"{a.slug}: add-to-calendar offered"
        assert not soup.find("a", string="去报名"), f"{a.slug}: 去报名 offered"
        assert not soup.find("a", href=re.compile("calendar.google.com")), a.slug


def test_online_activity_has_a_button_not_a_raw_url(site_model: Site, built_site: Path) -> None:
    online = [(c, a) for c in site_model.published() for a in c.activities
              if a.online and a.status != "cancelled"]
    assert online
    for c, a in online:
        dd = soup_of(built_site / c.id / "activities" / a.slug / "index.html").select_one(".kepu-online")
        button = dd.select_one("a.md-button")
        assert button is not None and button["href"] == a.online.url
        assert button.get_text() in ("进入直播", "进入线上活动")
        assert a.online.url not in dd.get_text(), f"{a.slug}: the raw URL is shown"


def test_campaign_page_words_and_staff_deadlines(site_model: Site, built_site: Path) -> None:
    c = next(c for c in site_model.published() if c.deadlines)
    page = soup_of(built_site / c.id / "index.html")
    words = [a.get_text(strip=True) for a in page.select(".kepu-links a")]
    assert "订阅更新" in words and "下载全部活动（Excel 可打开）" in words, words
    assert not any("Atom" in w or "CSV" in w for w in words), words
    assert "截止" not in page.select_one(".kepu-campaign").get_text(), "staff deadlines on the public page"
    stats = soup_of(built_site / c.id / "stats" / "index.html")
    items = [li.get_text(" ", strip=True) for li in stats.select(".kepu-deadlines li")]
    assert len(items) == len(c.deadlines) and all(FULL_DATE.search(t) for t in items), items


def test_district_notice_has_its_qr_code(site_model: Site, built_site: Path) -> None:
    c = site_model.published()[0]
    d = next(iter(c.districts))
    footer = soup_of(built_site / c.id / d / "index.html").select_one(".kepu-print-footer")
    assert footer is not None and footer.select_one("svg path") is not None, "no QR code in the notice"
    assert date_text(date(2024, 9, 21)) == "2024年9月21日（星期六）"
