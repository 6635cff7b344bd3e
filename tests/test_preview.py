"""`kepu serve`: an edited activity shows on its page without waiting for the full rebuild, and
a broken edit is reported, not published. (How fast is measured by hand and in the note, not here.)

The server's log is read in a thread; each step waits for the log line that says the step is
done (no fixed sleeps), under one deadline for the whole test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest
from site_fixtures import ROOT, copy_repo  # noqa: E402

pytest_plugins = ["site_fixtures"]
pytestmark = pytest.mark.slow
CID = "2022-xinxiang-kejizhou"
TOTAL = 28.0  # seconds for the whole test, server start included


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode("utf-8")


class LogWatch:
    """The server's output, line by line, read in a thread; waiters wake on every new line."""

    def __init__(self, stream: IO[str], deadline: float):
        self.lines: list[str] = []
        self.deadline = deadline
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def mark(self) -> int:
        with self._cond:
            return len(self.lines)

    def wait(self, what: str, found: Callable[[str], bool], since: int = 0) -> int:
        """Index of the first line from ``since`` on that ``found`` accepts; fails at the deadline."""
        def hit() -> int | None:
            return next((i for i in range(since, len(self.lines)) if found(self.lines[i])), None)

        with self._cond:
            left = max(0.0, self.deadline - time.monotonic())
            ok = self._cond.wait_for(lambda: hit() is not None, timeout=left)
            if not ok:
                pytest.fail(f"{what}: not in the log within {TOTAL:.0f} s:\n" + "\n".join(self.lines[-40:]))
            return hit()  # type: ignore[return-value]


def test_serve_shows_an_edited_activity_and_refuses_a_broken_edit(tmp_path: Path):
    repo = copy_repo(tmp_path / "repo", [CID])
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator.commands.cli", "serve", "-a", f"127.0.0.1:{port}"],
        cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8",
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    log = LogWatch(proc.stdout, time.monotonic() + TOTAL)
    try:
        src = next((repo / "campaigns" / CID / "activities").glob("*/*.yml"))
        url = f"http://127.0.0.1:{port}/{CID}/activities/{src.stem}/"
        log.wait("the preview coming up", lambda ln: "Serving on" in ln)
        assert "<h1" in fetch(url)

        text = src.read_text(encoding="utf-8")
        start = log.mark()
        # write-and-rename, as vim and many editors save
        tmp = src.with_suffix(".tmp")
        tmp.write_text(text.replace("title: ", "title: 预览测试", 1), encoding="utf-8")
        os.replace(tmp, src)
        shown = log.wait("the page refreshed on its own (fast path)", lambda ln: "已更新" in ln, start)
        assert "预览测试" in fetch(url), "the edit never showed"
        # the full rebuild that follows, so the next edit does not race it
        log.wait("the full rebuild after the edit", lambda ln: "Documentation built" in ln, shown)

        start = log.mark()
        src.write_text(
            text.replace("title: ", "title: 坏的编辑", 1).replace("start: ", "start: 2022年13月1日 #", 1),
            encoding="utf-8",
        )
        log.wait("the broken edit reported", lambda ln: "错误" in ln and "start" in ln, start)
        refused = log.wait("the full rebuild refused", lambda ln: "网站没有生成" in ln, start)
        # neither the fast path nor the build wrote it (MkDocs then holds requests until a build
        # succeeds, so the page itself is checked after the fix below)
        assert not any("已更新" in ln for ln in log.lines[start:refused]), "a broken edit was published"

        start = log.mark()
        src.write_text(text.replace("title: ", "title: 修好了", 1), encoding="utf-8")
        log.wait("the fixed edit shown", lambda ln: "已更新" in ln, start)
        log.wait("the site served again", lambda ln: "Reloading browsers" in ln, start)
        page = fetch(url)
        assert "修好了" in page and "坏的编辑" not in page
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
