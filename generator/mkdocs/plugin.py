"""Step 6, the MkDocs adapter: hands the generator's pages, feeds and data to MkDocs.

Like mkdocs-gen-files, it only adapts. Campaign and stats pages are MkDocs pages (few, in the
nav). Activity and district pages are many (a national campaign has 200,000 and 3,000), so they do
not each pay MkDocs' per-page pipeline: MkDocs renders two "shell" pages per campaign, one at the
depth of its activity pages and one at the depth of its district pages, and every such page is a
shell with its own title, description, URL and body put in (the mkdocs-material look, at
string-copy cost), written on every core.
"""

from __future__ import annotations

import gc
import html
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from markupsafe import Markup
from mkdocs.config import config_options as opt
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files, InclusionLevel
from watchdog.events import FileSystemEventHandler

from ..history import last_commit_time
from ..outputs.build import SiteBuild
from ..outputs.site import check_paths
from ..parallel import use_cores
from ..validate import read_site
from .preview import refresh_activity

log = logging.getLogger("mkdocs.plugins.kepu")

SHELL_TITLE = "@@KEPU-TITLE@@"
SHELL_DESC = "@@KEPU-DESC@@"
# contains "<h1" so mkdocs-material does not add a second page heading; the body brings its own
SHELL_BODY = "<!--@@KEPU-BODY<h1>-->"
SHELL_DIR = "_kepu-shell"
SHELL_MARKERS = {"title": SHELL_TITLE, "desc": SHELL_DESC, "body": SHELL_BODY, "dir": SHELL_DIR}


def html_text(text: str) -> Markup:
    """Text for mkdocs-material's templates, which print titles without escaping (MkDocs' Jinja
    environment has no autoescape): escaped once, and marked as such so that the places that do
    escape (the footer's aria-label ``| e``) leave it alone instead of escaping it twice."""
    return Markup(html.escape(text))


def _escape_nav(nav: list[Any]) -> list[Any]:
    """Nav titles (the campaign titles come from campaign.yml) as escaped text."""
    out: list[Any] = []
    for item in nav:
        if isinstance(item, dict):
            out.append({html_text(str(k)): _escape_nav(v) if isinstance(v, list) else v
                        for k, v in item.items()})
        else:
            out.append(item)
    return out


class KepuConfig(Config):
    root = opt.Type(str, default="")  # repository root; default: the folder of mkdocs.yml


class KepuPlugin(BasePlugin[KepuConfig]):
    supports_multiple_instances = False

    def on_startup(self, *, command: str, dirty: bool) -> None:
        use_cores(command != "serve")  # keep `kepu serve` in one process (see parallel.py)

    def on_config(self, config: Any) -> Any:
        root = Path(self.config.root or os.path.dirname(config.config_file_path)).resolve()
        if "SOURCE_DATE_EPOCH" not in os.environ:
            # MkDocs dates the sitemap and footer by the build; date them by the last commit so
            # that building the same data twice, on any day, gives the same bytes.
            stamp = last_commit_time(root)
            if stamp:
                os.environ["SOURCE_DATE_EPOCH"] = stamp
                self._epoch_set = True
        start = time.perf_counter()
        gc.disable()  # reading makes the model and little garbage: no collections while it grows
        try:
            site, problems = read_site(root)
            check_paths(site.campaigns, root, problems)
        finally:
            gc.enable()
        read_time = time.perf_counter() - start
        for p in problems.sorted():
            (log.error if p.level == "error" else log.warning)(p.format())
        if problems.errors:
            raise PluginError(
                f"活动数据有 {len(problems.errors)} 个错误，网站没有生成。请先运行 kepu check 并修正。"
            )
        if not config.site_url:
            raise PluginError("mkdocs.yml 缺少 site_url：日历订阅地址和二维码需要网站的完整网址")
        self.build = SiteBuild(site, config.site_url, root)
        self.build.timings["read"] = read_time
        # The model lives until the build ends: keep the cyclic collector from walking it again
        # and again (at national size that is millions of objects per full collection). Thawed
        # when the build ends, so `kepu serve` can free the previous build's model.
        gc.freeze()
        config.nav = _escape_nav(self.build.nav(config.nav))
        self._mkdocs_started = time.perf_counter()
        return config

    def on_files(self, files: Files, *, config: Any) -> Files:
        in_nav = self.build.nav_pages()
        self._titles = self.build.page_sources()
        for uri in self._titles:
            # no front matter: the title is set as escaped text in on_page_markdown
            files.append(File.generated(
                config, uri, content="",
                inclusion=InclusionLevel.INCLUDED if uri in in_nav else InclusionLevel.NOT_IN_NAV,
            ))
        for folder in self.build.shell_dirs(SHELL_DIR).values():
            files.append(File.generated(
                config, f"{folder}/index.md",
                content=(
                    f"---\ntitle: \"{SHELL_TITLE}\"\ndescription: \"{SHELL_DESC}\"\n---\n"
                ),
                inclusion=InclusionLevel.NOT_IN_NAV,
            ))
        return files

    def on_page_markdown(self, markdown: str, *, page: Any, config: Any, files: Files) -> str:
        title = getattr(self, "_titles", {}).get(page.file.src_uri)
        if title is not None:
            page.meta["title"] = html_text(title)
        return markdown

    def on_page_content(self, html_: str, *, page: Any, config: Any, files: Files) -> str:
        uri = page.file.src_uri
        if uri.endswith(f"/{SHELL_DIR}/index.md"):
            return SHELL_BODY
        body = self.build.page_body(uri)
        if body is not None:
            return body
        if uri == "index.md":
            return html_ + self.build.renderer.home_fragment()
        return html_

    def on_post_page(self, output: str, *, page: Any, config: Any) -> str:
        uri = page.file.src_uri
        if uri.endswith(f"/{SHELL_DIR}/index.md"):
            self.build.set_shell(uri.removesuffix(f"/{SHELL_DIR}/index.md"), output)
        return output

    def on_post_build(self, *, config: Any) -> None:
        # MkDocs' own part: theme, nav, home, campaign and stats pages, the shells, static files
        now = time.perf_counter()
        self.build.timings["mkdocs"] = now - getattr(self, "_mkdocs_started", now)
        site_dir = Path(config.site_dir)
        self.site_dir = site_dir
        for key, folder in self.build.shell_dirs(SHELL_DIR).items():
            if key not in self.build.shells:
                raise PluginError(f"{key}: 页面模板没有生成")
            shutil.rmtree(site_dir / folder, ignore_errors=True)
        with self.build.timed("pages"):
            self.build.write_pages(site_dir, SHELL_MARKERS)
        sitemap = site_dir / "sitemap.xml"
        if sitemap.exists():
            xml, gz = self.build.sitemap(sitemap.read_text(encoding="utf-8"), f"/{SHELL_DIR}/")
            sitemap.write_bytes(xml)
            (site_dir / "sitemap.xml.gz").write_bytes(gz)
        def write(rel: str, data: bytes) -> None:
            out = site_dir / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)

        for rel, data in self.build.extra_files(write):
            write(rel, data)
        self._restore_epoch()
        gc.unfreeze()
        for phase, seconds in self.build.timings.items():
            log.info(f"kepu 用时 {phase} {seconds:.2f}s")

    def on_build_error(self, *, error: Exception) -> None:
        self._restore_epoch()
        gc.unfreeze()

    def _restore_epoch(self) -> None:
        # the date belongs to this build of this repository, not to the whole process
        if getattr(self, "_epoch_set", False):
            os.environ.pop("SOURCE_DATE_EPOCH", None)
            self._epoch_set = False

    def on_serve(self, server: Any, *, config: Any, builder: Any) -> Any:
        # Preview reloads when staff edit YAML or the theme, not only Markdown. An edited activity
        # file is shown at once (preview.refresh_activity), then the full rebuild follows.
        root = self.build.root
        if (root / "site_theme").is_dir():
            server.watch(str(root / "site_theme"))
        if (root / "campaigns").is_dir():
            handler = FileSystemEventHandler()
            handler.on_any_event = lambda event: self._preview(server, event)  # type: ignore[method-assign]
            server.observer.schedule(handler, str(root / "campaigns"), recursive=True)
        return server

    def _preview(self, server: Any, event: Any) -> None:
        if event.is_directory:
            return
        # editors save in place (modified) or write a temporary file and rename it (moved)
        target = getattr(event, "dest_path", "") or event.src_path
        if event.event_type in ("modified", "moved", "created") and getattr(self, "site_dir", None):
            started = time.perf_counter()
            try:
                found = refresh_activity(self.build, Path(target), self.site_dir, SHELL_MARKERS)
            except Exception as err:  # never let the preview thread die; the full rebuild reports
                log.warning(f"快速预览失败（将完整重建）：{err}")
                found = None
            if found is not None:
                for p in found.sorted():
                    (log.error if p.level == "error" else log.warning)(p.format())
                if not found.errors:
                    log.info(f"已更新 {target}（{(time.perf_counter() - started) * 1000:.0f} ms）")
                    with server._epoch_cond:  # MkDocs' live reload: browsers reload on a newer epoch
                        server._wanted_epoch = server._visible_epoch = time.monotonic_ns()
                        server._epoch_cond.notify_all()
        with server._rebuild_cond:  # and the full rebuild, so listings and feeds catch up
            server._want_rebuild = True
            server._rebuild_cond.notify_all()
