"""Full word lattices (Decoder(lattice=True)): every path the search kept within lattice_beam,
determinized in the native core (csrc/decoder/lattice_recorder.h, lattice_determinizer.h)."""

import math

import numpy as np
import pytest
from click.testing import CliRunner

import pywfst
from pywfst.cli import cli
from pywfst.decoder import result_of_path
from pywfst.lattice import read_kaldi_lattices

from test_cuda_decoder import graphs, utterances  # noqa: F401 - the same graphs and scores
from test_stream import chunks

BEAM = 8.0
NAMES = ["ctc", "ctc-compact", "hmm"]


def noisy_utterances(char_setup, name, count=8):
    return utterances(char_setup, name, count, seed=47, noise=1.6)


@pytest.fixture(scope="module")
def decoded(graphs, char_setup):  # noqa: F811
    """(graph name, emissions, result) for 8 utterances of each graph."""
    found = []
    for name in NAMES:
        decoder = pywfst.Decoder(graphs[name], lattice=True, lattice_beam=BEAM)
        found += [(name, e, decoder.decode(e)) for e in noisy_utterances(char_setup, name)]
    return found


def test_best_path_is_the_one_best(graphs, decoded):  # noqa: F811
    for name, emissions, result in decoded:
        best = result.lattice.best_path()
        assert best.word_ids == result.word_ids
        assert best.cost == pytest.approx(result.cost, abs=1e-3)
        assert best.acoustic_cost == pytest.approx(result.acoustic_cost, abs=1e-3)
        assert len(best.alignment) == len(best.continues) == result.num_frames == len(emissions)
        # the same path as the search's: alignment and word times agree
        assert best.alignment == result.alignment
        assert result_of_path(graphs[name], best, result).word_times == result.word_times


def test_determinized_whole_and_costs_are_the_paths(decoded):
    alternatives = 0
    for _, emissions, result in decoded:
        lattice = result.lattice
        assert lattice.beam == BEAM  # whole: lattice_max_states was not reached
        seen = set()
        for arc in lattice.arcs:
            assert (arc.source, arc.word_id) not in seen  # one arc per word out of a state
            seen.add((arc.source, arc.word_id))
        paths = lattice.nbest(200)
        sequences = [tuple(p.word_ids) for p in paths]
        assert len(set(sequences)) == len(sequences)  # one path per word sequence
        costs = [p.cost for p in paths]
        assert costs == sorted(costs)
        for path in paths[:10]:
            # the acoustic cost is that of the path's own alignment
            frames = np.arange(len(path.alignment))
            frame_costs = -np.asarray(emissions)[frames, path.alignment]
            assert path.acoustic_cost == pytest.approx(float(frame_costs.sum()), abs=1e-2)
        alternatives += len(paths) > 1
    assert alternatives >= len(decoded) // 2


def test_lattice_nbest_equals_the_nbest_search(graphs, decoded):  # noqa: F811
    """The word-dependent n-best search and the lattice agree on the best word sequences and
    their costs (both within the same beams)."""
    agree = total = 0
    for name in NAMES:
        searched = pywfst.Decoder(graphs[name], nbest=5, lattice_beam=BEAM)
        for graph_name, emissions, result in decoded:
            if graph_name != name:
                continue
            nbest = searched.decode(emissions).nbest
            from_lattice = result.lattice.nbest(len(nbest))
            for hypothesis, path in zip(nbest, from_lattice):
                total += 1
                agree += (path.word_ids == hypothesis.word_ids and
                          abs(path.cost - hypothesis.cost) < 1e-3)
    assert total >= 60 and agree >= 0.95 * total


def test_every_arc_lies_on_a_path_within_the_beam(decoded):
    for _, _, result in decoded:
        lattice = result.lattice
        forward = {0: 0.0}
        out = {}
        for arc in lattice.arcs:
            out.setdefault(arc.source, []).append(arc)
        to_end = lattice._costs_to_end(out)
        order = _topological(lattice, out)
        for state in order:
            for arc in out.get(state, []):
                cost = forward[state] + arc.graph_cost + arc.acoustic_cost
                forward[arc.target] = min(forward.get(arc.target, math.inf), cost)
        for arc in lattice.arcs:
            through = forward[arc.source] + arc.graph_cost + arc.acoustic_cost + to_end[arc.target]
            assert through <= result.cost + BEAM + 1e-3


def _topological(lattice, out):
    incoming = {s: 0 for s in range(lattice.num_states)}
    for arc in lattice.arcs:
        incoming[arc.target] += 1
    order = [s for s, n in incoming.items() if n == 0]
    for state in order:
        for arc in out.get(state, []):
            incoming[arc.target] -= 1
            if incoming[arc.target] == 0:
                order.append(arc.target)
    assert len(order) == lattice.num_states  # acyclic
    return order


def test_state_limit_keeps_the_cheapest_paths(graphs, decoded):  # noqa: F811
    small = pywfst.Decoder(graphs["ctc"], lattice=True, lattice_beam=BEAM, lattice_max_states=6)
    limited = 0
    for name, emissions, result in decoded:
        if name != "ctc":
            continue
        lattice = small.decode(emissions).lattice
        assert lattice.best_path().word_ids == result.word_ids
        if lattice.beam < BEAM:
            limited += 1
            # every word sequence within the beam it reports is there, as in the whole lattice
            whole = [p for p in result.lattice.nbest(100)
                     if p.cost < result.cost + lattice.beam - 1e-3]
            assert [p.word_ids for p in lattice.nbest(len(whole))] == \
                [p.word_ids for p in whole]
    assert limited > 0


def test_stream_and_batch_give_the_same_lattice(graphs, decoded):  # noqa: F811
    rng = np.random.default_rng(5)
    decoder = pywfst.Decoder(graphs["ctc"], lattice=True, lattice_beam=BEAM)
    plain = [(e, r) for name, e, r in decoded if name == "ctc"]
    batch = decoder.decode_batch([e for e, _ in plain])
    for (emissions, result), batched in zip(plain, batch):
        stream = decoder.stream()
        for chunk in chunks(emissions, rng):
            stream.accept(chunk)
        streamed = stream.finish()
        for other in (batched, streamed):
            assert other.lattice.nbest(20) == result.lattice.nbest(20)


def test_with_nbest_and_boost(graphs, decoded):  # noqa: F811
    """With nbest > 1 or boosting a state's tokens differ in history or boost node and the
    lattice links tokens: its best path is still the 1-best and it holds the n-best list."""
    boost = {"cat": 2.0, "the dog": 3.0}
    decoder = pywfst.Decoder(graphs["ctc"], lattice=True, lattice_beam=BEAM, nbest=4)
    for name, emissions, _ in decoded:
        if name != "ctc":
            continue
        for result in (decoder.decode(emissions), decoder.decode(emissions, boost=boost)):
            best = result.lattice.best_path()
            assert best.word_ids == result.word_ids
            assert best.cost == pytest.approx(result.cost, abs=1e-3)
            paths = {tuple(p.word_ids): p.cost for p in result.lattice.nbest(1000)}
            for hypothesis in result.nbest:
                assert paths[tuple(hypothesis.word_ids)] <= hypothesis.cost + 1e-3


def test_pickled_results_keep_their_lattice(decoded):
    import pickle

    for _, _, result in decoded[:4]:
        again = pickle.loads(pickle.dumps(result))
        assert again.has_full_lattice and again.lattice.beam == BEAM
        assert again.lattice.nbest(10) == result.lattice.nbest(10)
        assert again.confidences == result.confidences
        assert again.word_times == result.word_times


def test_confidences_and_kaldi_text(decoded, tmp_path):
    path = tmp_path / "lat.txt"
    with open(path, "w") as out:
        for index, (_, _, result) in enumerate(decoded):
            confidences = result.confidences
            assert len(confidences) == len(result.words)
            assert all(0.0 <= c <= 1.0 for c in confidences)
            result.lattice.write_kaldi(out, f"utt{index}")
    back = read_kaldi_lattices(path)
    for index, (_, _, result) in enumerate(decoded):
        again = back[f"utt{index}"]
        expected = result.lattice.nbest(10)
        got = again.nbest(10)
        assert [p.word_ids for p in got] == [p.word_ids for p in expected]
        assert [p.alignment for p in got] == [p.alignment for p in expected]
        assert [p.cost for p in got] == pytest.approx([p.cost for p in expected], abs=1e-5)
        assert all(p.continues is None for p in got)  # Kaldi's text has no self-loop flags
    doubtful = [c for _, _, r in decoded for c in r.confidences if c < 0.9]
    assert doubtful  # noisy scores leave some words in doubt


def test_openfst_shortest_path_is_the_best(decoded):
    fst = pytest.importorskip("pywrapfst")
    for _, _, result in decoded[:6]:
        distance = fst.shortestdistance(result.lattice.to_openfst(), reverse=True)
        assert float(distance[0]) == pytest.approx(result.cost, abs=1e-3)


def test_arc_limit_stops_with_a_clear_error(graphs, decoded):  # noqa: F811
    """Memory is bounded: past lattice_max_arcs the decode raises instead of growing on; the
    search object serves the next call as before."""
    emissions = [e for name, e, _ in decoded if name == "ctc"][0]
    decoder = pywfst.Decoder(graphs["ctc"], lattice=True, lattice_max_arcs=50)
    with pytest.raises(ValueError, match=r"lattice: more than lattice_max_arcs=50 arcs kept "
                                         r"after \d+ frames; decode shorter segments"):
        decoder.decode(emissions)
    roomy = pywfst.Decoder(graphs["ctc"], lattice=True, lattice_beam=BEAM)
    assert roomy.decode(emissions).lattice.best_path().word_ids == \
        [r for name, e, r in decoded if name == "ctc"][0].word_ids


def test_refused_where_not_supported(graphs):  # noqa: F811
    with pytest.raises(TypeError, match="lattice: expected True or False"):
        pywfst.Decoder(graphs["ctc"], lattice="yes")
    with pytest.raises(ValueError, match="lattice_max_states"):
        pywfst.Decoder(graphs["ctc"], lattice=True, lattice_max_states=0)
    with pytest.raises(ValueError, match="lattice: the GPU decoder"):
        pywfst.Decoder(graphs["ctc"], lattice=True, device="cuda-sim")


def test_cli_writes_full_lattices(graphs, char_setup, tmp_path):  # noqa: F811
    emissions = noisy_utterances(char_setup, "ctc", count=3)
    np.savez(tmp_path / "set.npz", **{f"u{i}": e for i, e in enumerate(emissions)})
    out = CliRunner().invoke(cli, ["decode", "--graph", str(graphs["ctc"].path), "--lattice",
                                   "--lattice-beam", str(BEAM), "--lattices",
                                   str(tmp_path / "lat.txt"), "--format", "ctm",
                                   str(tmp_path / "set.npz")])
    assert out.exit_code == 0, out.output
    assert all(len(line.split()) == 6 for line in out.output.splitlines())  # with confidences
    lattices = read_kaldi_lattices(tmp_path / "lat.txt")
    decoder = pywfst.Decoder(graphs["ctc"], lattice=True, lattice_beam=BEAM)
    for i, e in enumerate(emissions):
        assert lattices[f"u{i}"].best_path().word_ids == decoder.decode(e).word_ids
