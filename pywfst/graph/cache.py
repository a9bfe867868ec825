"""A cache of built graphs in the user's cache directory, keyed by a hash of everything the build
reads (input files' bytes, build options, pywfst's version): a graph that was built once loads
in a fraction of a second afterwards.

Directory: $PYWFST_CACHE, else $XDG_CACHE_HOME/pywfst, else ~/.cache/pywfst. A build goes to a
scratch directory beside its final place and is renamed into it when complete, so concurrent
runs never see half a graph (the second to finish keeps the first's)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Mapping, Sequence, Tuple, Union

from .graph_dir import Graph

PathLike = Union[str, Path]


def cache_root() -> Path:
    if os.environ.get("PYWFST_CACHE"):
        return Path(os.environ["PYWFST_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pywfst"


def cache_key(inputs: Sequence[PathLike], options: Mapping[str, object]) -> str:
    """A hash of the inputs' contents, the options and pywfst's version."""
    from .. import __version__

    digest = hashlib.sha256()
    digest.update(json.dumps({"version": __version__, "options": options}, sort_keys=True,
                             default=str).encode())
    for path in inputs:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()[:24]


def cached_graph(name: str, inputs: Sequence[PathLike], options: Mapping[str, object],
                 build: Callable[[Path], Graph], rebuild: bool = False) -> Tuple[Graph, bool]:
    """(graph, whether it came from the cache). ``build(directory)`` builds into a directory
    that does not exist yet; it runs when the cache has no loadable graph for these inputs and
    options, or when ``rebuild``."""
    place = cache_root() / f"{name}-{cache_key(inputs, options)}"
    if place.is_dir() and not rebuild:
        try:
            return Graph.load(place), True
        except (OSError, ValueError):  # damaged (e.g. a disk filled up): build it again
            pass
    place.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=place.parent))
    try:
        build(scratch / "graph")
        if place.exists():
            shutil.rmtree(place, ignore_errors=True)
        try:
            os.rename(scratch / "graph", place)
        except OSError:  # another run renamed its build in first
            if not place.is_dir():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Graph.load(place), False
