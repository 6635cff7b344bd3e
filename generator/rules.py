"""Campaign rules that need more than one file: activities added after registration closed.

Part of the core: ``validate`` runs them; the staff commands reuse them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .history import read_history
from .model import Campaign, Deadline
from .problems import Pos, Problems

# Fallback for deadlines written before `kind` existed: deadlines.what of the platform registration
REGISTRATION_WORDS = ("注册", "登记", "发布活动")


def _by_words(d: Deadline) -> bool:
    return d.kind is None and any(w in d.what for w in REGISTRATION_WORDS)


def _registration(c: Campaign) -> tuple[list[Deadline], bool]:
    """The registration deadlines and whether they were found by words: ``kind: registration``
    wins; without one, deadlines that have no kind are matched by the words of ``what``."""
    marked = [d for d in c.deadlines if d.kind == "registration"]
    return (marked, False) if marked else ([d for d in c.deadlines if _by_words(d)], True)


def registration_deadline(c: Campaign) -> date | None:
    return max((d.date for d in _registration(c)[0]), default=None)


def report_deadline(c: Campaign) -> date:
    """When the after-event data is due: the last ``kind: report`` deadline, else the last deadline
    of any kind, else the end of the campaign."""
    reports = [d.date for d in c.deadlines if d.kind == "report"]
    return max(reports or [d.date for d in c.deadlines], default=c.span.end)


def deadline_kinds(campaigns: list[Campaign], problems: Problems) -> None:
    """Warn where the registration deadline is recognised only by its words."""
    for c in campaigns:
        found, by_words = _registration(c)
        for i, d in enumerate(c.deadlines, 1):
            if by_words and d in found:
                where = c.field_pos.get(f"deadlines[{i}]") or c.pos
                problems.warn(
                    where, f"“{d.what}”按文字被当作活动注册截止日期：请在 deadlines 里写 kind: registration"
                    "（其他截止日期写 info、report 或 other）", f"deadlines[{i}].kind",
                )


def late_additions(
    root: Path, campaigns: list[Campaign], problems: Problems, today: date | None = None
) -> None:
    """Warn about activity files that git first saw after the campaign's registration deadline:
    they may be missing from the national platform.

    Only for campaigns whose campaign.yml itself predates the deadline: a campaign entered after
    the event (historical or sample data) would otherwise warn on every file. A shallow clone
    dates every file to its oldest commit, so it is skipped; CI needs `fetch-depth: 0`.
    """
    today = today or date.today()
    due = {c.id: d for c in campaigns if (d := registration_deadline(c)) is not None and d < today}
    if not due:
        return  # nothing can be late yet: no git call
    hist = read_history(root, settings=False)  # file dates only
    if hist.shallow or not (hist.files or hist.dirty):
        return  # not a git work tree, or no usable history
    for c in campaigns:
        deadline = due.get(c.id)
        if deadline is None:
            continue
        try:
            tz = ZoneInfo(c.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            tz = ZoneInfo("Asia/Shanghai")

        def added(path: str | Path, tz: ZoneInfo = tz) -> date | None:
            known = hist.get(path)
            if known is not None:
                return known.first.astimezone(tz).date()
            return today if hist.key(path) in hist.dirty else None

        since = added(root / "campaigns" / c.id / "campaign.yml")
        if since is None or since > deadline:
            continue
        what = next(d.what for d in c.deadlines if d.date == deadline)
        for a in c.activities:
            day = added(a.pos.path)
            if day is not None and day > deadline:
                problems.warn(
                    Pos(a.pos.path, 1, 1),
                    f"这个活动 {day} 才加入，晚于注册截止日期 {deadline}（{what}）："
                    "请确认已在全国平台补报，或与活动负责部门联系",
                )


MISSING_SYSTEM_SHARE = 0.2  # more activities than this without organizer_system: the share is a guess
MISSING_SYSTEM_MIN = 10  # a share of a handful of activities (a campaign just begun) says nothing


def missing_systems(campaigns: list[Campaign], problems: Problems) -> None:
    """Warn when many activities lack organizer_system: the 科协-system share (the notices' 20% rule)
    is then counted over the filled-in ones only and may be wrong."""
    for c in campaigns:
        live = [a for a in c.activities if a.status != "cancelled"]
        missing = [a for a in live if not a.organizer_system]
        if len(live) >= MISSING_SYSTEM_MIN and len(missing) / len(live) > MISSING_SYSTEM_SHARE:
            problems.warn(
                Pos(c.pos.path, 1, 1),
                f"{len(missing)} 项活动（{len(missing) / len(live):.0%}）没有填写 organizer_system"
                f"（主办单位系统），超过 {MISSING_SYSTEM_SHARE:.0%}：科协系统以外的占比只按已填写的计算，"
                "可能不准。请补填 kexie 或 other（kepu import 会按主办单位名称推断）",
            )
