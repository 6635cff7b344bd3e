"""Build-time benchmark: kepu build vs Hugo (reference) vs writing the same bytes.

    .venv/bin/python bench/run.py                 # 300, 3,000 and 30,000 activities
    .venv/bin/python bench/run.py 3000:23 200000:3000
    .venv/bin/python bench/run.py --smoke         # 60 activities, what the test suite runs
    .venv/bin/python bench/run.py --weight 3000:23   # one kepu build, sizes only (no Hugo, no timing)
    .venv/bin/python bench/run.py --site site/       # sizes of a site already built (e.g. the sample)

For each size it makes a synthetic campaign (bench/synth.py), times `kepu build` cold (empty
output folder, no content cache) and warm (after editing one activity file, with the cache and
the site the cold build left), with wall time, CPU time and peak memory of the whole process tree (sampled
from /proc); Hugo (Debian's package) building the same activity pages with a minimal layout;
`kepu check` of the edited file (cache warm); the time until `kepu serve` answers; and writing
kepu's output bytes again (the disk's floor for any build that writes the site); then prints a
table with the ratios. Up to 30,000 activities each tool runs three times, taking turns, and the
median run is shown (single runs on a shared machine vary by ±20 %). Figures are printed, never
asserted: timing belongs here, not in tests.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from synth import make  # noqa: E402

KEPU = ROOT / ".venv" / "bin" / "kepu"


def tree_pss_kb(pid: int) -> int:
    """Proportional set size of a process and its descendants (fork workers share pages)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                m = re.search(r"^Pss:\s+(\d+)", fh.read(), re.M)
                total += int(m.group(1)) if m else 0
            # every thread's children: the pool forks replacement workers from a thread of its own
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


class Run(NamedTuple):
    wall: float  # seconds
    peak: int  # MB
    cpu: float  # user + system seconds of the process and every child it waited for
    err: str  # stderr (kepu logs its phase timings there)


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Wall time, peak memory, CPU time and stderr of a command. CPU time is shown beside wall
    time because it hardly depends on a throttled disk or a busy neighbour, and wall time does."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    peak = 0
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)
    reader.start()
    while proc.poll() is None:
        peak = max(peak, tree_pss_kb(proc.pid))
        # sample often at first (Hugo is done in a second), then rarely: reading smaps of a large
        # process costs CPU the measured build would otherwise have
        time.sleep(0.05 if time.perf_counter() - start < 3 else 1.0)
    reader.join()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{''.join(err)[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, peak // 1024, cpu, "".join(err))


def serve_ready(repo: Path, port: int = 8765) -> float:
    """Seconds from starting `kepu serve` until its home page answers (cache warm), then stop it."""
    import urllib.request

    proc = subprocess.Popen([str(KEPU), "serve", "-a", f"127.0.0.1:{port}"], cwd=repo,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.perf_counter()
    try:
        while time.perf_counter() - start < 600:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.05)
        return float("nan")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def edit_one(repo: Path, round_: int) -> Path:
    """Change one activity's title (a different one each round), as a clerk's fix would."""
    f = sorted((repo / "campaigns").glob("*/activities/*/*.yml"))[0]
    text = f.read_text(encoding="utf-8")
    lines = text.splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.startswith("title:"))
    lines[i] = f"{lines[i].split('（')[0]}（第{round_ + 1}次修改）"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f


def prepare(base: Path, n: int, districts: int, reuse: bool = False) -> Path:
    repo = base / f"repo-{n}"
    if reuse and (repo / ".git").is_dir():  # made by an earlier run (200,000 takes minutes to make)
        for sub in ("content", "site_theme"):  # the current theme, as a fresh one would have
            shutil.rmtree(repo / sub, ignore_errors=True)
            shutil.copytree(ROOT / sub, repo / sub)
        shutil.copy(ROOT / "mkdocs.yml", repo)
        return repo
    if repo.exists():
        shutil.rmtree(repo)
    make(repo, n, districts)
    shutil.copy(ROOT / "mkdocs.yml", repo)
    for sub in ("content", "site_theme"):
        shutil.copytree(ROOT / sub, repo / sub)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.cn", "commit", "-qm", "bench"],
        cwd=repo,
        check=True,
        env={
            **os.environ,
            "GIT_COMMITTER_DATE": "2023-09-01T00:00:00Z",
            "GIT_AUTHOR_DATE": "2023-09-01T00:00:00Z",
        },
    )
    return repo


def hugo_site(repo: Path, out: Path) -> Path | None:
    """The same activity pages as a minimal Hugo site (title, time, venue, description)."""
    if not shutil.which("hugo"):
        return None
    import yaml

    site = out / "hugo"
    if site.exists():
        shutil.rmtree(site)
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "content" / "activities").mkdir(parents=True)
    (site / "hugo.toml").write_text(
        'baseURL = "https://kepu.example.cn/"\ndisableKinds = ["taxonomy", "term", "RSS", "sitemap"]\n',
        encoding="utf-8",
    )
    (site / "layouts" / "_default" / "single.html").write_text(
        "<!doctype html><html lang=zh><head><meta charset=utf-8><title>{{ .Title }}</title></head><body>"
        "<h1>{{ .Title }}</h1><p>{{ .Params.when }}</p><p>{{ .Params.venue }}</p>"
        "{{ .Content }}</body></html>",
        encoding="utf-8",
    )
    (site / "layouts" / "_default" / "list.html").write_text("<h1>{{ .Title }}</h1>", encoding="utf-8")
    for f in sorted((repo / "campaigns").glob("*/activities/*/*.yml")):
        a = yaml.load(f.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        venue = (a.get("venue") or {}).get("name", "线上")
        front = yaml.safe_dump(
            {"title": a["title"], "when": str(a["start"]), "venue": venue}, allow_unicode=True
        )
        (site / "content" / "activities" / f"{f.stem}.md").write_text(
            f"---\n{front}---\n{a.get('description', '')}\n", encoding="utf-8"
        )
    return site


def write_same_bytes(built: Path, dest: Path) -> float:
    """Seconds to write kepu's output files again (reads are not timed; one file in memory at a
    time, since a national site is several GB)."""
    if dest.exists():
        shutil.rmtree(dest)
    spent = 0.0
    for p in built.rglob("*"):
        if not p.is_file():
            continue
        data = p.read_bytes()
        out = dest / p.relative_to(built)
        start = time.perf_counter()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        spent += time.perf_counter() - start
    return spent


class Weight(NamedTuple):
    pages: int  # activity pages
    median: int  # bytes of the median activity page
    largest: int  # bytes of the largest one
    site: int  # bytes of the site, without precompressed copies
    gz: int  # bytes of the .gz copies (0 without `precompress`)
    br: int  # bytes of the .br copies
    district: int  # bytes of the median district page


def weight(site: Path) -> Weight:
    """Sizes are deterministic, unlike times on a shared machine: the issue 16 "Weight" goal."""
    pages = sorted(p.stat().st_size for p in site.glob("*/activities/*/index.html"))
    by_kind = {".gz": 0, ".br": 0, "": 0}
    for p in site.rglob("*"):
        if p.is_file():
            by_kind[p.suffix if p.suffix in by_kind else ""] += p.stat().st_size
    mid = pages[len(pages) // 2] if pages else 0
    districts = sorted(p.stat().st_size for p in site.glob("*/*/index.html")
                       if kind_of(p.relative_to(site)) == "district pages")
    return Weight(len(pages), mid, pages[-1] if pages else 0, by_kind[""], by_kind[".gz"], by_kind[".br"],
                  districts[len(districts) // 2] if districts else 0)


# Kinds of file by where the URL layout (SPEC.md) puts them: campaign/activities/<id>/index.html, …
def kind_of(rel: Path) -> str:
    parts, name = rel.parts, rel.name
    if rel.suffix in (".gz", ".br"):
        return "precompressed copies"
    if parts[0] == "assets":
        return "theme assets"
    if parts[0] == "search":
        return "search index"
    if len(parts) == 4 and parts[1] == "activities" and name == "index.html":
        return "activity pages"
    if len(parts) == 3 and parts[1] == "activities" and rel.suffix == ".ics":
        return "activity feeds (.ics)"
    if len(parts) == 3 and parts[1] == "categories":
        return "category feeds"
    if name == "calendar.ics":
        return "district feeds" if len(parts) == 3 else "campaign and site feeds"
    if len(parts) == 3 and name == "index.html" and parts[1] != "stats":
        return "district pages"
    if name in ("activities.json", "activities.csv"):
        return "open data (JSON, CSV)"
    return "other"


def kinds(site: Path) -> dict[str, tuple[int, int]]:
    """Bytes and files by kind, largest first: where a site's weight is."""
    out: dict[str, list[int]] = {}
    for p in site.rglob("*"):
        if p.is_file():
            entry = out.setdefault(kind_of(p.relative_to(site)), [0, 0])
            entry[0] += p.stat().st_size
            entry[1] += 1
    return {k: (v[0], v[1]) for k, v in sorted(out.items(), key=lambda kv: -kv[1][0])}


def kinds_text(site: Path) -> str:
    found = kinds(site)
    total = sum(size for size, _ in found.values()) or 1
    return "\n".join(f"   {k:<24} {size / 2**20:8.1f} MB {100 * size / total:5.1f} % {n:>8,} files"
                     for k, (size, n) in found.items())


def weight_text(w: Weight) -> str:
    pre = f", .gz {w.gz / 2**20:.1f} MB" if w.gz else ""
    pre += f", .br {w.br / 2**20:.1f} MB" if w.br else ""
    return (f"activity page median {w.median / 1024:.1f} KB, max {w.largest / 1024:.1f} KB "
            f"({w.pages:,} pages); district page median {w.district / 1024:.1f} KB; "
            f"site {w.site / 2**20:.1f} MB{pre}")


class Row(NamedTuple):
    n: int
    kepu: Run  # cold
    hugo: Run | None
    warm: Run  # after a one-file edit
    check: Run  # kepu check of the edited file
    ready: float  # seconds until kepu serve answers
    written: float  # seconds to write the same bytes again
    size_mb: float
    weight: Weight


def median(runs: list[Run]) -> Run:
    """The run with the median wall time (its own peak memory, CPU time and log)."""
    return sorted(runs, key=lambda r: r.wall)[len(runs) // 2]


def phases(stderr: str) -> dict[str, float]:
    """The plugin's phase timings (its log speaks Chinese; PHASE_WORD maps the names back)."""
    from generator.mkdocs.plugin import PHASE_WORD

    key = {word: phase for phase, word in PHASE_WORD.items()}
    found = re.findall(r"kepu 用时：(.+?) ([\d.]+) 秒", stderr)
    return {key.get(name, name): float(v) for name, v in found}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sizes", nargs="*", default=["300:5", "3000:23", "30000:300"],
                    help="activities:districts")
    ap.add_argument("--smoke", action="store_true", help="one tiny run, for the test suite")
    ap.add_argument("--weight", action="store_true", help="one kepu build per size, print sizes only")
    ap.add_argument("--site", help="print the sizes of this already built site and stop")
    ap.add_argument("--out", default=str(HERE / "out"))
    ap.add_argument("--reuse", action="store_true", help="keep a synthetic repository an earlier run made")
    ap.add_argument("--runs", type=int, default=0,
                    help="runs of each tool, the median is shown (default 3 up to 30,000 activities, else 1)")
    args = ap.parse_args()
    if args.site:
        print(weight_text(weight(Path(args.site))))
        print(kinds_text(Path(args.site)))
        return
    sizes = ["60:5"] if args.smoke else args.sizes
    if args.smoke:
        args.runs = 1
    base = Path(args.out)
    base.mkdir(parents=True, exist_ok=True)
    rows = []
    for spec in sizes:
        n, d = (int(x) for x in spec.split(":"))
        print(f"== {n} activities, {d} districts", flush=True)
        repo = prepare(base, n, d, args.reuse)
        site = base / f"site-{n}"
        if args.weight:
            run([str(KEPU), "build", "-d", str(site)], repo)
            print("   " + weight_text(weight(site)), flush=True)
            print(kinds_text(site), flush=True)
            continue
        hugo = hugo_site(repo, base)
        tools = {"kepu": ([str(KEPU), "build", "-d", str(site)], repo, site)}
        if hugo is not None:
            out = base / f"hugo-out-{n}"
            tools["hugo"] = (["hugo", "--quiet", "-d", str(out)], hugo, out)
        tools["warm"] = tools["kepu"]
        runs = args.runs or (3 if n <= 30_000 else 1)
        results: dict[str, list[Run]] = {k: [] for k in tools}
        checks: list[Run] = []
        for i in range(runs):  # the tools take turns, so that a busy moment hits both alike
            for name, (cmd, cwd, out) in tools.items():
                # a cold run starts from an empty output folder (removing the previous site is not
                # part of building one) with nothing left to write back from the last run, kepu
                # also without the content cache; a warm one, after one activity file is edited,
                # with the cache and the site the cold build just before it left, as a clerk's
                # rebuild finds them
                if name != "warm":
                    shutil.rmtree(out, ignore_errors=True)
                if name == "kepu":
                    shutil.rmtree(repo / ".cache", ignore_errors=True)
                if name == "warm":
                    edited = edit_one(repo, i)
                os.sync()
                results[name].append(run(cmd, cwd))
            checks.append(run([str(KEPU), "check", str(edited.relative_to(repo))], repo))
        kepu = median(results["kepu"])
        warm = median(results["warm"])
        check = median(checks)
        # the second start: the first fills `kepu serve`'s own cache, as a clerk's first preview does
        ready = serve_ready(repo) and serve_ready(repo) if n <= 30_000 else float("nan")
        print(f"   warm after a one-file edit {warm.wall:.1f} s (CPU {warm.cpu:.1f} s) {warm.peak} MB; "
              f"kepu check of that file {check.wall:.2f} s (CPU {check.cpu:.2f} s); "
              f"serve ready {ready:.1f} s; warm phases {phases(warm.err)}", flush=True)
        ph = phases(kepu.err)
        size_mb = sum(p.stat().st_size for p in site.rglob("*") if p.is_file()) / 2**20
        hugo = median(results["hugo"]) if "hugo" in results else None
        spread = {k: ", ".join(f"{r.wall:.1f}" for r in v) for k, v in results.items()}
        h = f"{hugo.wall:.1f} s (CPU {hugo.cpu:.1f} s)" if hugo else "n/a"
        print(f"   kepu {kepu.wall:.1f} s (CPU {kepu.cpu:.1f} s) {kepu.peak} MB; hugo {h}; runs {spread}; "
              f"phases {ph}", flush=True)
        w = write_same_bytes(site, base / f"bytes-{n}")
        print(f"   same bytes written again: {w:.1f} s", flush=True)
        print("   " + weight_text(weight(site)), flush=True)
        rows.append(Row(n, kepu, hugo, warm, check, ready, w, size_mb, weight(site)))
        if not args.smoke:
            shutil.rmtree(base / f"bytes-{n}", ignore_errors=True)

    print()
    print(f"machine: {os.cpu_count()} cores, {os.uname().machine}, Python {sys.version.split()[0]}")
    print(
        "| activities | kepu cold (CPU) | Hugo (minimal) (CPU) | ratio to Hugo, wall (CPU) "
        "| peak memory kepu / Hugo | warm after one edit (CPU) | kepu check one file | serve ready "
        "| same bytes written | activity page median | site |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        h = f"{r.hugo.wall:.1f} s ({r.hugo.cpu:.1f} s)" if r.hugo else "n/a (apt-get install hugo)"
        ratio = f"{r.kepu.wall / r.hugo.wall:.1f}× ({r.kepu.cpu / r.hugo.cpu:.1f}×)" if r.hugo else "n/a"
        mem = f"{r.kepu.peak:,} / {r.hugo.peak:,} MB" if r.hugo else f"{r.kepu.peak:,} MB"
        print(
            f"| {r.n:,} | {r.kepu.wall:.1f} s ({r.kepu.cpu:.1f} s) | {h} | {ratio} | {mem} "
            f"| {r.warm.wall:.1f} s ({r.warm.cpu:.1f} s) | {r.check.wall:.2f} s | {r.ready:.1f} s "
            f"| {r.written:.1f} s | {r.weight.median / 1024:.1f} KB | {r.size_mb:,.0f} MB |"
        )
    for r in rows:
        print(f"\n{r.n:,}: cold phases", ", ".join(f"{k} {v:.1f}s" for k, v in phases(r.kepu.err).items()),
              "| warm phases", ", ".join(f"{k} {v:.1f}s" for k, v in phases(r.warm.err).items()))


if __name__ == "__main__":
    main()
