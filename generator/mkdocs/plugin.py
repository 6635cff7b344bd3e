"""Step 6, the MkDocs adapter: hands the generator's pages, feeds and data to MkDocs.

Like mkdocs-gen-files, it only adapts. Campaign and stats pages are MkDocs pages (few, in the
nav). Activity and district pages are many (a national campaign has 200,000 and 3,000), so they
are filled into shell pages instead (shell.py). The limits a deployment tunes are this plugin's
options in mkdocs.yml, passed down as one BuildOptions.
"""

from __future__ import annotations

import gc
import html
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from mkdocs.config import config_options as opt
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from watchdog.events import FileSystemEvent, FileSystemEventHandler

from ..cache import FOLDER, Cache, key
from ..history import history_problem, last_commit_time
from ..outputs.build import SiteBuild
from ..outputs.options import DEFAULT_OPTIONS, BuildOptions
from ..outputs.site import EXAMPLE_SITE_URL, check_paths
from ..validate import read_site
from .preview import refresh_activity
from .shell import SHELL_BODY, Shells, SiteWriter, precompress, precompress_kinds, sitemap

log = logging.getLogger("mkdocs.plugins.kepu")



def example_site_url_problem(site_url: str, campaigns: list[Any]) -> str | None:
    """The message when real (non-sample) campaigns are built with the example site_url."""
    if site_url.rstrip("/").lower() != EXAMPLE_SITE_URL.rstrip("/"):
        return None
    real = [c.id for c in campaigns if not c.sample]
    if not real:
        return None  # the sample site itself
    return (
        f"mkdocs.yml 的 site_url 还是示例网址 {EXAMPLE_SITE_URL}，但 {'、'.join(real[:3])}"
        f"{' 等' if len(real) > 3 else ''}不是示例活动：日历订阅、二维码和打印页都会指向这个示例网址。"
        "请把 mkdocs.yml 的 site_url 改成本网站的正式网址（如 https://kepu.某某科协.cn/），"
        "或运行 kepu init 设置"
    )


def unused_theme_file(src_uri: str) -> bool:
    """Theme files no page of this site loads, while material's search plugin is off (the site has
    its own search, README "搜索"): lunr and the search worker (1.2 MB), and the source maps
    (1.3 MB), which only a developer's browser tools ask for. A tenth of a 300-activity site."""
    return (src_uri.startswith(("assets/javascripts/lunr/", "assets/javascripts/workers/"))
            or (src_uri.startswith("assets/") and src_uri.endswith(".map")))


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


# the build's phases as the log names them (the benchmark reads these lines)
PHASE_WORD = {"read": "读取校验", "mkdocs": "MkDocs", "pages": "活动页和区县页", "history": "读取 git 历史",
              "feeds": "日历", "data": "开放数据", "search": "搜索索引"}


@dataclass
class Rebuild:
    """What `kepu build` (commands/cli.build_site) tells the plugin about the folder it builds for
    (``target``) and whether the build goes over a whole site of this version there; the plugin
    gives back what to do once the new site is in place (``in_place``)."""

    target: Path
    over_previous: bool
    in_place: Callable[[], None] = lambda: None


class KepuConfig(Config):
    root = opt.Type(str, default="")  # repository root; default: the folder of mkdocs.yml
    # limits a deployment may tune (mkdocs.yml documents them; defaults: outputs/options.py)
    home_limit = opt.Type(int, default=DEFAULT_OPTIONS.home_limit)
    listing_limit = opt.Type(int, default=DEFAULT_OPTIONS.listing_limit)
    refresh_hours = opt.Type(int, default=int(DEFAULT_OPTIONS.refresh / timedelta(hours=1)))
    max_changes = opt.Type(int, default=DEFAULT_OPTIONS.max_changes)
    site_feed_name = opt.Type(str, default=DEFAULT_OPTIONS.site_feed_name)
    # .gz (and .br) copies of every text file, for hosts that serve them: false (default), true
    # (= [gz]) or [gz, br]; checked and written by shell.precompress_kinds / precompress
    precompress = opt.Type((bool, list), default=False)
    # the content cache (generator/cache.py), relative to the repository root; "" for none
    cache_dir = opt.Type(str, default=str(FOLDER))


def build_options(cfg: KepuConfig, *, parallel: bool) -> BuildOptions:
    for name in ("home_limit", "listing_limit", "refresh_hours", "max_changes"):
        if cfg[name] < 1:
            raise PluginError(f"mkdocs.yml 的 kepu 插件选项 {name} 必须是正整数（现在是 {cfg[name]}）")
    if not cfg.site_feed_name.strip():
        raise PluginError("mkdocs.yml 的 kepu 插件选项 site_feed_name 不能为空")
    return BuildOptions(
        home_limit=cfg.home_limit, listing_limit=cfg.listing_limit,
        refresh=timedelta(hours=cfg.refresh_hours), max_changes=cfg.max_changes,
        site_feed_name=cfg.site_feed_name, parallel=parallel,
    )


class KepuPlugin(BasePlugin[KepuConfig]):
    supports_multiple_instances = False

    def on_startup(self, *, command: str, dirty: bool) -> None:
        # keep `kepu serve` in one process: it runs server and watcher threads (see parallel.py)
        self.parallel = command != "serve"
        self.serving = command == "serve"

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        self._wait()  # a preview's previous build may still be writing in the background
        root = Path(self.config.root or os.path.dirname(config.config_file_path)).resolve()
        options = build_options(self.config, parallel=getattr(self, "parallel", True))
        self.precompress = precompress_kinds(self.config.precompress)
        shallow = history_problem(root)  # feeds' revisions need the whole history
        if shallow is not None:
            fatal, message = shallow
            if fatal:
                raise PluginError(message + "（CI 中不生成网站）")
            log.warning(message)
        # The build's date: SOURCE_DATE_EPOCH when the caller set it (reproducible builds), else
        # the last commit, so that building the same data twice, on any day, gives the same bytes.
        stamp = os.environ.get("SOURCE_DATE_EPOCH") or last_commit_time(root)
        when = datetime.fromtimestamp(int(stamp), UTC) if stamp else datetime.now(UTC)
        self.build_day = when.date().isoformat()  # passed to the sitemap below
        if stamp and "SOURCE_DATE_EPOCH" not in os.environ:
            # MkDocs reads the date only from the environment (mkdocs.utils.get_build_date, for
            # its sitemap and footer) and has no option for it: set for this build only, and
            # removed when it ends (_restore_epoch). The generator itself never reads it.
            os.environ["SOURCE_DATE_EPOCH"] = stamp
            self._epoch_set = True
        start = time.perf_counter()
        folder = self.config.cache_dir.strip()
        # `kepu serve` builds for its own address (MkDocs sets site_url to it), so its pages and
        # events differ from the published ones: a cache of its own, or each would evict the other
        base = root / folder / "serve" if getattr(self, "serving", False) else root / folder
        cache = Cache.open(base, log.warning) if folder else None
        gc.disable()  # reading makes the model and little garbage: no collections while it grows
        try:
            site, problems = read_site(root, parallel=options.parallel, cache=cache)
            check_paths(site.campaigns, root, problems)
        finally:
            # The model lives until the build ends: kept from the cyclic collector, which would
            # otherwise walk it again and again (at national size millions of objects per full
            # collection, the first one due as soon as collections resume). Thawed when the
            # build ends or fails (on_post_build, on_build_error), so `kepu serve` can free it.
            gc.freeze()
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
        wrong_url = example_site_url_problem(config.site_url, site.campaigns)
        if wrong_url:
            if os.environ.get("CI", "").lower() == "true":  # set by GitHub Actions and most CI
                raise PluginError(wrong_url + "。在 CI 中不生成网站。")
            log.warning(wrong_url)
        self.build = SiteBuild(site, config.site_url, root, options, cache)
        self.shells = Shells(self.build.shell_folders())
        self.build.timings["read"] = read_time
        gc.freeze()  # and what SiteBuild made of it
        config.nav = _escape_nav(self.build.nav(config.nav))
        self._mkdocs_started = time.perf_counter()
        return config

    def on_env(self, env: jinja2.Environment, *, config: MkDocsConfig, files: Files) -> jinja2.Environment:
        """The theme's templates compiled once, kept in the content cache (TemplateCache)."""
        if self.build.templates is not None:
            env.bytecode_cache = self.build.templates
        return env

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        if not any(name.rsplit("/", 1)[-1] == "search" for name in config.plugins):
            theme_dirs = {os.path.normpath(d) for d in config.theme.dirs}
            for f in [f for f in files if unused_theme_file(f.src_uri)
                      and f.src_dir is not None and os.path.normpath(f.src_dir) in theme_dirs]:
                files.remove(f)
        in_nav = self.build.nav_pages()
        self._titles = self.build.page_sources()
        for uri in self._titles:
            # no front matter: the title is set as escaped text in on_page_markdown
            files.append(File.generated(
                config, uri, content="",
                inclusion=InclusionLevel.INCLUDED if uri in in_nav else InclusionLevel.NOT_IN_NAV,
            ))
        for uri, content in self.shells.sources().items():
            files.append(File.generated(config, uri, content=content, inclusion=InclusionLevel.NOT_IN_NAV))
        return files

    def on_page_markdown(self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        title = getattr(self, "_titles", {}).get(page.file.src_uri)
        if title is not None:
            page.meta["title"] = html_text(title)
        return markdown

    def on_page_content(self, html_: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        uri = page.file.src_uri
        if self.shells.folder_of(uri) is not None:
            return SHELL_BODY
        body = self.build.page_body(uri)
        if body is not None:
            return body
        if uri == "index.md":
            home = self.build.renderer.home_fragment
            return html_ + self.build.body("index.md", self.build.site.published(), home)
        return html_

    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        folder = self.shells.folder_of(page.file.src_uri)
        if folder is not None:
            self.shells.keep(folder, output)
        return output

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        # MkDocs' own part: theme, nav, home, campaign and stats pages, the shells, static files
        now = time.perf_counter()
        self.build.timings["mkdocs"] = now - getattr(self, "_mkdocs_started", now)
        site_dir = Path(config.site_dir)
        self.site_dir = site_dir
        for folder in self.shells.missing():
            raise PluginError(f"{folder}: 页面模板没有生成")
        self.shells.remove_from(site_dir)
        if getattr(self, "serving", False):
            # `kepu serve` answers once MkDocs' own pages are there (home, campaigns): the activity
            # and district pages, feeds, data and search follow in the background, and open pages
            # reload when they are done. The next build, and a quick preview, wait for them.
            self._restore_epoch()
            self._rest = threading.Thread(target=self._write_rest_in_background, args=(site_dir,),
                                          name="kepu-rest", daemon=True)
            self._rest.start()
            log.info("预览已可访问；活动页、区县页、日历和搜索索引正在后台生成")
            return
        self._write_rest(site_dir)

    def _write_rest_in_background(self, site_dir: Path) -> None:
        try:
            self._write_rest(site_dir)
        except Exception as err:  # noqa: BLE001 (the preview thread must not die silently)
            log.error(f"预览：活动页、日历和搜索索引没有生成：{err}")
            gc.unfreeze()
            return
        log.info("预览：活动页、区县页、日历和搜索索引已生成")
        server = getattr(self, "_server", None)
        if server is not None:
            _reload(server)

    def _wait(self) -> None:
        """Let the background writing of the previous preview build finish (kepu serve)."""
        rest = getattr(self, "_rest", None)
        if rest is not None:
            rest.join()
            self._rest = None

    def _write_rest(self, site_dir: Path) -> None:
        """Everything after MkDocs' part: the activity and district pages, sitemap, feeds, open
        data and search index, and the cache's bookkeeping."""
        self.build.bodies_done()
        compress = self.precompress if getattr(self, "parallel", True) else []  # not in `kepu serve`
        # set by `kepu build` (commands/cli.build_site), which moves in only what was written
        rebuild: Rebuild | None = getattr(self, "rebuild", None)
        previous = rebuild.target if rebuild is not None and rebuild.over_previous else None
        # which key made each file of the site (rel → key, size), kept in the cache per site
        # folder: one record, read and written whole, since a rebuild lists every file again
        made = (self.build.cache.record(f"site-{key(str(rebuild.target))[:16]}")
                if self.build.cache is not None and rebuild is not None else None)
        listed = made.load() if made is not None and previous is not None else None
        known = listed[1] if listed is not None and isinstance(listed[1], dict) else {}
        out = SiteWriter(site_dir, previous, tuple(f".{k}" for k in compress), known)
        with self.build.timed("pages"):
            self.shells.write_all(self.build, out)
        mkdocs_sitemap = site_dir / "sitemap.xml"
        if mkdocs_sitemap.exists():
            xml, gz = sitemap(mkdocs_sitemap.read_text(encoding="utf-8"), self.build.base_url,
                              self.build.page_dates(self.build_day))
            # MkDocs' own two files go: ours are written, or kept when unchanged
            mkdocs_sitemap.unlink()
            (site_dir / "sitemap.xml.gz").unlink(missing_ok=True)
            out.write("sitemap.xml", xml)
            out.write("sitemap.xml.gz", gz)  # the same bytes precompress would make
        for rel, data in self.build.extra_files(out):
            out.write(rel, data)
        now = out.made_now()
        if made is not None and rebuild is not None:
            # saved once the new site is in place, never before: if the build fails from here,
            # the list still describes the site that stays
            rebuild.in_place = lambda: made.save(now)
        if self.build.cache is not None:  # the tables of deleted campaigns go
            self.build.cache.forget_other_tables()
        if compress:
            with self.build.timed("precompress"):
                precompress(site_dir, compress, parallel=True)
        self._restore_epoch()
        gc.unfreeze()
        for phase, seconds in self.build.timings.items():
            log.info(f"kepu 用时：{PHASE_WORD.get(phase, phase)} {seconds:.2f} 秒")

    def on_build_error(self, *, error: Exception) -> None:
        self._restore_epoch()
        gc.unfreeze()

    def _restore_epoch(self) -> None:
        # the date belongs to this build of this repository, not to the whole process
        if getattr(self, "_epoch_set", False):
            os.environ.pop("SOURCE_DATE_EPOCH", None)
            self._epoch_set = False

    def on_serve(
        self, server: LiveReloadServer, *, config: MkDocsConfig, builder: Callable[..., Any]
    ) -> LiveReloadServer:
        # Preview reloads when staff edit YAML or the theme, not only Markdown. An edited activity
        # file is shown at once (preview.refresh_activity), then the full rebuild follows.
        self._server = server
        serve = server._serve_request

        def when_written(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            # a page the background writing has not reached yet is answered once it is written,
            # not with a 404 (MkDocs holds requests during its own builds the same way)
            rest = getattr(self, "_rest", None)
            if rest is not None and rest.is_alive():
                path = str(environ.get("PATH_INFO", "")).removeprefix(server.mount_path.rstrip("/"))
                wanted = Path(self.site_dir, path.lstrip("/"), "index.html" if path.endswith("/") else "")
                if not wanted.exists():
                    rest.join()
            return serve(environ, start_response)

        server._serve_request = when_written  # type: ignore[method-assign]
        root = self.build.root
        if (root / "site_theme").is_dir():
            server.watch(str(root / "site_theme"))
        if (root / "campaigns").is_dir():
            handler = FileSystemEventHandler()
            handler.on_any_event = lambda event: self._preview(server, event)  # type: ignore[method-assign]
            server.observer.schedule(handler, str(root / "campaigns"), recursive=True)
        return server

    def _preview(self, server: LiveReloadServer, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        # editors save in place (modified) or write a temporary file and rename it (moved)
        target = os.fsdecode(getattr(event, "dest_path", "") or event.src_path)
        if event.event_type in ("modified", "moved", "created") and getattr(self, "site_dir", None):
            started = time.perf_counter()
            self._wait()  # else the background writing could put the old page back
            try:
                found = refresh_activity(self.build, self.shells, Path(target), self.site_dir)
            except Exception as err:  # never let the preview thread die; the full rebuild reports
                log.warning(f"快速预览失败（将完整重建）：{err}")
                found = None
            if found is not None:
                for p in found.sorted():
                    (log.error if p.level == "error" else log.warning)(p.format())
                if not found.errors:
                    log.info(f"已更新 {target}（{(time.perf_counter() - started) * 1000:.0f} ms）")
                    _reload(server)
        with server._rebuild_cond:  # and the full rebuild, so listings and feeds catch up
            server._want_rebuild = True
            server._rebuild_cond.notify_all()


def _reload(server: LiveReloadServer) -> None:
    """MkDocs' live reload: open pages reload when the server's epoch is newer (it has no public
    call for "the site changed" other than a rebuild)."""
    with server._epoch_cond:
        server._wanted_epoch = server._visible_epoch = time.monotonic_ns()
        server._epoch_cond.notify_all()
