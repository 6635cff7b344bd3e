"""`kepu serve`: an edited activity shows on its page without waiting for the full rebuild, and
a broken edit is reported, not published. (How fast is measured by hand and in the note, not here.)"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from site_fixtures import ROOT, copy_repo  # noqa: E402

pytest_plugins = ["site_fixtures"]
CID = "2022-xinxiang-kejizhou"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read().decode("utf-8")
    except OSError:
        return ""


def wait_for(pred, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return False


def test_serve_shows_an_edited_activity_and_refuses_a_broken_edit(tmp_path: Path):
    repo = copy_repo(tmp_path / "repo", [CID])
    port = free_port()
    with open(tmp_path / "serve.log", "w+", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "kepu"), "serve", "-a", f"127.0.0.1:{port}"],
            cwd=repo,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            src = next((repo / "campaigns" / CID / "activities").glob("*/*.yml"))
            url = f"http://127.0.0.1:{port}/{CID}/activities/{src.stem}/"
            assert wait_for(lambda: "<h1" in fetch(url), 120), "the preview never came up"
            text = src.read_text(encoding="utf-8")
            # write-and-rename, as vim and many editors save
            tmp = src.with_suffix(".tmp")
            tmp.write_text(text.replace("title: ", "title: 预览测试", 1), encoding="utf-8")
            os.replace(tmp, src)
            assert wait_for(lambda: "预览测试" in fetch(url), 60), "the edit never showed"
            log.flush()
            assert wait_for(lambda: "已更新" in (tmp_path / "serve.log").read_text(encoding="utf-8"), 10), (
                "the page was not refreshed on its own (fast path)"
            )
            time.sleep(1.5)  # let the follow-up full rebuild start before the next edit
            src.write_text(
                text.replace("title: ", "title: 坏的编辑", 1).replace("start: ", "start: 2022年13月1日 #", 1),
                encoding="utf-8",
            )
            assert wait_for(
                lambda: (
                    "start" in (tmp_path / "serve.log").read_text(encoding="utf-8").split("已更新")[-1]
                    and "错误" in (tmp_path / "serve.log").read_text(encoding="utf-8").split("已更新")[-1]
                ),
                60,
            ), "the broken edit was not reported"
            assert "坏的编辑" not in fetch(url), "a broken edit was published"
        finally:
            proc.terminate()
            proc.wait(timeout=30)
