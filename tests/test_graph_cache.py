"""Built graphs cached by input hash (pywfst.graph.cache), and the demo that uses it."""

import shutil

import pytest
from click.testing import CliRunner

import pywfst
from pywfst.cli import cli
from pywfst.cli.demo import bundled_utterances
from pywfst.graph.cache import cache_key, cached_graph


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PYWFST_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_second_call_loads_what_the_first_built(char_setup, cache, tmp_path):
    builds = []

    def build(directory):
        builds.append(directory)
        return pywfst.build_graph(char_setup["tokens"], directory, spell=True,
                                  lm=char_setup["lm"], progress=False)

    inputs, options = [char_setup["tokens"], char_setup["lm"]], {"spell": True}
    first, cached = cached_graph("test", inputs, options, build)
    assert not cached and len(builds) == 1 and first.path.parent == cache
    second, cached = cached_graph("test", inputs, options, build)
    assert cached and len(builds) == 1 and second.path == first.path
    assert second.words == first.words
    assert [p.name for p in cache.iterdir()] == [first.path.name]  # no scratch left behind

    assert cached_graph("test", inputs, options, build, rebuild=True)[1] is False
    assert len(builds) == 2
    (first.path / "HCLG.fst").unlink()  # damaged: built again
    assert cached_graph("test", inputs, options, build)[1] is False and len(builds) == 3

    # Another input or option is another graph.
    lm = tmp_path / "lm.arpa"
    shutil.copy(char_setup["lm"], lm)
    assert cache_key([char_setup["tokens"], lm], options) == cache_key(inputs, options)
    lm.write_text(lm.read_text().replace("\\end\\", "\n\\end\\"))
    assert cache_key([char_setup["tokens"], lm], options) != cache_key(inputs, options)
    assert cache_key(inputs, {"spell": False}) != cache_key(inputs, options)


def test_demo_builds_its_graph_once(cache, tmp_path):
    wav = tmp_path / "mine.wav"
    wav.write_bytes(bundled_utterances()[0][0].read_bytes())
    first = CliRunner().invoke(cli, ["demo", str(wav)])
    assert first.exit_code == 0, first.output
    assert "Building the demo graph" in first.output and "cached in" in first.output
    second = CliRunner().invoke(cli, ["demo", str(wav)])
    assert second.exit_code == 0, second.output
    assert "Building" not in second.output and "loaded from the cache" in second.output
    assert _decoded(first.output) == _decoded(second.output)


def _decoded(output: str) -> str:
    return next(line for line in output.splitlines() if line.strip().startswith("PYWFST"))
