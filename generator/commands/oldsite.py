"""Listing the site a rebuild goes over: its files and folders, or None when it holds anything
else (a link, which the rebuild could write through or keep pages behind; a FIFO, socket or
device). publish.previous_site lists in-process; ``kepu build`` runs this file as a script of
its own, beside the build, because at national size the walk is seconds of waiting on the disk
(9.6 s of a 200,000-activity rebuild, 15 s with the folders not in memory) that the build need
not wait for: the listing is only wanted when the new site is moved in.

Only the standard library, and no package-relative import: run as ``python -I oldsite.py DIR
OUT`` it writes the listing to OUT ("d" or "f", the path, each ended by NUL) and exits 0, or
exits 3 when DIR holds something other than files and folders (or cannot be read)."""

from __future__ import annotations

import os
import sys

ODD = 3  # the exit status that says: not a site to build over


def walk(out: str) -> tuple[list[str], list[str]] | None:
    """(files, folders) under ``out`` as relative paths with "/", or None (see the module)."""
    files: list[str] = []
    folders: list[str] = []
    todo = [""]
    try:
        while todo:
            rel = todo.pop()
            with os.scandir(os.path.join(out, rel) if rel else out) as entries:
                for e in entries:
                    r = f"{rel}/{e.name}" if rel else e.name
                    if e.is_symlink():
                        return None
                    if e.is_dir(follow_symlinks=False):
                        folders.append(r)
                        todo.append(r)
                    elif e.is_file(follow_symlinks=False):
                        files.append(r)
                    else:  # a FIFO, socket or device
                        return None
    except (OSError, UnicodeError):
        return None
    return files, folders


def read_listing(data: bytes) -> tuple[list[str], list[str]]:
    """What the script wrote: (files, folders). File names are bytes as the system gives them,
    decoded as Python's os functions do (surrogateescape), so every name comes back the same."""
    parts = data.split(b"\0")
    files: list[str] = []
    folders: list[str] = []
    for i in range(0, len(parts) - 1, 2):
        (folders if parts[i] == b"d" else files).append(os.fsdecode(parts[i + 1]))
    return files, folders


def main(argv: list[str]) -> int:
    found = walk(argv[0])
    if found is None:
        return ODD
    files, folders = found
    with open(argv[1], "wb") as fh:
        fh.write(b"".join(b"f\0" + os.fsencode(f) + b"\0" for f in files))
        fh.write(b"".join(b"d\0" + os.fsencode(f) + b"\0" for f in folders))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
