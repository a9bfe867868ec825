"""Kaldi hybrid models: a Kaldi-style HCLG.fst (input labels = transition-ids) with the transition
model of a Kaldi model file (binary and text forms) decodes pdf scores exactly as pywfst's own
``--topo hmm`` graph decodes the same scores; malformed model files give file:byte errors."""

import shutil

import numpy as np
import pytest

import pywfst
from kaldi_files import KaldiTransitionModel, KaldiWriter
from pywfst.kaldi import KaldiObjectError, TransitionModel

HMM_STATES = 3
# Two topology entries, as Kaldi's usual (3 emitting states, self-loop and forward) and one whose
# first state may skip a state, so that phones differ in their number of transition-ids.
STANDARD = [(k, k, [(k, 0.75), (k + 1, 0.25)]) for k in range(3)] + [(-1, -1, [])]
SKIPPING = [(0, 0, [(0, 0.5), (1, 0.3), (2, 0.2)]), (1, 1, [(1, 0.5), (2, 0.5)]),
            (2, 2, [(2, 0.5), (3, 0.5)]), (-1, -1, [])]


def kaldi_model(num_tokens, pdf_of_column):
    """Kaldi phone t + 1 for pywfst token t; its HMM state k reads pdf pdf_of_column[t * 3 + k]."""
    phones = range(1, num_tokens + 1)
    tuples = [(phone, k, int(pdf_of_column[(phone - 1) * HMM_STATES + k]),
               int(pdf_of_column[(phone - 1) * HMM_STATES + k]))
              for phone in phones for k in range(HMM_STATES)]
    return KaldiTransitionModel([STANDARD, SKIPPING], [[p for p in phones if p % 2 == 0],
                                                       [p for p in phones if p % 2 == 1]], tuples)


def write_kaldi_graph(graph, model, directory):
    """pywfst's hmm graph with each input label (column + 1) replaced by a transition-id that
    reads the column's pdf (the self-loop's on self-loop arcs), as a Kaldi graph directory."""
    import pywrapfst as fst

    first_id = {}
    for tid, key in enumerate(model.transition_ids(), start=1):
        first_id.setdefault(key, tid)
    hclg = fst.Fst.read(str(graph.fst_path))
    hclg = fst.arcmap(hclg, map_type="identity")  # a mutable copy
    for state in hclg.states():
        arcs = hclg.mutable_arcs(state)
        for arc in arcs:
            if arc.ilabel > 0:
                arc.ilabel = first_id[(arc.ilabel - 1, arc.nextstate == state)]
                arcs.set_value(arc)
    directory.mkdir()
    hclg.write(str(directory / "HCLG.fst"))
    shutil.copy(graph.path / "words.txt", directory / "words.txt")
    return directory


@pytest.fixture(scope="module")
def hybrid(char_setup, tmp_path_factory):
    root = tmp_path_factory.mktemp("kaldi_hybrid")
    graph = pywfst.build_graph(char_setup["tokens"], root / "pywfst", lexicon=char_setup["lexicon"],
                               topology="hmm", hmm_states=HMM_STATES, lm=char_setup["lm"],
                               progress=False)
    num_tokens = len(char_setup["token_ids"])
    pdf_of_column = np.random.default_rng(0).permutation(num_tokens * HMM_STATES)
    model = kaldi_model(num_tokens, pdf_of_column)
    model.write(root / "final.mdl", binary=True)
    model.write(root / "final.txt.mdl", binary=False)
    return {"graph": graph, "model": model, "pdf_of_column": pdf_of_column, "root": root,
            "kaldi_dir": write_kaldi_graph(graph, model, root / "kaldi_graph")}


def hmm_scores(char_setup, count, seed):
    rng = np.random.default_rng(seed)
    ids = char_setup["token_ids"]
    width = len(ids) * HMM_STATES
    utterances = []
    for sentence in char_setup["sentences"][:count]:
        columns = [ids[c] * HMM_STATES + k for word in sentence for c in word
                   for k in range(HMM_STATES) for _ in range(int(rng.integers(1, 4)))]
        logits = rng.normal(0.0, 1.5, size=(len(columns), width))
        logits[np.arange(len(columns)), columns] += 3.0
        utterances.append((logits - np.logaddexp.reduce(logits, axis=1, keepdims=True))
                          .astype(np.float32))
    return utterances


@pytest.mark.parametrize("form", ["final.mdl", "final.txt.mdl"])
def test_transition_ids_read_the_pdfs_kaldi_numbers(hybrid, form):
    model = TransitionModel.read(hybrid["root"] / form)
    expected = [-1] + [hybrid["model"].tuples[index][3 if self_loop else 2]
                       for index, self_loop in hybrid["model"].transition_ids()]
    assert model.pdf_of.tolist() == expected
    assert model.num_pdfs == len(hybrid["pdf_of_column"])
    # the skipping entry gives its odd phones 7 transition-ids, the standard one 6
    assert model.num_transition_ids == sum(7 if p % 2 else 6 for p in
                                           range(1, len(hybrid["pdf_of_column"]) // 3 + 1))


@pytest.mark.parametrize("form", ["final.mdl", "final.txt.mdl"])
def test_kaldi_graph_decodes_as_pywfst_hmm_graph(hybrid, char_setup, form):
    kaldi_graph = pywfst.Graph.load(hybrid["kaldi_dir"], transition_model=hybrid["root"] / form)
    pdf_of_column = hybrid["pdf_of_column"]
    log_priors = np.log(np.random.default_rng(1).dirichlet(np.full(len(pdf_of_column), 50.0)))
    options = {"acoustic_scale": 0.5, "beam": 16.0}
    ours = pywfst.Decoder(hybrid["graph"], log_priors=log_priors.astype(np.float32), **options)
    kaldi_priors = np.empty_like(log_priors)
    kaldi_priors[pdf_of_column] = log_priors
    theirs = pywfst.Decoder(kaldi_graph, log_priors=kaldi_priors.astype(np.float32), **options)
    utterances = hmm_scores(char_setup, 20, seed=2)
    expected = ours.decode_batch(utterances)
    kaldi_scores = []
    for scores in utterances:
        permuted = np.empty_like(scores)
        permuted[:, pdf_of_column] = scores  # the model's column for pdf-id j is j
        kaldi_scores.append(permuted)
    got = theirs.decode_batch(kaldi_scores)
    assert sum(r.words == s for r, s in zip(expected, char_setup["sentences"])) >= 15
    for a, b in zip(expected, got):
        assert b.words == a.words
        assert b.cost == pytest.approx(a.cost, abs=1e-3)
        assert b.acoustic_cost == pytest.approx(a.acoustic_cost, abs=1e-3)
        # Kaldi's alignment: transition-ids (column + 1 here), each reading the pdf of a's column
        pdf_of = kaldi_graph.transition_model.pdf_of
        assert [int(pdf_of[tid + 1]) for tid in b.alignment] == [
            int(pdf_of_column[c]) for c in a.alignment]


def test_graph_with_a_transition_model_pickles_and_checks_columns(hybrid, tmp_path):
    import pickle

    graph = pywfst.Graph.load(hybrid["kaldi_dir"], transition_model=hybrid["root"] / "final.mdl")
    copy = pickle.loads(pickle.dumps(graph))
    assert copy.transition_model.pdf_of.tolist() == graph.transition_model.pdf_of.tolist()
    assert copy.emission_columns == graph.emission_columns == len(hybrid["pdf_of_column"])
    decoder = pywfst.Decoder(copy)
    with pytest.raises(ValueError, match=r"pdfs of .*final\.mdl"):
        decoder.decode(np.zeros((5, graph.emission_columns + 1), np.float32))


def test_a_model_with_fewer_transition_ids_than_the_graph_reads_is_refused(hybrid, tmp_path):
    model = hybrid["model"]
    small = KaldiTransitionModel(model.entries, model.phones_of_entry, model.tuples[:len(model.tuples) // 2])
    small.write(tmp_path / "small.mdl", binary=True)
    graph = pywfst.Graph.load(hybrid["kaldi_dir"], transition_model=tmp_path / "small.mdl")
    with pytest.raises(pywfst.InputFileError,
                       match=r"HCLG\.fst: reads transition-id \d+, but .*small\.mdl has \d+"):
        pywfst.Decoder(graph)


def test_tuples_with_separate_self_loop_pdfs(tmp_path):
    """Chain models (<Tuples>, <ForwardPdfClass>/<SelfLoopPdfClass>): a self-loop transition
    reads the self-loop pdf; both forms agree."""
    entry = [(0, 1, [(0, 0.5), (1, 0.5)]), (-1, -1, [])]
    model = KaldiTransitionModel([entry], [[1, 2]], [(1, 0, 4, 7), (2, 0, 5, 6)])
    for binary in (True, False):
        model.write(tmp_path / "chain.mdl", binary=binary)
        read = TransitionModel.read(tmp_path / "chain.mdl")
        assert read.pdf_of.tolist() == [-1, 7, 4, 6, 5]
        assert read.num_pdfs == 8


def test_writer_primitives_match_kaldi_native_io(tmp_path):
    """The test writer encodes basic types and float vectors as Kaldi does (kaldi-native-io
    writes them through Kaldi's own I/O functions)."""
    kaldi_native_io = pytest.importorskip("kaldi_native_io")
    cases = [(kaldi_native_io.Int32Writer, -5, KaldiWriter.int32),
             (kaldi_native_io.FloatWriter, 0.75, KaldiWriter.real),
             (kaldi_native_io.FloatVectorWriter, np.array([0.5, -1.25], np.float32),
              KaldiWriter.real_vector)]
    for binary in (True, False):
        for writer_class, value, write in cases:
            path = tmp_path / "x.ark"
            with writer_class(f"ark{'' if binary else ',t'}:{path}") as writer:
                writer.write("key", value)
            ours = KaldiWriter(binary)
            write(ours, value.tolist() if isinstance(value, np.ndarray) else value)
            expected = path.read_bytes()[len("key "):].rstrip(b"\n")
            assert bytes(ours.data).rstrip(b"\n") == expected


def test_every_truncation_of_a_binary_model_is_an_error_naming_the_offset(hybrid, tmp_path):
    data = (hybrid["root"] / "final.mdl").read_bytes()
    end = data.index(b"</TransitionModel>") + len("</TransitionModel> ")
    path = tmp_path / "cut.mdl"
    for length in list(range(0, 200)) + list(range(200, end, 37)) + [end - 2]:
        path.write_bytes(data[:length])
        with pytest.raises(KaldiObjectError, match=r"cut\.mdl: byte \d+: "):
            TransitionModel.read(path)
    path.write_bytes(data[:end - 1])  # the last token is whole without its space
    assert TransitionModel.read(path).num_pdfs == len(hybrid["pdf_of_column"])


@pytest.mark.parametrize("old,new,message", [
    (b"<TransitionModel>", b"<TransitionModle>", r"expected <TransitionModel>, found '<TransitionModle>'"),
    (b"<Triples> 3", b"<Triples> -3", r"impossible count -3"),
    (b"<State> 1 <PdfClass>", b"<State> 2 <PdfClass>", r"state 2 where state 1 was expected"),
    (b"<Transition> 1 0.25", b"<Transition> 9 0.25", r"a transition to state 9"),
    (b"<Transition> 1 0.25", b"<Transition> x 0.25", r"expected an integer, found 'x'"),
    (b"<Transition> 1 0.25", b"<Transition> 1_0 0.25", r"expected an integer, found '1_0'"),
    (b"<Transition> 1 0.25", b"<Transition> 1 0_25", r"expected a number, found '0_25'"),
    (b"1 0 0 \n", b"9 0 0 \n", r"phone 9 is not in the topology"),
    (b"1 0 0 \n", b"1 5 0 \n", r"phone 1 has no HMM state 5"),
    (b" [ 0 ", b" [ 0 -0.5 ", r"<LogProbs>: more than 7 values"),
    (b"</LogProbs>", b"</Log>", r"expected </LogProbs>, found '</Log>'"),
])
def test_malformed_text_models_name_the_byte(tmp_path, old, new, message):
    entry = [(0, 0, [(0, 0.75), (1, 0.25)]), (1, 1, [(1, 0.75), (2, 0.25)]), (-1, -1, [])]
    model = KaldiTransitionModel([entry], [[1, 2]], [(1, 0, 0, 0), (1, 1, 1, 1), (2, 0, 2, 2)])
    data = model.write(None, binary=False)
    assert data.count(old) >= 1, data
    path = tmp_path / "bad.mdl"
    path.write_bytes(data.replace(old, new, 1))
    with pytest.raises(KaldiObjectError, match=r"bad\.mdl: byte \d+: .*" + message):
        TransitionModel.read(path)


def test_huge_counts_in_a_binary_model_are_errors_not_allocations(tmp_path):
    entry = [(0, 0, [(0, 0.75), (1, 0.25)]), (-1, -1, [])]
    data = KaldiTransitionModel([entry], [[1]], [(1, 0, 0, 0)]).write(None, binary=True)
    path = tmp_path / "huge.mdl"
    for after in (b"<Topology> ", b"<LogProbs> FV "):  # the phones' count, the log-probs'
        start = data.index(after) + len(after)
        path.write_bytes(data[:start] + b"\x04\xff\xff\xff\x7f" + data[start + 5:])
        with pytest.raises(KaldiObjectError, match="impossible length 2147483647"):
            TransitionModel.read(path)


# kaldi-native-io's reader, when its constructor fails on the bad archive, fails again in __del__
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_cli_decodes_a_kaldi_archive_with_the_transition_model(hybrid, char_setup, tmp_path):
    """`pywfst decode --transition-model final.mdl --log-priors p.npy ark:post.ark`, the Kaldi
    recipe's inputs, prints what the Decoder gives; a bad archive is an error naming it."""
    kaldi_native_io = pytest.importorskip("kaldi_native_io")
    from click.testing import CliRunner

    from pywfst.cli import cli

    model_path = hybrid["root"] / "final.mdl"
    graph = pywfst.Graph.load(hybrid["kaldi_dir"], transition_model=model_path)
    log_priors = np.log(np.full(graph.emission_columns, 1.0 / graph.emission_columns, np.float32))
    np.save(tmp_path / "log_priors.npy", log_priors)
    utterances = hmm_scores(char_setup, 4, seed=3)
    with kaldi_native_io.FloatMatrixWriter(f"ark:{tmp_path / 'post.ark'}") as writer:
        for index, scores in enumerate(utterances):
            writer.write(f"utt{index}", scores)
    expected = pywfst.Decoder(graph, log_priors=log_priors, acoustic_scale=0.5).decode_batch(
        utterances)
    base = ["decode", "--graph", str(hybrid["kaldi_dir"]), "--transition-model", str(model_path),
            "--log-priors", str(tmp_path / "log_priors.npy"), "--acoustic-scale", "0.5"]
    result = CliRunner().invoke(cli, base + [f"ark:{tmp_path / 'post.ark'}"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"utt{i} {r.text}".rstrip()
                                          for i, r in enumerate(expected)]
    (tmp_path / "bad.ark").write_bytes(b"utt0 \0BFM \x04\x03\x00")
    result = CliRunner().invoke(cli, base + [f"ark:{tmp_path / 'bad.ark'}"])
    assert result.exit_code == 1 and "bad.ark" in result.output
    result = CliRunner().invoke(cli, base[:-4] + ["--log-priors", str(model_path),
                                                  f"ark:{tmp_path / 'post.ark'}"])
    assert result.exit_code == 2 and "--log-priors" in result.output


def test_streams_lattices_and_refusals_with_a_transition_model(hybrid, char_setup):
    """A stream decodes as offline; lattice strings hold transition-ids (what Kaldi's
    lattice-align-words reads); the GPU search and a bad label map are refused clearly."""
    from pywfst import _core

    graph = pywfst.Graph.load(hybrid["kaldi_dir"], transition_model=hybrid["root"] / "final.mdl")
    decoder = pywfst.Decoder(graph, nbest=3)
    scores = np.empty_like(hmm_scores(char_setup, 1, seed=5)[0])
    scores[:, hybrid["pdf_of_column"]] = hmm_scores(char_setup, 1, seed=5)[0]
    offline = decoder.decode(scores)
    stream = decoder.stream()
    for start in range(0, len(scores), 7):
        stream.accept(scores[start:start + 7])
    streamed = stream.finish()
    assert (streamed.words, streamed.cost, streamed.alignment) == (
        offline.words, offline.cost, offline.alignment)
    tids = [tid for arc in offline.lattice.arcs for tid in arc.alignment]
    assert tids and max(tids) <= graph.transition_model.num_transition_ids
    assert max(tids) > graph.emission_columns  # transition-ids, not pdf columns
    with pytest.raises(ValueError, match="transition_model: .* CPU search"):
        pywfst.Decoder(graph, device="cuda-sim")
    bad = graph.label_columns.copy()
    bad[5] = graph.emission_columns
    with pytest.raises(ValueError, match="label_columns: input label 5 reads column"):
        _core.BeamSearch(graph.native, decoder.options).decode(scores, label_columns=bad)
