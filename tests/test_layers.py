"""The package layout is the architecture (README "目录"): the core imports none of the outer
layers, ``outputs`` imports neither the MkDocs adapter nor the commands, and nothing imports
the commands. Read from the source's import statements (function-local ones included)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "generator"
LAYERS = {"": 0, "outputs": 1, "mkdocs": 2, "commands": 3}
# what each layer may import, besides itself and the layers below it
ALLOWED = {"": {""}, "outputs": {"", "outputs"}, "mkdocs": {"", "outputs", "mkdocs"},
           "commands": {"", "outputs", "mkdocs", "commands"}}


def layer_of(module: str) -> str:
    """generator.outputs.pages → "outputs"; generator.model → ""."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in LAYERS else ""


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """Every generator module imported by ``path``, absolute, with its line."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("generator"):
                if node.module is None or target in ("generator", "generator.outputs"):
                    out += [(node.lineno, f"{target}.{a.name}") for a in node.names]
                else:
                    out.append((node.lineno, target))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("generator")]
    return out


SOURCES = sorted(PKG.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PKG)))
def test_imports_respect_the_layers(path: Path) -> None:
    here = layer_of(module_name(path)) if path.parent != PKG else ""
    bad = [f"{path.relative_to(PKG.parent)}:{line}: imports {target}"
           for line, target in imports(path) if layer_of(target) not in ALLOWED[here]]
    assert not bad, "\n".join(bad)


def test_layer_reader_sees_a_violation(tmp_path: Path) -> None:
    """The reader itself: a core module importing a command is caught."""
    fake = PKG / "_layer_probe.py"
    try:
        fake.write_text("def f():\n    from .commands.cli import main\n", encoding="utf-8")
        assert [layer_of(t) for _, t in imports(fake)] == ["commands"]
    finally:
        fake.unlink()


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {}
    names = {module_name(p) for p in SOURCES}
    for p in SOURCES:
        deps = set()
        for _, t in imports(p):
            while t and t not in names:
                t = t.rsplit(".", 1)[0] if "." in t else ""
            if t and t != module_name(p) and not t.endswith("__init__"):
                deps.add(t)
        graph[module_name(p)] = deps - {"generator", "generator.outputs", "generator.mkdocs",
                                        "generator.commands"}
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> None:
        seen[n] = 1
        stack.append(n)
        for d in sorted(graph.get(n, ())):
            if seen.get(d) == 1:
                raise AssertionError("import cycle: " + " → ".join(stack[stack.index(d):] + [d]))
            if d not in seen:
                visit(d)
        stack.pop()
        seen[n] = 2

    for n in sorted(graph):
        if n not in seen:
            visit(n)


def test_readme_names_every_module() -> None:
    """The README's architecture paragraph keeps up with the folders (``ls generator/*/``)."""
    readme = (PKG.parent / "README.md").read_text(encoding="utf-8")
    missing = [str(p.relative_to(PKG)) for p in SOURCES
               if p.name != "__init__.py" and f"`{p.name}`" not in readme]
    assert not missing, f"README.md does not describe: {missing}"
    for sub in ("outputs", "mkdocs", "commands"):
        assert f"generator/{sub}/" in readme


def test_two_outputs_on_one_path_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The URL layout's own safety net: if a layout change ever made two outputs share a path,
    the build refuses instead of one file silently replacing the other."""
    from generator.outputs import site as layout
    from generator.problems import Problems
    from generator.validate import read_site

    root = PKG.parent
    site, problems = read_site(root, parallel=False)
    assert not problems.errors
    layout.check_paths(site.campaigns, root, problems)
    assert not problems.errors, [p.format() for p in problems.errors]
    monkeypatch.setattr(layout, "category_feed", lambda c, cat: layout.campaign_feed(c))
    found = Problems()
    layout.check_paths(site.campaigns, root, found)
    assert found.errors and "同一个网址" in found.errors[0].format()


def test_an_output_in_the_activities_folder_is_checked_against_the_activities(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """check_paths lists the activities' outputs only when another output lies in their folder
    (every activity output does: asserted here), and then refuses a collision with one."""
    from generator.outputs import site as layout
    from generator.problems import Problems
    from generator.validate import read_site

    root = PKG.parent
    site, _ = read_site(root, parallel=False)
    for c in site.campaigns:
        for a in c.activities:
            for path in (layout.activity_page(a), layout.activity_feed(a)):
                assert path.startswith(f"{layout.activities_folder(c)}/"), path
    c = site.campaigns[0]
    taken = layout.activity_page(c.activities[0])
    monkeypatch.setattr(layout, "category_feed", lambda c, cat: taken)
    found = Problems()
    layout.check_paths(site.campaigns, root, found)
    said = [p.message for p in found.errors]
    assert any(f"会写到同一个网址 {taken}" in m and "活动 " in m for m in said), said
