"""The demo, the CLI's help, and the helpers they use."""

import numpy as np
from click.testing import CliRunner

from pywfst.cli import cli
from pywfst.metrics import edit_distance, error_rate
from pywfst.synthetic import greedy_ctc, simulate_ctc_emissions


def test_demo_runs_and_beats_greedy():
    result = CliRunner().invoke(cli, ["demo", "--seed", "1"])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    greedy_wer = float(last.split("greedy CTC ")[1].split(" %")[0])
    decoded_wer = float(last.split("pywfst ")[1].split(" %")[0])
    assert decoded_wer < greedy_wer / 3
    assert result.output.count("REF ") == 6


def test_help_lists_verbs_with_examples():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for verb in ("build-graph", "info", "demo"):
        assert verb in result.output
        sub = CliRunner().invoke(cli, [verb, "--help"])
        assert sub.exit_code == 0 and "Examples:" in sub.output


def test_edit_distance_and_rates():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance([], ["a"]) == 1
    assert error_rate([("a b c", "a x c"), ("d", "")]) == 50.0
    assert error_rate([("ab", "a b")], unit="char") == 0.0


def test_simulation_greedy_reading():
    rng = np.random.default_rng(0)
    tokens = [3, 3, 5, 1, 2]
    emissions = simulate_ctc_emissions(tokens, 8, rng, peak=8.0, noise=0.5)
    assert emissions.dtype == np.float32
    np.testing.assert_allclose(np.exp(emissions).sum(axis=1), 1.0, rtol=1e-5)
    assert greedy_ctc(emissions) == tokens
