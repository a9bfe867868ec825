"""Score arrays at any byte address decode like aligned ones.

numpy hands the core views that need not be 4-byte aligned (a float32 view at an odd offset of a
byte buffer, a field of a packed record array); reading them with plain float loads is undefined
behaviour (UBSan: misaligned load in csrc/decoder/frame_scores.cc). These arrays are read in
place, so the results must equal those of aligned copies, bit for bit.
"""

import numpy as np
import pytest

import pywfst
from pywfst import _core
from pywfst.synthetic import simulate_ctc_emissions

from helpers import write_char_tokens, write_spelling_lexicon

WORDS = ["a", "cat", "cats", "sat", "on", "the", "mat"]


def unaligned_copy(array: np.ndarray, offset: int = 1, order: str = "C") -> np.ndarray:
    """A float32 copy of ``array`` placed ``offset`` bytes into a byte buffer (so misaligned)."""
    array = np.asarray(array, dtype=np.float32, order=order)
    buffer = np.zeros(array.nbytes + offset, dtype=np.uint8)
    flat = np.frombuffer(buffer, dtype=np.float32, count=array.size, offset=offset)
    view = flat.reshape(array.shape, order=order)
    view[...] = array
    assert view.ctypes.data % 4 != 0 and not view.flags.aligned
    return view


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("unaligned")
    ids = write_char_tokens(root / "tokens.txt")
    write_spelling_lexicon(root / "lexicon.txt", WORDS)
    graph = pywfst.build_graph(root / "tokens.txt", root / "graph", lexicon=root / "lexicon.txt",
                               word_boundary="|", progress=False)
    rng = np.random.default_rng(7)
    sentence = ["the", "cat", "sat", "on", "a", "mat"]
    tokens = [t for w in sentence for t in [ids[c] for c in w] + [ids["|"]]]
    emissions = simulate_ctc_emissions(tokens, len(ids), rng, peak=6.0, noise=1.0)
    return graph, sentence, emissions


def assert_same(result, reference):
    assert result.words == reference.words
    assert result.cost == reference.cost
    assert result.alignment == reference.alignment


@pytest.mark.parametrize("offset", [1, 2, 3])
@pytest.mark.parametrize("order", ["C", "F"])
def test_decoder_reads_unaligned_emissions(setup, offset, order):
    graph, sentence, emissions = setup
    decoder = pywfst.Decoder(graph)
    reference = decoder.decode(emissions)
    assert reference.words == sentence
    assert_same(decoder.decode(unaligned_copy(emissions, offset, order)), reference)
    logits = emissions + 2.0
    softmax = pywfst.Decoder(graph, log_softmax=True)
    assert_same(softmax.decode(unaligned_copy(logits, offset, order)), softmax.decode(logits))


def test_batch_reads_unaligned_emissions(setup):
    graph, _, emissions = setup
    decoder = pywfst.Decoder(graph)
    batch = [emissions, emissions[5:], emissions[:-3]]
    references = decoder.decode_batch(batch)
    results = decoder.decode_batch([unaligned_copy(e, 1 + i) for i, e in enumerate(batch)])
    for result, reference in zip(results, references):
        assert_same(result, reference)


def test_core_reads_unaligned_log_priors(setup):
    # The core takes the priors array as is (the Python Decoder makes it contiguous, not aligned).
    graph, _, emissions = setup
    csr = _core.CsrGraph.load(str(graph.path / "HCLG.fst"))
    search = _core.BeamSearch(csr, _core.DecoderOptions())
    priors = np.linspace(-3.0, -0.5, emissions.shape[1], dtype=np.float32)
    reference = search.decode(emissions, log_priors=priors).hypotheses[0]
    result = search.decode(unaligned_copy(emissions, 3), log_priors=unaligned_copy(priors, 1))
    best = result.hypotheses[0]
    assert (best.words, best.total_cost, best.alignment) == (
        reference.words, reference.total_cost, reference.alignment)
