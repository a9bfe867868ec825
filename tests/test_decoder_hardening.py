"""Decoder robustness: threads, Ctrl-C, graphs that would hang the search, mismatched graph
files and emissions. Cases that could crash or hang run in a subprocess with a time limit."""

import copy
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import pywrapfst as fst

import pywfst
from helpers import foreign_graph, simulated_utterances


@pytest.fixture(scope="module")
def graph(char_setup, tmp_path_factory):
    return pywfst.build_graph(char_setup["tokens"], tmp_path_factory.mktemp("hardening") / "g",
                              spell=True, word_boundary="|", lm=char_setup["lm"], progress=False)


@pytest.fixture(scope="module")
def utterances(char_setup):
    return simulated_utterances(char_setup, 16, seed=11)


def run_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Runs ``code`` in a fresh interpreter: a crash or hang fails the test, not pytest."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout)


def test_one_decoder_hammered_by_eight_threads(graph, utterances):
    decoder = pywfst.Decoder(graph, nbest=2)
    expected = [decoder.decode(e) for e in utterances]
    shared_copy = copy.copy(decoder)  # shares the search pool: must be just as safe
    failures = []

    def hammer(worker: int):
        try:
            for round_ in range(3):
                for index in range(len(utterances)):
                    which = (index + worker + round_) % len(utterances)
                    user = shared_copy if (worker + index) % 2 else decoder
                    result = user.decode(utterances[which])
                    want = expected[which]
                    if (result.words, result.cost) != (want.words, want.cost):
                        failures.append((worker, which, result.words, want.words))
                    if result.word_times != want.word_times:
                        failures.append((worker, which, "word times"))
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append((worker, repr(error)))

    threads = [threading.Thread(target=hammer, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    batch = decoder.decode_batch(utterances)
    assert [r.words for r in batch] == [r.words for r in expected]


def test_native_search_refuses_a_second_thread(graph):
    """The raw BeamSearch is one call at a time: overlapping calls raise instead of corrupting."""
    result = run_python(f"""
        import threading, numpy as np, pywfst
        from pywfst import _core
        graph = pywfst.Graph.load({str(graph.path)!r})
        search = _core.BeamSearch(graph.native, _core.DecoderOptions())
        scores = np.log(np.full((20000, 29), 1 / 29, dtype=np.float32))
        outcomes = []
        def decode(barrier):
            barrier.wait()
            try:
                outcomes.append(search.decode(scores).num_frames)
            except RuntimeError as error:
                outcomes.append(str(error))
        for attempt in range(5):  # the two calls overlap unless one thread starts very late
            barrier = threading.Barrier(2)
            threads = [threading.Thread(target=decode, args=(barrier,)) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if any(isinstance(o, str) for o in outcomes):
                break
        print(outcomes)
        errors = [o for o in outcomes if isinstance(o, str)]
        assert errors and all("already decoding in another thread" in e for e in errors)
        assert all(o == 20000 for o in outcomes if not isinstance(o, str))
        assert search.decode(scores[:50]).num_frames == 50  # usable again afterwards
    """)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("call", ["decode", "decode_batch"])
def test_ctrl_c_stops_a_long_decode(graph, call):
    # The utterance would take about 30 s; SIGINT comes after 0.5 s.
    result = run_python(f"""
        import os, signal, threading, time, numpy as np, pywfst
        decoder = pywfst.Decoder({str(graph.path)!r}, num_threads=2)
        rng = np.random.default_rng(0)
        def noise(frames):
            return np.log(rng.dirichlet(np.full(29, 0.3), size=frames)).astype(np.float32)
        decoder.decode(noise(2000))  # warm: a cold page cache would make the timing below slow
        started = time.perf_counter()
        decoder.decode(noise(2000))
        frames = int(2000 * 30 / (time.perf_counter() - started))
        if {call!r} == "decode":
            work = lambda: decoder.decode(noise(frames))
        else:
            batch = [noise(frames // 2) for _ in range(4)]
            work = lambda: decoder.decode_batch(batch)
        threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
        started = time.perf_counter()
        try:
            work()
        except KeyboardInterrupt:
            print("interrupted after", time.perf_counter() - started)
        else:
            print("finished after", time.perf_counter() - started)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("interrupted after")
    assert float(result.stdout.split()[-1]) < 10.0, result.stdout


def test_negative_epsilon_cycle_is_refused_not_decoded_forever(tmp_path):
    # 1 -eps/-1.5-> 2 -eps/+0.5-> 1: each trip round the cycle lowers the cost by 1.
    arcs = [(0, 1, 1, 0.0, 1), (1, 0, 0, -1.5, 2), (2, 0, 0, 0.5, 1), (1, 2, 2, 0.0, 3)]
    directory = foreign_graph(tmp_path / "g", arcs, [3], 4, {"<eps>": 0, "a": 1, "b": 2})
    result = run_python(f"""
        import pywfst
        try:
            pywfst.Decoder({str(directory)!r})
        except ValueError as error:
            print(error)
    """, timeout=60)
    assert result.returncode == 0, result.stderr
    # HCLG.csr: the graph the decoder mapped (written from HCLG.fst on first load).
    assert "HCLG.csr: the epsilon arcs through state" in result.stdout
    assert "negative cost -1" in result.stdout and "never end" in result.stdout
    # A zero- or positive-cost epsilon cycle is fine.
    arcs[2] = (2, 0, 0, 1.5, 1)
    fine = foreign_graph(tmp_path / "fine", arcs, [3], 4, {"<eps>": 0, "a": 1, "b": 2})
    scores = np.log(np.array([[0.9, 0.1], [0.1, 0.9]], dtype=np.float32))
    assert pywfst.Decoder(fine).decode(scores).words == ["a", "b"]


def test_out_of_range_options_name_the_option(graph):
    for name in ["max_active", "min_active", "nbest", "boost_nodes_per_state"]:
        with pytest.raises(ValueError, match=name):
            pywfst.Decoder(graph, **{name: 2**40})
    with pytest.raises(ValueError, match="num_threads"):
        pywfst.Decoder(graph, num_threads=2**40)
    with pytest.raises(ValueError, match="frame_shift"):
        pywfst.Decoder(graph, frame_shift=float("nan"))


def test_emission_columns_must_match_the_tokens(graph, utterances):
    decoder = pywfst.Decoder(graph)
    wider = np.concatenate([utterances[0], np.full((len(utterances[0]), 3), -30, np.float32)], 1)
    with pytest.raises(ValueError, match=r"emissions: 32 columns, but the graph .* built for 29 "
                                         r".*allow_extra_columns=True"):
        decoder.decode(wider)
    with pytest.raises(ValueError, match=r"utt-7: 32 columns"):
        decoder.decode_batch([utterances[0], wider], names=["utt-3", "utt-7"])
    with pytest.raises(ValueError, match=r"emissions: 28 columns"):
        decoder.decode(utterances[0][:, :28])
    lenient = pywfst.Decoder(graph, allow_extra_columns=True)
    assert lenient.decode(wider).words == decoder.decode(utterances[0]).words


def test_words_txt_must_belong_to_the_graph(graph, tmp_path):
    swapped = tmp_path / "swapped"
    shutil.copytree(graph.path, swapped)
    words = (swapped / "words.txt").read_text().splitlines()
    # Another graph's table: ids shifted so that a disambiguation symbol lands on a word id.
    symbols = [line.split()[0] for line in words]
    disambig = [s for s in symbols if s.startswith("#")]
    plain = [s for s in symbols if not s.startswith("#")]
    (swapped / "words.txt").write_text("".join(
        f"{s} {i}\n" for i, s in enumerate(plain[:1] + disambig + plain[1:])))
    with pytest.raises(pywfst.InputFileError, match=r"words.txt: id \d+ is '#0'.*do not belong"):
        pywfst.Decoder(swapped)
    (swapped / "words.txt").write_text("".join(f"{s} {i}\n" for i, s in enumerate(plain[:5])))
    with pytest.raises(pywfst.InputFileError, match=r"words.txt: has no word with id \d+"):
        pywfst.Decoder(swapped)


def test_word_times_survive_moving_and_replacing_the_directory(graph, utterances, tmp_path):
    moved = tmp_path / "g"
    shutil.copytree(graph.path, moved)
    decoder = pywfst.Decoder(moved)
    expected = pywfst.Decoder(graph).decode(utterances[1]).word_times
    # The directory is renamed, and a different pronunciations.txt takes its old place.
    moved.rename(tmp_path / "elsewhere")
    moved.mkdir()
    (moved / "pronunciations.txt").write_text("garbage\n")
    assert decoder.decode(utterances[1]).word_times == expected


def test_graph_json_and_graph_file_problems_are_named(graph, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(graph.path, bad)
    (bad / "graph.json").write_text("[1, 2]")
    with pytest.raises(pywfst.InputFileError, match=r"graph.json:1: expected a JSON object"):
        pywfst.Graph.load(bad)
    info = json.loads((graph.path / "graph.json").read_text())
    info["options"]["topology"], info["options"]["hmm_states"] = "hmm", 0
    (bad / "graph.json").write_text(json.dumps(info))
    with pytest.raises(pywfst.InputFileError, match=r"hmm_states: must be an integer >= 1"):
        pywfst.Graph.load(bad)
    shutil.copy(graph.path / "graph.json", bad / "graph.json")
    (bad / "HCLG.fst").unlink()
    (bad / "HCLG.fst").mkdir()
    with pytest.raises(pywfst.InputFileError, match=r"HCLG.fst: a directory"):
        pywfst.Graph.load(bad)
    (bad / "HCLG.fst").rmdir()
    os.mkfifo(bad / "HCLG.fst")
    result = run_python(f"""
        import pywfst
        try:
            pywfst.Decoder({str(bad)!r})
        except pywfst.InputFileError as error:
            print(error)
    """, timeout=60)
    assert "HCLG.fst: not a regular file" in result.stdout, result.stderr


def test_decode_batch_takes_any_iterable(graph, utterances):
    decoder = pywfst.Decoder(graph)
    expected = [r.words for r in decoder.decode_batch(utterances[:3])]
    assert [r.words for r in decoder.decode_batch(u for u in utterances[:3])] == expected
    with pytest.raises(TypeError, match="emissions: expected a list"):
        decoder.decode_batch(42)


def test_foreign_graph_with_large_word_ids(tmp_path):
    big = 2**24 + 5  # word ids in the range class slots use, in a graph without class slots
    directory = foreign_graph(tmp_path / "g", [(0, 1, big, 0.0, 1), (1, 2, big + 1, 0.0, 2)], [2],
                              3, {"<eps>": 0, "alpha": big, "beta": big + 1})
    scores = np.log(np.array([[0.9, 0.1], [0.1, 0.9]], dtype=np.float32))
    result = pywfst.Decoder(directory).decode(scores)
    assert result.words == ["alpha", "beta"]
    assert len(result.word_times) == 2


def test_frame_shift_comes_from_the_graph(graph, utterances, tmp_path):
    recorded = tmp_path / "g"
    shutil.copytree(graph.path, recorded)
    info = json.loads((recorded / "graph.json").read_text())
    info["frame_shift"] = 0.03
    (recorded / "graph.json").write_text(json.dumps(info))
    result = pywfst.Decoder(recorded).decode(utterances[0])
    spans = result.word_spans
    assert result.word_times == [(s * 0.03, (e + 1) * 0.03) for s, e in spans]
    assert pywfst.Decoder(recorded, frame_shift=0.01).decode(utterances[0]).frame_shift == 0.01
    assert pywfst.Decoder(graph).decode(utterances[0]).frame_shift == 0.04
