"""ConfidenceCalibration: P(word right) learnt on a dev set; it must be better calibrated on
held-out utterances than the raw n-best posteriors, survive a save/load, and refuse what it
cannot use; `pywfst decode --calibration` prints the calibrated confidences, `--mbr` the MBR
hypothesis."""

import numpy as np
import pytest

import pywfst
from helpers import simulated_utterances
from pywfst.confidence import FEATURES, ConfidenceCalibration, word_correctness


def calibration_error(confidences, right, bins=10):
    confidences, right = np.asarray(confidences), np.asarray(right, dtype=float)
    error = 0.0
    for low in np.linspace(0, 1, bins, endpoint=False):
        inside = (confidences >= low) & (confidences < low + 1.0 / bins + (low >= 0.9))
        if inside.any():
            error += abs(right[inside].mean() - confidences[inside].mean()) * inside.sum()
    return error / len(confidences)


@pytest.fixture(scope="module")
def decoded(char_setup, spelled_graph):
    """Noisy simulated emissions (many wrong words) of two disjoint sentence sets."""
    decoder = pywfst.Decoder(spelled_graph, nbest=10, beam=12.0)
    sentences = [" ".join(s) for s in char_setup["sentences"]]
    sets = {}
    for name, start, seed in (("dev", 0, 21), ("test", 150, 22)):
        emissions = simulated_utterances(char_setup, start + 150, seed=seed, noise=1.7,
                                         peak=3.0)[start:]
        sets[name] = (decoder.decode_batch(emissions), emissions, sentences[start:start + 150])
    return sets


def test_calibrated_confidences_beat_raw_posteriors_on_held_out_data(decoded, tmp_path):
    calibration = ConfidenceCalibration.fit(*decoded["dev"])
    results, emissions, references = decoded["test"]
    right = [ok for r, ref in zip(results, references) for ok in word_correctness(r, ref)]
    assert 0.3 < np.mean(right) < 0.95  # a test set with errors to find
    raw = [c for r in results for c in r.confidences]
    calibrated = [c for r, e in zip(results, emissions) for c in calibration.confidences(r, e)]
    assert all(0.0 < c < 1.0 for c in calibrated)
    assert calibration_error(calibrated, right) < 0.6 * calibration_error(raw, right)
    calibration.save(tmp_path / "calibration.json")
    again = ConfidenceCalibration.load(tmp_path / "calibration.json")
    assert again.confidences(results[0], emissions[0]) == pytest.approx(
        calibration.confidences(results[0], emissions[0]))


def test_a_word_nothing_competed_with(decoded, char_setup, spelled_graph):
    """A clean utterance may leave one hypothesis in the n-best list: its words get features
    (posterior 1), not an error."""
    calibration = ConfidenceCalibration.fit(*decoded["dev"])
    clean = simulated_utterances(char_setup, 1, seed=5, noise=0.1, peak=8.0)[0]
    result = pywfst.Decoder(spelled_graph, nbest=10, lattice_beam=0.5).decode(clean)
    assert len(result.nbest) == 1 and result.words
    confidences = calibration.confidences(result, clean)
    assert len(confidences) == len(result.words) and all(c > 0.5 for c in confidences)


def test_what_calibration_refuses(decoded, spelled_graph, tmp_path):
    results, emissions, references = decoded["dev"]
    with pytest.raises(ValueError, match="one of each per utterance"):
        ConfidenceCalibration.fit(results, emissions[:-1], references)
    with pytest.raises(ValueError, match="both right and wrong"):
        ConfidenceCalibration.fit(results[:5], emissions[:5], [r.text for r in results[:5]])
    one_best = pywfst.Decoder(spelled_graph).decode(emissions[0])
    calibration = ConfidenceCalibration.fit(results, emissions, references)
    with pytest.raises(ValueError, match="nbest > 1"):
        calibration.confidences(one_best, emissions[0])
    with pytest.raises(ValueError, match="emissions: shape"):
        calibration.confidences(results[0], emissions[0][:3])
    bad = tmp_path / "bad.json"
    for text in ("{", '{"format": "other"}',
                 '{"format": "pywfst-confidence-calibration-1", "features": %s, "weights": [1]}'
                 % str(list(FEATURES)).replace("'", '"')):
        bad.write_text(text)
        with pytest.raises(pywfst.InputFileError, match="bad.json"):
            ConfidenceCalibration.load(bad)


def test_cli_decode_prints_calibrated_confidences(decoded, spelled_graph, tmp_path):
    from click.testing import CliRunner

    from pywfst.cli import cli

    results, emissions, references = decoded["dev"]
    calibration = ConfidenceCalibration.fit(results, emissions, references)
    calibration.save(tmp_path / "c.json")
    np.save(tmp_path / "utt.npy", emissions[3])
    base = ["decode", "--graph", str(spelled_graph.path), "--format", "ctm",
            "--calibration", str(tmp_path / "c.json"), str(tmp_path / "utt.npy")]
    output = CliRunner().invoke(cli, base + ["--nbest", "10", "--beam", "12"])
    assert output.exit_code == 0, output.output
    printed = [float(line.split()[5]) for line in output.output.splitlines()]
    expected = calibration.confidences(results[3], emissions[3])
    assert printed == pytest.approx(expected, abs=1e-3) and len(printed) == len(results[3].words)
    refused = CliRunner().invoke(cli, base)
    assert refused.exit_code == 2 and "--nbest" in refused.output
    mbr = CliRunner().invoke(cli, ["decode", "--graph", str(spelled_graph.path), "--mbr",
                                   "--nbest", "10", "--beam", "12", str(tmp_path / "utt.npy")])
    assert mbr.exit_code == 0 and mbr.output == f"utt {results[3].mbr.text}\n".replace(" \n", "\n")
