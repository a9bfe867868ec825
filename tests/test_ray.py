"""pywfst.ray on a real local Ray cluster (a head node and one more worker node, each its own
raylet process on this machine): 200 utterances decoded by Ray Data actors give what one
process's decode_batch gives; bad rows are reported, not fatal; WAV files go through the AM."""

import dataclasses
import os

import numpy as np
import pytest

import pywfst
from helpers import simulated_utterances

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

from ray.cluster_utils import Cluster  # noqa: E402

import pywfst.ray  # noqa: E402


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    # Ray puts the driver's working directory on its workers' import path: started from the
    # repository root, they would import the source tree's pywfst (no built extension) instead
    # of the installed one. So the cluster starts elsewhere.
    home = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("ray_cwd"))
    # One CPU per node: the default two decoding actors take them all (the files are read by
    # tasks that reserve none).
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1,
                                                            "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()
        os.chdir(home)


def test_two_nodes_decode_200_utterances_as_one_process(cluster, char_setup, spelled_graph,
                                                         tmp_path):
    assert len(ray.nodes()) == 2
    utterances = simulated_utterances(char_setup, 200, seed=11)
    names = [f"utt{i:03d}" for i in range(200)]
    np.savez(tmp_path / "a.npz", **dict(zip(names[:120], utterances[:120])))
    np.savez(tmp_path / "b.npz", frame_shift=0.03, **dict(zip(names[120:], utterances[120:])))
    (tmp_path / "bad.npz").write_bytes(b"not an archive")
    expected = pywfst.Decoder(spelled_graph, beam=12.0).decode_batch(utterances)
    # b.npz's frame_shift entry sets its word times, as in `pywfst decode`
    expected[120:] = [dataclasses.replace(r, frame_shift=0.03) for r in expected[120:]]

    ds = pywfst.ray.emissions_dataset([tmp_path / "a.npz", tmp_path / "bad.npz",
                                       tmp_path / "b.npz"])
    rows = {row["id"]: row for row in pywfst.ray.decode_dataset(
        ds, spelled_graph, batch_size=25, beam=12.0).take_all()}

    assert rows["bad"]["error"].startswith(str(tmp_path / "bad.npz"))
    assert rows["bad"]["text"] is None
    assert sorted(rows) == sorted(names + ["bad"])
    for name, result in zip(names, expected):
        row = rows[name]
        assert row["error"] is None
        assert row["text"] == result.text
        assert row["cost"] == pytest.approx(result.cost, abs=1e-4)
        assert [w["word"] for w in row["words"]] == result.words
        assert [(w["start"], w["end"]) for w in row["words"]] == [
            (round(s, 3), round(e, 3)) for s, e in result.word_times]
    assert sum(rows[n]["text"] == " ".join(s) for n, s in zip(names, char_setup["sentences"])) > 80


def test_wav_files_through_the_acoustic_model(cluster, tmp_path):
    from pywfst.am import AcousticModel, bundled_model_path
    from pywfst.cli.demo import bundled_utterances, demo_graph

    model = AcousticModel.load()
    graph = demo_graph(model, tmp_path, rebuild=False)
    wavs = [path for path, _ in bundled_utterances()[:3]] + [tmp_path / "missing.wav"]
    decoder = pywfst.Decoder(graph)
    expected = [decoder.decode(model.emissions(path)).text for path in wavs[:3]]
    ds = ray.data.from_items([{"id": path.stem, "path": str(path)} for path in wavs])
    rows = {row["id"]: row for row in pywfst.ray.decode_dataset(
        ds, graph, am=bundled_model_path(), actors=1).take_all()}
    assert [rows[path.stem]["text"] for path in wavs[:3]] == expected
    assert "missing.wav" in rows["missing"]["error"]


def test_bad_options_and_columns_are_errors(cluster, spelled_graph):
    ds = ray.data.from_items([{"id": "x", "scores": np.zeros((3, 29), np.float32)}])
    with pytest.raises(ValueError, match="beam"):
        pywfst.ray.decode_dataset(ds, spelled_graph, beam=-1.0)
    with pytest.raises(TypeError, match="cpus_per_actor"):
        pywfst.ray.decode_dataset(ds, spelled_graph, num_threads=2)
    with pytest.raises(Exception, match="no 'emissions' column"):
        pywfst.ray.decode_dataset(ds, spelled_graph, actors=1).take_all()
    with_text = ray.data.from_items([{"id": "x", "text": "a reference",
                                      "emissions": np.zeros((3, 29), np.float32)}])
    with pytest.raises(Exception, match=r"columns \['text'\] have the names of result columns"):
        pywfst.ray.decode_dataset(with_text, spelled_graph, actors=1).take_all()
