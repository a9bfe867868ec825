"""The batched GPU search on a real GPU (device="cuda"): the same best paths as the CPU search on
ctc, ctc-compact and hmm graphs, the same results from run to run and in any order, a batch of
over a thousand mixed-length utterances through few lanes with bounded memory, torch CUDA tensors
read in place (float32/16, bfloat16, padded with lengths, any strides) and clear errors for bad
inputs. A CPU tensor (like a numpy array) given to a GPU decoder is host input, copied up; a
CUDA tensor on another GPU is refused (the search reads its own device's memory only).
Skipped where no CUDA GPU can decode (CI); benchmarks/gpu/run_on_device.sh runs it on the GPU
machine. The graphs, emissions and the agreement measure are tests/test_cuda_decoder.py's (its
cuda-sim tests check the same algorithm on the CPU)."""

import numpy as np
import pytest

import pywfst
from test_cuda_decoder import (agreement, assert_same_best_paths, graphs,  # noqa: F401
                               utterances)  # graphs: a fixture

UNAVAILABLE = pywfst._core.cuda_unavailable_reason(0)
pytestmark = pytest.mark.skipif(bool(UNAVAILABLE), reason=UNAVAILABLE)


def path_key(results):
    """What must not change between runs: words, exact cost and the frame alignment."""
    return [(r.words, r.cost, r.alignment) for r in results]


def mixed_batch(char_setup, count, seed):
    """`count` ctc utterances of 2-8 words, plus one in ten made of ten utterances end to end
    (up to ~1,500 frames), in a shuffled order."""
    rng = np.random.default_rng(seed)
    pool = []
    for round_seed in range(seed, seed + 1 + count // 400):
        pool += utterances(char_setup, "ctc", 400, seed=round_seed, noise=1.5 + rng.random())
    short = [pool[i] for i in rng.permutation(len(pool))[:count - count // 10]]
    long = [np.concatenate([pool[j] for j in rng.integers(0, len(pool), 10)])
            for _ in range(count // 10)]
    batch = short + long
    return [batch[i] for i in rng.permutation(len(batch))]


@pytest.fixture(scope="module")
def torch_cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA device")
    return torch


@pytest.mark.parametrize("name", ["ctc", "ctc-compact", "hmm"])
@pytest.mark.parametrize("beam, max_active, min_active", [(16.0, 7000, 200), (6.0, 150, 20)])
@pytest.mark.parametrize("lanes", [5, None])
def test_same_best_path_as_the_cpu_search(graphs, char_setup, name, beam, max_active,
                                          min_active, lanes):
    graph = graphs[name]
    batch = utterances(char_setup, name, 300, seed=4)
    options = {"beam": beam, "max_active": max_active, "min_active": min_active}
    expected = pywfst.Decoder(graph, **options).decode_batch(batch)
    got = pywfst.Decoder(graph, device="cuda", lanes=lanes, **options).decode_batch(batch)
    assert_same_best_paths(expected, got)


def test_same_results_on_every_run_in_any_order(graphs, char_setup):
    """kaldi #3568: ties are broken by token index, never by which thread wins."""
    graph = graphs["ctc"]
    batch = utterances(char_setup, "ctc", 300, seed=9, noise=2.0)
    decoder = pywfst.Decoder(graph, device="cuda", lanes=64)
    first = path_key(decoder.decode_batch(batch))
    for _ in range(2):
        assert path_key(decoder.decode_batch(batch)) == first
    order = np.random.default_rng(3).permutation(len(batch))
    shuffled = decoder.decode_batch([batch[i] for i in order])
    assert path_key([shuffled[j] for j in np.argsort(order)]) == first
    assert path_key(decoder.decode_batch(batch[::-1])[::-1]) == first
    assert path_key(pywfst.Decoder(graph, device="cuda", lanes=7).decode_batch(batch)) == first
    assert path_key([decoder.decode(batch[5])]) == first[5:6]


def test_over_a_thousand_mixed_length_utterances_through_64_lanes(graphs, char_setup):
    graph = graphs["ctc"]
    batch = mixed_batch(char_setup, 1200, seed=11)
    lengths = [len(e) for e in batch]
    assert len(batch) >= 1000 and max(lengths) > 20 * min(lengths)
    expected = pywfst.Decoder(graph).decode_batch(batch)
    got = pywfst.Decoder(graph, device="cuda", lanes=64).decode_batch(batch)
    assert len(got) == len(batch)
    assert [r.num_frames for r in got] == lengths
    assert agreement(expected, got) >= 0.99


def test_memory_is_bounded_by_lanes_not_by_the_batch(graphs, char_setup, torch_cuda):
    """64 utterances, then the same 64 nineteen times over in one call (1,216): the device memory
    in use afterwards is the same (lanes x map capacity, path records sized by the most
    demanding utterance), not 19 times more. CUDA tensors as input: nothing is uploaded."""
    batch = [torch_cuda.from_numpy(e).cuda() for e in mixed_batch(char_setup, 64, seed=12)]
    decoder = pywfst.Decoder(graphs["ctc"], device="cuda", lanes=64)
    once = path_key(decoder.decode_batch(batch))
    free_before, _ = torch_cuda.cuda.mem_get_info()
    assert path_key(decoder.decode_batch(batch * 19)) == once * 19
    free_after, _ = torch_cuda.cuda.mem_get_info()
    assert free_before - free_after < 8 * 2**20


# --------------------------------------------------------------------------- torch CUDA tensors


@pytest.fixture(scope="module")
def gpu_decoder(graphs):
    return pywfst.Decoder(graphs["ctc"], device="cuda", lanes=16)


@pytest.fixture(scope="module")
def batch(char_setup):
    return utterances(char_setup, "ctc", 40, seed=21, noise=2.0)


def test_float32_tensors_decode_like_numpy(gpu_decoder, batch, torch_cuda):
    torch = torch_cuda
    expected = path_key(gpu_decoder.decode_batch(batch))
    tensors = [torch.from_numpy(e).cuda() for e in batch]
    assert path_key(gpu_decoder.decode_batch(tensors)) == expected
    assert path_key([gpu_decoder.decode(tensors[3])]) == expected[3:4]
    # A CPU tensor is host input, copied up like a numpy array.
    assert path_key([gpu_decoder.decode(torch.from_numpy(batch[3]))]) == expected[3:4]
    # The CPU search agrees as well.
    assert agreement(pywfst.Decoder(gpu_decoder.graph).decode_batch(batch),
                     gpu_decoder.decode_batch(tensors)) >= 0.99


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_tensors_decode_like_their_float32_values(gpu_decoder, batch, torch_cuda,
                                                                 dtype):
    torch = torch_cuda
    tensors = [torch.from_numpy(e).to(getattr(torch, dtype)).cuda() for e in batch]
    same_values = [t.float().cpu().numpy() for t in tensors]
    assert (path_key(gpu_decoder.decode_batch(tensors))
            == path_key(gpu_decoder.decode_batch(same_values)))


def test_padded_tensor_with_lengths(gpu_decoder, batch, torch_cuda):
    """[B, T, V] + lengths: each row read to its length only (the padding is NaN here)."""
    torch = torch_cuda
    lengths = [len(e) for e in batch]
    padded = torch.full((len(batch), max(lengths), batch[0].shape[1]), float("nan"),
                        device="cuda")
    for i, e in enumerate(batch):
        padded[i, :len(e)] = torch.from_numpy(e).cuda()
    expected = path_key(gpu_decoder.decode_batch(batch))
    assert path_key(gpu_decoder.decode_batch(padded, lengths=lengths)) == expected
    assert (path_key(gpu_decoder.decode_batch(padded.half(), lengths=torch.tensor(lengths)))
            == path_key(gpu_decoder.decode_batch([padded.half()[i, :n].float().cpu().numpy()
                                                  for i, n in enumerate(lengths)])))


def test_non_contiguous_tensors(gpu_decoder, batch, torch_cuda):
    torch = torch_cuda
    expected = path_key(gpu_decoder.decode_batch(batch))
    column_major = [torch.from_numpy(np.ascontiguousarray(e.T)).cuda().T for e in batch]
    wider = [torch.nn.functional.pad(torch.from_numpy(e).cuda(), (2, 5), value=7.0)[:, 2:-5]
             for e in batch]
    every_other_row = [torch.from_numpy(np.repeat(e, 2, axis=0)).cuda()[::2] for e in batch]
    for tensors in (column_major, wider, every_other_row):
        assert not tensors[0].is_contiguous()
        assert path_key(gpu_decoder.decode_batch(tensors)) == expected


def test_waits_for_the_stream_that_wrote_the_tensor(gpu_decoder, batch, torch_cuda):
    """A tensor whose values torch is still writing (queued on torch's current stream behind a
    0.1 s spin) decodes as its final values: the search must not read it before torch's work
    on it is done."""
    torch = torch_cuda
    expected = path_key([gpu_decoder.decode(batch[0])])
    source = torch.from_numpy(batch[0]).cuda()
    for _ in range(3):
        target = torch.full_like(source, float("nan"))
        torch.cuda.synchronize()
        torch.cuda._sleep(200_000_000)  # GPU clock cycles
        target.copy_(source)
        assert path_key([gpu_decoder.decode(target)]) == expected


# --------------------------------------------------------------------------- bad inputs


def test_nan_and_inf_in_a_cuda_tensor_name_the_utterance(gpu_decoder, batch, torch_cuda):
    torch = torch_cuda
    good = torch.from_numpy(batch[0]).cuda()
    bad = torch.from_numpy(batch[1]).cuda()
    bad[4, 7] = float("nan")
    with pytest.raises(ValueError, match=r"utt-b\[4, 7\] is nan"):
        gpu_decoder.decode_batch([good, bad], names=["utt-a", "utt-b"])
    bad = torch.from_numpy(batch[1]).cuda()
    bad[2, 3] = float("inf")
    with pytest.raises(ValueError, match=r"emissions\[1\]\[2, 3\] is .*inf"):
        gpu_decoder.decode_batch([good, bad])
    # -inf is a valid log-probability; and the search is usable after an error.
    fine = torch.from_numpy(batch[1]).cuda()
    fine[2, 3] = float("-inf")
    assert gpu_decoder.decode_batch([good, fine])[0].words == gpu_decoder.decode(batch[0]).words


def test_bad_tensors_raise_clear_errors(gpu_decoder, batch, torch_cuda):
    torch = torch_cuda
    logp = torch.from_numpy(batch[0]).cuda()
    with pytest.raises(TypeError, match="dtype"):
        gpu_decoder.decode(logp.to(torch.int32))
    with pytest.raises(TypeError, match="dtype"):
        gpu_decoder.decode_batch([logp, logp.to(torch.int64)])
    with pytest.raises(ValueError, match="2 dimensions"):
        gpu_decoder.decode(logp[None])
    with pytest.raises(ValueError, match="2 dimensions"):
        gpu_decoder.decode_batch([logp, logp[0]])
    with pytest.raises(ValueError, match="3 dimensions"):
        gpu_decoder.decode_batch(logp)  # one [T, V] tensor is not a padded batch
    with pytest.raises(ValueError, match="columns"):
        gpu_decoder.decode(logp[:, :5])
    with pytest.raises(ValueError, match="empty"):
        gpu_decoder.decode(logp[:0])
    with pytest.raises(ValueError, match="lengths"):
        gpu_decoder.decode_batch(logp[None], lengths=[len(logp) + 1])
    assert gpu_decoder.decode(logp).words == gpu_decoder.decode(batch[0]).words


def test_devices_that_do_not_fit(graphs, batch, torch_cuda):
    torch = torch_cuda
    count = torch.cuda.device_count()
    with pytest.raises(RuntimeError, match=f"cuda:{count}"):
        pywfst.Decoder(graphs["ctc"], device=f"cuda:{count}")
    with pytest.raises(ValueError, match="cuda-sim"):
        pywfst.Decoder(graphs["ctc"], device="cuda-sim").decode(torch.from_numpy(batch[0]).cuda())
    with pytest.raises(ValueError, match="nbest"):
        pywfst.Decoder(graphs["ctc"], device="cuda", nbest=2)
    if count < 2:
        pytest.skip("one GPU: no tensor on another device to try")
    with pytest.raises(ValueError, match="tensor is on cuda:1"):
        pywfst.Decoder(graphs["ctc"], device="cuda:0").decode(
            torch.from_numpy(batch[0]).to("cuda:1"))
