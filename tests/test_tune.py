"""pywfst.tune / `pywfst tune`: the lm_weight x penalty sweep, its settings file, and the
decoders that read it (Decoder.from_settings, `pywfst decode --settings`)."""

import importlib.util
import json

import numpy as np
import pytest
from click.testing import CliRunner

import pywfst
from helpers import simulated_utterances
from pywfst.cli import cli
from pywfst.errors import InputFileError
from pywfst.metrics import edit_distance
from pywfst.settings import read_settings
from pywfst.tuning import read_references, tune

WEIGHTS, PENALTIES = (0.5, 1.0, 2.0), (-2.0, 0.0, 2.0)


@pytest.fixture(scope="module")
def dev(char_setup):
    sentences = char_setup["sentences"][:24]
    emissions = simulated_utterances(char_setup, 24, seed=21, peak=2.5, noise=1.8)
    names = [f"utt{i:02d}" for i in range(len(sentences))]
    return dict(zip(names, emissions)), dict(zip(names, sentences))


def test_sweep_scores_every_point(spelled_graph, dev):
    emissions, references = dev
    result = tune(spelled_graph, emissions, references, lm_weights=WEIGHTS, penalties=PENALTIES,
                  beam=12.0)
    assert [(p.lm_weight, p.word_insertion_penalty) for p in result.points] == [
        (w, q) for w in WEIGHTS for q in PENALTIES]
    # One point by hand: the same decoder, the same Levenshtein count.
    point = result.points[5]
    decoder = pywfst.Decoder(spelled_graph, beam=12.0, lm_weight=point.lm_weight,
                             word_insertion_penalty=point.word_insertion_penalty)
    errors = sum(edit_distance(references[n], decoder.decode(e).words)
                 for n, e in emissions.items())
    assert point.errors == errors
    assert point.reference_words == sum(len(r) for r in references.values())
    default = next(p for p in result.points if (p.lm_weight, p.word_insertion_penalty) == (1, 0))
    assert result.best.errors <= default.errors
    assert len({p.errors for p in result.points}) > 1  # the knobs matter on this set
    assert result.best_options() == {"beam": 12.0, "lm_weight": result.best.lm_weight,
                                     "word_insertion_penalty": result.best.word_insertion_penalty}
    assert "*" in result.table() and f"{result.best.wer:.2f}*" in result.table()
    again = tune(spelled_graph, emissions, references, lm_weights=WEIGHTS, penalties=PENALTIES,
                 beam=12.0, num_threads=1)
    assert again.points == result.points  # reproducible, whatever the threads


def test_ties_go_to_the_defaults():
    from pywfst.tuning import TunePoint, TuneResult

    points = [TunePoint(w, q, 5, 50) for w in (0.5, 1.0, 2.0) for q in (-1.0, 0.0, 1.0)]
    assert (TuneResult(points).best.lm_weight, TuneResult(points).best.word_insertion_penalty) \
        == (1.0, 0.0)


def test_settings_file_round_trip(spelled_graph, dev, tmp_path):
    emissions, references = dev
    result = tune(spelled_graph, emissions, references, lm_weights=WEIGHTS, penalties=PENALTIES)
    result.save(tmp_path / "s.json", graph="g")
    saved = json.loads((tmp_path / "s.json").read_text())
    assert saved["tuned"]["dev_wer"] == pytest.approx(result.best.wer, abs=1e-4)
    assert read_settings(tmp_path / "s.json") == result.best_options()
    decoder = pywfst.Decoder.from_settings(spelled_graph, tmp_path / "s.json", beam=9.0)
    assert decoder.options.lm_weight == result.best.lm_weight and decoder.options.beam == 9.0


@pytest.mark.parametrize("content, message", [
    ("{", "not JSON"), ('{"options": {}}', "not a settings file"),
    ('{"format": "pywfst-settings/1", "options": {"bem": 1}}', "unknown option 'bem'"),
    ('{"format": "pywfst-settings/1", "options": {"beam": -1}}', "beam: must be"),
    ('{"format": "pywfst-settings/1", "options": [1]}', "expected an object"),
])
def test_bad_settings_files_name_the_file(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputFileError, match=f"bad.json.*{message}"):
        read_settings(path)


def test_bad_tune_inputs(spelled_graph, dev, tmp_path):
    emissions, references = dev
    with pytest.raises(ValueError, match="'utt03' has no reference"):
        tune(spelled_graph, emissions, {k: v for k, v in references.items() if k != "utt03"})
    with pytest.raises(TypeError, match="lm_weight is what tune sweeps"):
        tune(spelled_graph, emissions, references, lm_weight=2.0)
    refs = tmp_path / "text"
    refs.write_text("a the cat\n\nb sat\na on\n")
    with pytest.raises(InputFileError, match=r"text:4: utterance 'a' again"):
        read_references(refs)


def test_cli_tune_then_decode_with_the_settings(spelled_graph, dev, tmp_path):
    emissions, references = dev
    np.savez(tmp_path / "dev.npz", **emissions)
    (tmp_path / "text").write_text("".join(f"{n} {' '.join(w)}\n" for n, w in references.items()))
    runner = CliRunner()
    result = runner.invoke(cli, [
        "tune", "--graph", str(spelled_graph.path), "--dev", str(tmp_path / "dev.npz"),
        "--refs", str(tmp_path / "text"), "--out", str(tmp_path / "s.json"),
        "--lm-weights", "0.5,1,2", "--penalties", "-2,0,2", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert "best: lm_weight" in result.output and "lm_weight \\ penalty" in result.output
    settings = read_settings(tmp_path / "s.json")
    png = tmp_path / "s.png"
    if importlib.util.find_spec("matplotlib") is not None:  # the WER surface beside the file
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert not png.exists()

    expected = pywfst.Decoder.from_settings(spelled_graph, tmp_path / "s.json")
    decoded = runner.invoke(cli, ["decode", "--graph", str(spelled_graph.path), "--settings",
                                  str(tmp_path / "s.json"), str(tmp_path / "dev.npz")])
    assert decoded.exit_code == 0, decoded.output
    lines = dict(line.split(" ", 1) if " " in line else (line, "")
                 for line in decoded.output.strip().splitlines())
    for name, scores in emissions.items():
        assert lines[name].split() == expected.decode(scores).words
    # A flag given on the command line wins over the file.
    overridden = runner.invoke(cli, ["decode", "--graph", str(spelled_graph.path), "--settings",
                                     str(tmp_path / "s.json"), "--word-insertion-penalty", "50",
                                     str(tmp_path / "dev.npz")])
    assert settings["word_insertion_penalty"] != 50
    assert sum(len(line.split()) - 1 for line in overridden.output.strip().splitlines()) < \
        sum(len(line.split()) - 1 for line in decoded.output.strip().splitlines())
