"""A decode-only install (DESIGN.md): without pynini (pywrapfst), kaldilm and scipy (and kaldifst,
which pywfst does not use), pywfst imports, loads a built graph and decodes (API and CLI);
building a graph says which package to install. Each case runs in a child Python whose import
system refuses those modules."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import pywfst
from pywfst.synthetic import simulate_ctc_emissions

BUILD_ONLY = ("pynini", "pywrapfst", "_pywrapfst", "kaldilm", "kaldifst", "scipy")
# Prepended to each child's code: refuses `blocked` modules as if they were not installed, and
# reports at exit which of BUILD_ONLY were imported (a run without blocking shows what pywfst
# imports on its own).
PRELUDE = """\
import atexit, json, sys

BLOCKED = frozenset({blocked!r})
BUILD_ONLY = {build_only!r}


class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, NotInstalled())
atexit.register(lambda: print("LOADED", json.dumps(
    sorted(m for m in sys.modules if m.partition(".")[0] in BUILD_ONLY)), file=sys.stderr))
"""

DECODE = """
import numpy as np
import pywfst

graph = pywfst.Graph.load(sys.argv[1])
emissions = np.load(sys.argv[2])
decoder = pywfst.Decoder(graph)
decoder.set_class("TERM", ["metoprolol"])
results = [decoder.decode(emissions), *decoder.decode_batch([emissions, emissions[:-3]]),
           decoder.decode(emissions, boost=pywfst.PhraseBoost(graph, {"cat sat": 4.0}))]
print(json.dumps([[r.words, r.word_times, r.cost] for r in results]))
"""

BUILD = """
import pywfst
from pywfst import BuildOptions, build_graph

BuildOptions(topology="ctc-compact").check()
try:
    build_graph(sys.argv[1], sys.argv[2], lexicon=sys.argv[3], progress=False)
except ImportError as error:
    print(error)
"""


def run_child(code, *args, blocked=BUILD_ONLY):
    """(completed process, the BUILD_ONLY modules it had imported) of ``code`` run with ``args``."""
    prelude = PRELUDE.format(blocked=tuple(blocked), build_only=BUILD_ONLY)
    run = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code), *map(str, args)],
                         capture_output=True, text=True, timeout=120)
    last = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else ""
    assert last.startswith("LOADED "), run.stderr
    return run, json.loads(last[len("LOADED "):])


@pytest.fixture(scope="module")
def built(char_setup, tmp_path_factory):
    """A char graph with a class slot and a frame shift, emissions of a sentence, and the
    results of the DECODE script in this (full) install."""
    root = tmp_path_factory.mktemp("decode_only")
    graph = pywfst.build_graph(char_setup["tokens"], root / "g", spell=True, word_boundary="|",
                               lm=char_setup["lm"], class_slots=["TERM"], frame_shift=0.03,
                               progress=False)
    tokens = [graph.tokens[c] for c in "the|cat|sat|metoprolol"]
    np.save(root / "utt.npy", simulate_ctc_emissions(tokens, len(graph.tokens),
                                                     np.random.default_rng(3)))
    (root / "terms.txt").write_text("metoprolol\n", encoding="utf-8")
    expected, _ = run_child(DECODE, graph.path, root / "utt.npy", blocked=())
    assert expected.returncode == 0, expected.stderr
    return root, graph, json.loads(expected.stdout)


@pytest.mark.parametrize("blocked", [BUILD_ONLY, ()], ids=["blocked", "installed"])
def test_decode_needs_no_build_packages(built, blocked):
    root, graph, expected = built
    assert expected[0][0] == ["the", "cat", "sat", "metoprolol"]
    run, loaded = run_child(DECODE, graph.path, root / "utt.npy", blocked=blocked)
    assert run.returncode == 0, run.stderr
    assert loaded == []
    assert json.loads(run.stdout) == expected  # the same results, to the last bit


def test_cli_decode_and_info_need_no_build_packages(built):
    root, graph, expected = built
    cli = "from pywfst.cli import main\nmain()\n"
    decoded, loaded = run_child(cli, "decode", "--graph", graph.path, "--format", "ctm",
                                "--class", f"TERM={root / 'terms.txt'}", root / "utt.npy")
    assert decoded.returncode == 0, decoded.stderr
    assert loaded == []
    words, times, _ = expected[0]
    assert decoded.stdout.splitlines() == [f"utt 1 {start:.3f} {end - start:.3f} {word}"
                                           for word, (start, end) in zip(words, times)]
    info, loaded = run_child(cli, "info", graph.path)
    assert info.returncode == 0, info.stderr
    assert loaded == [] and "HCLG.fst:" in info.stdout and "class slots: TERM" in info.stdout


@pytest.mark.parametrize("package, blocked", [
    ("pynini", ("pynini", "pywrapfst", "_pywrapfst")),
    ("kaldilm", ("kaldilm",)),
], ids=["pynini", "kaldilm"])
def test_build_graph_says_which_package_to_install(char_setup, tmp_path, package, blocked):
    run, _ = run_child(BUILD, char_setup["tokens"], tmp_path / "g", char_setup["lexicon"],
                       blocked=blocked)
    assert run.returncode == 0, run.stderr
    assert f"(pip install {package}); loading and decoding a built graph do not" in run.stdout
    assert not (tmp_path / "g").exists() and not list(tmp_path.iterdir())


def test_cli_build_graph_says_which_package_to_install(char_setup, tmp_path):
    run, _ = run_child("from pywfst.cli import main\nmain()\n", "build-graph", "--tokens",
                       char_setup["tokens"], "--lexicon", char_setup["lexicon"], "--out",
                       tmp_path / "g")
    assert run.returncode == 1
    assert "Error: building a graph needs pywrapfst (pip install pynini)" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "g").exists()
