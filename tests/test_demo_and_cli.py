"""The demo, the CLI's help, and the helpers they use."""

import numpy as np
from click.testing import CliRunner

from pywfst.cli import cli
from pywfst.cli.demo import bundled_utterances
from pywfst.metrics import edit_distance, error_rate
from pywfst.synthetic import greedy_ctc, greedy_text, simulate_ctc_emissions


def test_demo_transcribes_bundled_audio_better_than_greedy():
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    greedy_wer = float(last.split("greedy CTC ")[1].split(" %")[0])
    decoded_wer = float(last.split("pywfst ")[1].split(" %")[0])
    assert decoded_wer < 0.8 * greedy_wer
    assert result.output.count("REF ") == len(bundled_utterances()) >= 6


def test_demo_on_a_users_wav(tmp_path):
    wav, reference = bundled_utterances()[0]
    copy = tmp_path / "mine.wav"
    copy.write_bytes(wav.read_bytes())
    result = CliRunner().invoke(cli, ["demo", str(copy)])
    assert result.exit_code == 0, result.output
    assert "mine.wav" in result.output and "REF" not in result.output
    assert result.output.count("PYWFST") == 1


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


def test_decode_cli_formats_and_errors(char_setup, tmp_path):
    import json

    import pywfst

    graph = pywfst.build_graph(char_setup["tokens"], tmp_path / "g", spell=True,
                               word_boundary="|", lm=char_setup["lm"], progress=False)
    rng = np.random.default_rng(5)
    sentences = [["the", "cat", "sat"], ["a", "dog", "ran", "away"]]
    arrays = {}
    for index, sentence in enumerate(sentences):
        tokens = [graph.tokens[c] for c in "|".join(sentence)]
        arrays[f"utt{index}"] = simulate_ctc_emissions(tokens, len(graph.tokens), rng)
    np.savez(tmp_path / "set.npz", **arrays)
    np.save(tmp_path / "single.npy", arrays["utt0"])
    runner = CliRunner()
    base = ["decode", "--graph", str(tmp_path / "g")]
    text = runner.invoke(cli, base + [str(tmp_path / "set.npz"), str(tmp_path / "single.npy")])
    assert text.exit_code == 0, text.output
    assert text.output.splitlines() == ["utt0 the cat sat", "utt1 a dog ran away", "single the cat sat"]
    lines = runner.invoke(cli, base + ["--format", "json", str(tmp_path / "set.npz")]).output.splitlines()
    first = json.loads(lines[0])
    assert first["text"] == "the cat sat" and [w["word"] for w in first["words"]] == sentences[0]
    assert all(w["start"] < w["end"] for w in first["words"])
    ctm = runner.invoke(cli, base + ["--format", "ctm", "--frame-shift", "0.02",
                                     str(tmp_path / "single.npy")]).output.splitlines()
    assert [line.split()[4] for line in ctm] == sentences[0]
    assert all(line.startswith("single 1 ") for line in ctm)
    bad = arrays["utt1"].copy()
    bad[2, 3] = np.nan
    np.savez(tmp_path / "bad.npz", ok=arrays["utt0"], broken=bad)
    failed = runner.invoke(cli, base + [str(tmp_path / "bad.npz")])
    assert failed.exit_code == 1
    assert "bad.npz[broken][2, 3] is nan" in failed.output
    (tmp_path / "junk.npz").write_text("not numpy")
    failed = runner.invoke(cli, base + [str(tmp_path / "junk.npz")])
    assert failed.exit_code == 1 and "junk.npz: not a readable .npy/.npz file" in failed.output


def test_greedy_text_reads_boundaries_as_spaces():
    tokens = ["<blk>", "|", "a", "b"]
    columns = [2, 2, 0, 2, 1, 1, 3, 0, 1]  # a a (blank) a | | b (blank) |
    emissions = np.full((len(columns), 4), -10.0, dtype=np.float32)
    emissions[np.arange(len(columns)), columns] = 0.0
    assert greedy_text(emissions, tokens) == "aa b"
