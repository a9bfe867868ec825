"""pytest plugin: run tests that build graphs on a machine without the graph builder's packages.

The GPU machine has no pynini (pywrapfst), kaldifst, kaldilm or kaldingram and cannot install
them (no registry; pynini's wheel alone is larger than what a device call carries), but
tests/test_cuda_decoder.py and tests/test_cuda_gpu.py build small graphs through the `char_setup`
fixture (tests/conftest.py) and `pywfst.build_graph`. This plugin records those here and replays
them there, so the unchanged tests run on both machines:

  record (here, by prepare.py): every `pywfst.build_graph(tokens, out, **kwargs)` call is made for
      real and its output directory copied to the cache under a key of its inputs (the contents
      of every file argument, the other arguments); the `char_setup` fixture's files and data
      are copied too.
      PYWFST_GRAPH_CACHE=DIR PYWFST_GRAPH_CACHE_MODE=record pytest -p graph_cache tests/...
  replay (there): `char_setup` comes from the cache (run with --noconftest: tests/conftest.py
      imports pywrapfst) and `pywfst.build_graph` copies the recorded graph of the same inputs;
      a build that was not recorded fails and names what to record.
      PYWFST_GRAPH_CACHE=DIR PYWFST_GRAPH_CACHE_MODE=replay pytest -p graph_cache --noconftest ...

benchmarks/gpu/ must be on PYTHONPATH for `-p graph_cache`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

import pywfst

CACHE = Path(os.environ["PYWFST_GRAPH_CACHE"]) if os.environ.get("PYWFST_GRAPH_CACHE") else None
MODE = os.environ.get("PYWFST_GRAPH_CACHE_MODE", "replay")
SETUP_FILES = ("tokens", "lexicon", "lm")  # char_setup's file entries (copied, then re-pointed)
IGNORED_ARGS = ("progress", "force")  # build_graph arguments that do not change the graph


def _digest(value) -> str:
    """A file argument by its contents, anything else by its repr."""
    if isinstance(value, (str, os.PathLike)) and Path(value).is_file():
        return "file:" + hashlib.sha256(Path(value).read_bytes()).hexdigest()
    return repr(value)


def graph_key(tokens, kwargs: dict) -> str:
    parts = [_digest(tokens)] + [f"{k}={_digest(v)}" for k, v in sorted(kwargs.items())
                                 if k not in IGNORED_ARGS]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def _recording(real):
    def build_graph(tokens, out_dir, **kwargs):
        graph = real(tokens, out_dir, **kwargs)
        target = CACHE / "graphs" / graph_key(tokens, kwargs)
        if not target.exists():
            shutil.copytree(out_dir, target)
        return graph
    return build_graph


def _replaying(tokens, out_dir, **kwargs):
    key = graph_key(tokens, kwargs)
    source = CACHE / "graphs" / key
    if not source.is_dir():
        raise RuntimeError(f"graph_cache: no recorded graph {key} for build_graph({tokens}, "
                           f"{kwargs}): run benchmarks/gpu/prepare.py (it records the tests' "
                           "graphs) after changing the tests")
    out_dir = Path(out_dir)
    shutil.copytree(source, out_dir)
    return pywfst.Graph.load(out_dir)


def pytest_configure(config):
    if CACHE is None:
        raise pytest.UsageError("graph_cache: set PYWFST_GRAPH_CACHE to the cache directory")
    if MODE == "record":
        CACHE.mkdir(parents=True, exist_ok=True)
        pywfst.build_graph = _recording(pywfst.build_graph)
    elif MODE == "replay":
        pywfst.build_graph = _replaying
    else:
        raise pytest.UsageError(f"graph_cache: PYWFST_GRAPH_CACHE_MODE is record or replay, "
                                f"not {MODE!r}")


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """Records the value of `char_setup` (from tests/conftest.py) when it is made."""
    outcome = yield
    if MODE != "record" or fixturedef.argname != "char_setup" or outcome.excinfo is not None:
        return
    setup = outcome.get_result()
    target = CACHE / "char_setup"
    target.mkdir(parents=True, exist_ok=True)
    for name in SETUP_FILES:
        shutil.copyfile(setup[name], target / Path(setup[name]).name)
    data = {"sentences": setup["sentences"], "token_ids": setup["token_ids"],
            "words": setup["words"], "files": {n: Path(setup[n]).name for n in SETUP_FILES}}
    (target / "char_setup.json").write_text(json.dumps(data))


if MODE == "replay":
    @pytest.fixture(scope="session")
    def char_setup(tmp_path_factory):
        """tests/conftest.py's char_setup, as recorded (same files, sentences and token ids)."""
        source = CACHE / "char_setup"
        data = json.loads((source / "char_setup.json").read_text())
        root = tmp_path_factory.mktemp("char_setup")
        setup = {"root": root, "sentences": data["sentences"], "token_ids": data["token_ids"],
                 "words": data["words"]}
        for name, file_name in data["files"].items():
            shutil.copyfile(source / file_name, root / file_name)
            setup[name] = root / file_name
        return setup
