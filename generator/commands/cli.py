"""The `kepu` command: staff-facing entry points, all messages in Chinese."""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import yaml

from ..cache import FOLDER, Cache
from ..outputs.site import check_paths
from ..problems import Problem, Problems
from ..repo import find_root
from ..validate import read_site
from .changes import add_changes
from .init import add_init
from .publish import PreviousListing, merge_in, refuse_output, swap_in, turn
from .staff import add_commands

if TYPE_CHECKING:
    from ..mkdocs.plugin import Rebuild


def report(problems: Problems, fmt: str = "text", out=None) -> None:
    out = out or sys.stdout
    for p in problems.sorted():
        print(p.format_github() if fmt == "github" else p.format(), file=out)


def content_cache(root: Path) -> Cache | None:
    """The build's content cache (the kepu plugin's cache_dir in mkdocs.yml, default
    .cache/kepu), so that `kepu check` takes unchanged files from it as the build does."""
    folder = str(FOLDER)
    cfg = root / "mkdocs.yml"
    if cfg.is_file():

        class Loader(yaml.SafeLoader):  # mkdocs.yml may hold !!python/name tags: read them as nothing
            pass

        Loader.add_multi_constructor("", lambda loader, suffix, node: None)
        try:
            data = yaml.load(cfg.read_text(encoding="utf-8"), Loader=Loader)  # noqa: S506 (SafeLoader)
        except (yaml.YAMLError, OSError, UnicodeDecodeError):
            data = None
        plugins = data.get("plugins") if isinstance(data, dict) else None
        for plugin in [plugins] if isinstance(plugins, dict) else plugins or []:  # a list or a mapping
            if isinstance(plugin, dict) and isinstance(plugin.get("kepu"), dict):
                folder = str(plugin["kepu"].get("cache_dir", folder))
    if not folder.strip():
        return None
    return Cache.open(root / folder, lambda message: print(f"提示: {message}", file=sys.stderr))


def cmd_check(args: argparse.Namespace) -> int:
    root = find_root()
    paths = [Path(p) for p in args.paths]
    for p in paths:
        if not p.exists():
            print(f"{p}: 错误: 找不到这个文件或文件夹", file=sys.stderr)
            return 2
    site, problems = read_site(root, paths or None, cache=content_cache(root))
    check_paths(site.campaigns, root, problems)
    # Staff's own problems first; the sample campaigns' warnings (they hold historical data on
    # purpose) only on request, so a clerk's warnings are not buried under them.
    sample_dirs = [(root / "campaigns" / c.id).resolve() for c in site.campaigns if c.sample]

    def in_sample(p: Problem) -> bool:
        where = (Path.cwd() / p.pos.path).resolve()
        return any(where == d or d in where.parents for d in sample_dirs)

    own = Problems([p for p in problems.items if not in_sample(p)])
    sample = Problems([p for p in problems.items if in_sample(p) and (args.samples or p.level == "error")])
    report(own, args.format)
    report(sample, args.format)
    n_act = sum(len(c.activities) for c in site.campaigns)
    if not site.campaigns and not problems.errors:
        print("没有可检查的内容：campaigns/ 下还没有活动文件夹（可用 kepu new campaign 新建）")
        return 0
    errors, warnings = len(problems.errors), len(problems.warnings)
    summary = f"检查了 {len(site.campaigns)} 个活动专题、{n_act} 项活动：{errors} 个错误，{warnings} 个警告"
    hidden = len(problems.items) - len(own.items) - len(sample.items)
    if hidden:
        summary += f"（其中 {hidden} 个是示例数据的警告，没有列出；加 --samples 查看）"
    print(summary, file=sys.stderr if args.format == "github" else sys.stdout)
    return 1 if errors else 0


def cmd_schema(args: argparse.Namespace) -> int:
    from .schema import schema

    if args.write:
        out = Path(args.write)
        out.mkdir(parents=True, exist_ok=True)
        for kind in ("campaign", "activity"):
            (out / f"{kind}.schema.json").write_text(
                json.dumps(schema(kind), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
        print(f"已写入 {out}/campaign.schema.json 和 {out}/activity.schema.json")
        return 0
    print(json.dumps(schema(args.kind), ensure_ascii=False, indent=2))
    return 0


def _mkdocs_config(root: Path) -> Path:
    cfg = root / "mkdocs.yml"
    if not cfg.is_file():
        raise SystemExit(f"{cfg}: 错误: 找不到 mkdocs.yml（请在仓库根目录运行）")
    return cfg


def build_site(root: Path, out: Path, quiet: bool = False, *, cache: bool = True) -> bool:
    """Build into a folder beside ``out`` and move it into place only when complete, so a failed
    build never replaces a good site: the whole site on a first build, and over an earlier site
    of this version only the files that changed (publish.merge_in). ``cache``: False builds
    without the content cache (the plugin's cache_dir) and writes the whole site, as a first
    build would."""
    import logging

    from mkdocs.exceptions import MkDocsException

    out = out.absolute()
    refusal = refuse_output(root, out)
    if refusal:
        print(f"错误: {refusal}\n网站没有生成。", file=sys.stderr)
        return False
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(levelname)s %(message)s")
    try:
        with turn(out):
            # the old site is listed by a process of its own while the build runs
            listing = PreviousListing(out) if cache else None
            try:
                rebuild = _build_into(root, out, listing, cache=cache)
            except (MkDocsException, SystemExit) as err:
                print(f"错误: {err}\n网站没有更新。", file=sys.stderr)
                return False
            finally:
                if listing is not None:
                    listing.close()
            rebuild.in_place()
    except OSError as err:  # full disk, read-only or missing permission: the old site stays
        where = err.filename or out.parent
        reason = {errno.ENOSPC: "磁盘已满", errno.EROFS: "文件夹只读", errno.EACCES: "没有写入权限",
                  errno.EPERM: "没有写入权限", errno.EDQUOT: "超出磁盘配额"}.get(err.errno or 0, err.strerror)
        print(f"错误: 无法写入 {where}：{reason}。原来的网站没有改动。", file=sys.stderr)
        return False
    return True


def _build_into(root: Path, out: Path, listing: PreviousListing | None, *, cache: bool) -> Rebuild:
    """One MkDocs build in a folder beside ``out``, moved into place when complete: over the old
    site when ``listing`` says there is one (only what changed is written, then
    publish.merge_in), else whole (publish.swap_in)."""
    import shutil
    import tempfile

    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    from ..mkdocs.plugin import Rebuild

    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-new-", dir=out.parent))
    try:
        config = load_config(config_file=str(_mkdocs_config(root)), site_dir=str(tmp))
        rebuild = Rebuild(out, listing is not None and listing.over and "kepu" in config.plugins)
        if "kepu" in config.plugins:
            plugin = config.plugins["kepu"]
            if not cache:
                plugin.config.cache_dir = ""
            plugin.rebuild = rebuild  # type: ignore[attr-defined]
        build(config)
        if not rebuild.over_previous:
            swap_in(tmp, out)
            return rebuild
        previous = listing.result() if listing is not None else None
        if previous is None:
            # the walk found a link (or what else no site holds) in the old site: it is not
            # built over; the whole site is made again and swapped in
            return _build_into(root, out, None, cache=cache)
        merge_in(tmp, out, previous)
        return rebuild
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def cmd_build(args: argparse.Namespace) -> int:
    root = find_root()
    out = Path(args.site_dir) if args.site_dir else root / "site"
    if not build_site(root, out, args.quiet, cache=not args.no_cache):
        return 1
    print(f"网站已生成：{out}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import logging

    from mkdocs.commands.serve import serve
    from mkdocs.exceptions import MkDocsException

    root = find_root()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        serve(config_file=str(_mkdocs_config(root)), dev_addr=args.dev_addr, livereload=True)
    except MkDocsException as err:
        print(f"错误: {err}\n预览没有启动。", file=sys.stderr)
        return 1
    return 0


# argparse's own messages (Python 3.11), in Chinese. argparse looks each one up when it is used,
# through the names `_` and `ngettext` it imported from gettext (default text domain, not an
# "argparse" one). A gettext catalog would need compiled .mo files plus a process-wide switch of
# text domain and language that reaches every other library's messages; instead KepuParser swaps
# those two names for this table, only while kepu's own parsers are built, parse or print.
# Messages not listed (argparse may add some) stay in English rather than fail.
ARGPARSE_ZH = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "subcommands": "子命令",
    "show this help message and exit": "显示这段帮助并退出",
    "show program's version number and exit": "显示版本号并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "the following arguments are required: %s": "缺少必填参数：%s",
    "unrecognized arguments: %s": "不认识的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "不能是 %(value)r，可选：%(choices)s",
    "invalid %(type)s value: %(value)r": "%(value)r 不是有效的 %(type)s 值",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "没有命令 %(parser_name)r（可选：%(choices)s）",
    "expected one argument": "后面需要一个值",
    "expected at most one argument": "后面最多一个值",
    "expected at least one argument": "后面至少需要一个值",
    "expected %s argument": "后面需要 %s 个值",
    "expected %s arguments": "后面需要 %s 个值",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "one of the arguments %s is required": "参数 %s 必须有一个",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 不明确，可能是 %(matches)s",
    "ignored explicit argument %r": "这个选项不接受值：%r",
    "unexpected option string: %s": "多余的选项：%s",
    "can't open '%(filename)s': %(error)s": "无法打开 '%(filename)s'：%(error)s",
}


@contextlib.contextmanager
def _chinese_argparse() -> Iterator[None]:
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._ = lambda msg: ARGPARSE_ZH.get(msg, msg)  # type: ignore[attr-defined]
    argparse.ngettext = lambda one, many, n: ARGPARSE_ZH.get(one if n == 1 else many, one if n == 1 else many)
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


class KepuParser(argparse.ArgumentParser):
    """ArgumentParser whose own messages (usage, errors, -h) are Chinese; its subcommands' parsers
    are KepuParsers too (argparse makes them with the parent's class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        with _chinese_argparse():  # the -h help text and the group titles are made here
            super().__init__(*args, **kwargs)

    def add_subparsers(self, **kwargs: Any) -> Any:
        with _chinese_argparse():
            return super().add_subparsers(**kwargs)

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        with _chinese_argparse():
            return super().parse_known_args(*args, **kwargs)

    def parse_args(self, *args: Any, **kwargs: Any) -> Any:  # "unrecognized arguments" is made here
        with _chinese_argparse():
            return super().parse_args(*args, **kwargs)

    def format_usage(self) -> str:
        with _chinese_argparse():
            return super().format_usage()

    def format_help(self) -> str:
        with _chinese_argparse():
            return super().format_help()

    def error(self, message: str) -> NoReturn:
        with _chinese_argparse():
            self.print_usage(sys.stderr)
            self.exit(2, f"{self.prog}：错误：{message}\n运行 {self.prog} -h 查看全部用法\n")


def build_parser() -> argparse.ArgumentParser:
    parser = KepuParser(prog="kepu", description="科普活动日历：校验、生成网站和日历订阅")
    sub = parser.add_subparsers(dest="command", metavar="命令")

    def add(name: str, helptext: str, func: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=helptext, description=helptext)
        p.set_defaults(func=func)
        return p

    p = add("check", "校验全部活动，或指定的活动文件夹/文件", cmd_check)
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument("--format", choices=["text", "github"], default="text", help="github：输出 CI 注释")
    p.add_argument("--samples", action="store_true", help="也列出示例活动专题（sample: true）的警告")
    p = add("build", "校验后生成整个网站和日历订阅（与 mkdocs build 相同）", cmd_build)
    p.add_argument("-d", "--site-dir", metavar="DIR", help="输出文件夹，默认 site/")
    p.add_argument("-q", "--quiet", action="store_true", help="只显示警告和错误")
    p.add_argument("--no-cache", action="store_true",
                   help="不用构建缓存（.cache/kepu），全部重新生成；缓存照常可随时删除")
    p = add("serve", "本地预览，修改 YAML 后自动刷新", cmd_serve)
    p.add_argument("-a", "--dev-addr", default="127.0.0.1:8000", metavar="IP:PORT")
    p = add("schema", "输出活动文件的 JSON Schema（供编辑器提示）", cmd_schema)
    p.add_argument("kind", nargs="?", choices=["campaign", "activity"], default="activity")
    p.add_argument("--write", metavar="DIR", help="把两个 schema 文件写入这个文件夹")
    add_commands(add)  # staff workflow: import, export, new, stats, codeowners (staff.py)
    add_init(add)  # a new deployment: site name, site_url, organiser, ICP, samples (init.py)
    add_changes(add)  # a pull request's effect for visitors, for the job summary (changes.py)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception:
        # Bad input never gets here (it is reported as problems); this is a bug in kepu itself.
        print("内部错误：这是程序的问题，不是数据的问题。请把下面的信息发给维护人员。", file=sys.stderr)
        raise


def run() -> None:
    """The `kepu` command: ``main``, then an exit that skips the interpreter's teardown. Freeing
    a large campaign's model object by object took 1 s at 30,000 activities and about 7 s at
    200,000, after the site was already in place; the process ends anyway, so its memory goes
    back to the system in one step. Nothing is left to do at that point: the site was moved in,
    the cache saved, every file closed; output is flushed here and logging shut down as the
    normal exit would. An exception still takes the normal way out, with its traceback."""
    import logging

    code = main()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # a reader that went away (`kepu check | head`)
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
