"""The repository: where its root is (and, in time, the source paths of its files)."""

from __future__ import annotations

from pathlib import Path


def find_root(start: Path | None = None) -> Path:
    """The repository root: the nearest folder upwards that has campaigns/ or mkdocs.yml."""
    here = (start or Path.cwd()).resolve()
    for d in [here, *here.parents]:
        if (d / "campaigns").is_dir() or (d / "mkdocs.yml").is_file():
            return d
    return here
