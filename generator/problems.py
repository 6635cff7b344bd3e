"""Problems found in staff input: every one names the file, line, column and field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Level = Literal["error", "warning"]

LEVEL_WORD = {"error": "错误", "warning": "警告"}


@dataclass(frozen=True, order=True)
class Pos:
    """A place in a source file; line and col are 1-based (0 means "the whole file")."""

    path: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}:{self.col or 1}"
        return self.path


@dataclass(frozen=True, order=True)
class Problem:
    pos: Pos
    message: str
    level: Level = "error"
    field: str = ""

    def format(self) -> str:
        where = f"{self.pos}: {LEVEL_WORD[self.level]}: "
        what = f"{self.field}：{self.message}" if self.field else self.message
        return where + what

    def format_github(self) -> str:
        kind = "error" if self.level == "error" else "warning"
        # GitHub workflow commands: %, CR and LF must be escaped in the message.
        msg = self.format().replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        line = f",line={self.pos.line}" if self.pos.line else ""
        col = f",col={self.pos.col}" if self.pos.col else ""
        return f"::{kind} file={self.pos.path}{line}{col}::{msg}"


@dataclass
class Problems:
    """Collects every problem so staff can fix them all in one round (read everything, then stop)."""

    items: list[Problem] = field(default_factory=list)

    def error(self, pos: Pos, message: str, fld: str = "") -> None:
        self.items.append(Problem(pos, message, "error", fld))

    def warn(self, pos: Pos, message: str, fld: str = "") -> None:
        self.items.append(Problem(pos, message, "warning", fld))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.level == "warning"]

    def sorted(self) -> list[Problem]:
        return sorted(set(self.items))
