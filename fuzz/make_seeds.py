"""Writes the seed corpora under fuzz/corpus/ from real, small inputs (run once, results committed).

    python fuzz/make_seeds.py            # needs the project's venv (pywrapfst, pywfst)

- fst_reader: OpenFst files written by OpenFst (pywrapfst): vector and const, with and without
  symbol tables, and the HCLG and topology of tiny graphs built by pywfst (one with a class slot,
  whose arcs carry nonterminal labels).
- mapped_graph: the same graphs in the mapped layout (HCLG.csr, csrc/fst/mapped_graph.h).
- decode: the decode harness's format (fuzz/native/decode_fuzzer.cc) holding those graphs with
  emissions simulated for a sentence, plain, as logits, with priors, misaligned and column-major,
  with phrase boosting, and with a filled class slot.
- tokens, lexicon, lexiconp, arpa, graph_json: the text inputs of pywfst.graph.
- transition_model: Kaldi model files (binary and text; HMM and chain) as the tests write them.
"""

from __future__ import annotations

import shutil
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np
import pywrapfst as fst

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "python"))
sys.path.insert(0, str(HERE.parent / "tests"))

from fixtures import ARPA, SENTENCE, build_graphs, write_inputs  # noqa: E402
from kaldi_files import KaldiTransitionModel  # noqa: E402
from pywfst.class_slots import ClassEntries  # noqa: E402
from pywfst.synthetic import simulate_ctc_emissions  # noqa: E402

# decode_fuzzer.cc's codes.
FLAG_LOG_SOFTMAX, FLAG_PRIORS, FLAG_COLUMN_MAJOR, FLAG_BOOST, FLAG_CLASS, FLAG_TWICE = 1, 2, 4, 8, 16, 32
NONTERMINAL_BASE, MAX_CONTEXTS, CLASS_WORD_STRIDE = 1 << 28, 1 << 16, 1 << 24


def weight_code(value: float) -> int:
    if value == float("inf"):
        return 255
    return int(min(252, max(0, round(value * 8 + 32))))


def score_code(value: float) -> int:
    return 253 if value == float("-inf") else int(min(252, max(0, round(-value * 8))))


def label_code(label: int) -> int:
    if label < NONTERMINAL_BASE:
        return label
    offset = label - NONTERMINAL_BASE
    kind, context = offset // MAX_CONTEXTS, offset % MAX_CONTEXTS
    assert kind < 16 and context < 256, label
    return 0xF000 | (kind << 8) | context


def word_code(label: int) -> int:
    if label < CLASS_WORD_STRIDE:
        assert label < 0x8000, label
        return label
    return 0x8000 | ((label // CLASS_WORD_STRIDE - 1) << 12) | (label % CLASS_WORD_STRIDE)


def encode_graph(graph: fst.Fst, byte_olabels: bool = False) -> bytes:
    out = bytearray(struct.pack("<HH", graph.num_states() - 1, graph.start()))
    for state in graph.states():
        arcs = list(graph.arcs(state))
        assert len(arcs) <= 255, "the harness reads at most 255 arcs per state"
        out += bytes([weight_code(float(graph.final(state))), len(arcs)])
        for arc in arcs:
            out += struct.pack("<H", label_code(arc.ilabel))
            out += bytes([arc.olabel]) if byte_olabels else struct.pack("<H", word_code(arc.olabel))
            out += bytes([weight_code(float(arc.weight))]) + struct.pack("<H", arc.nextstate)
    return bytes(out)


def encode_decode_input(graph: fst.Fst, scores: np.ndarray, flags: int = 0, offset: int = 0,
                        priors=None, tail: bytes = b"") -> bytes:
    # nbest 2, max_active 200, min_active 20, beam 16, lattice_beam 8, beam_delta 0.5,
    # 4 boost nodes per state, acoustic scale 1.
    header = bytes([flags, offset, 1, 199, 20, 126, 124, 16, 3, 31])
    frames, columns = scores.shape
    assert frames <= 128 and columns <= 64, "the harness reads at most 128 frames, 64 columns"
    body = bytes([frames - 1, columns - 1]) + bytes(score_code(v) for v in scores.ravel())
    if priors is not None:
        body += bytes(score_code(v) for v in priors)
    return header + encode_graph(graph) + body + tail


def encode_class(topology: fst.Fst, contexts, optional: int, entries: ClassEntries) -> bytes:
    out = bytearray(encode_graph(topology, byte_olabels=True))
    out += bytes([len(contexts)]) + b"".join(struct.pack("<H", c) for c in contexts)
    out += struct.pack("<H", 0xFFFF if optional < 0 else optional)
    spellings = entries._spellings
    out.append(len(entries.labels))
    for w, label in enumerate(entries.labels):
        first, last = spellings.offsets[w], spellings.offsets[w + 1]
        out += struct.pack("<H", word_code(label)) + bytes([last - first - 1])
        for p in range(first, last):
            tokens = spellings.tokens[spellings.token_offsets[p]:spellings.token_offsets[p + 1]]
            out += bytes([len(tokens) - 1]) + bytes(tokens)
    index = {word: i for i, word in enumerate(entries.words)}
    out.append(len(entries.entries))
    for text in entries.entries:
        words = text.split()
        out += bytes([len(words) - 1]) + bytes(index[w] for w in words) + bytes([weight_code(0.7)])
    return bytes(out)


def write(directory: Path, name: str, data: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(data)


def small_fsts(out: Path) -> None:
    f = fst.VectorFst()
    states = [f.add_state() for _ in range(4)]
    f.set_start(states[0])
    for s, (i, o, w) in enumerate([(1, 1, 0.5), (0, 0, 1.25), (2, 3, -0.5)]):
        f.add_arc(states[s], fst.Arc(i, o, fst.Weight("tropical", w), states[s + 1]))
    f.add_arc(states[1], fst.Arc(3, 0, fst.Weight.one("tropical"), states[1]))
    f.set_final(states[3], fst.Weight("tropical", 0.25))
    write(out, "vector.fst", f.write_to_string())
    write(out, "const.fst", fst.convert(f, "const").write_to_string())
    symbols = fst.SymbolTable("syms")
    for i, symbol in enumerate(["<eps>", "x", "y", "z"]):
        symbols.add_symbol(symbol, i)
    f.set_input_symbols(symbols)
    f.set_output_symbols(symbols)
    write(out, "vector_symbols.fst", f.write_to_string())
    write(out, "const_symbols.fst", fst.convert(f, "const").write_to_string())


def transition_models(out: Path) -> None:
    three_states = [(k, k, [(k, 0.75), (k + 1, 0.25)]) for k in range(3)] + [(-1, -1, [])]
    hmm = KaldiTransitionModel([three_states], [[1, 2]],
                               [(p, k, 3 * (p - 1) + k, 3 * (p - 1) + k) for p in (1, 2)
                                for k in range(3)])
    chain = KaldiTransitionModel([[(0, 1, [(0, 0.5), (1, 0.5)]), (-1, -1, [])]], [[1, 2]],
                                 [(1, 0, 4, 7), (2, 0, 5, 6)])
    for name, model in (("hmm", hmm), ("chain", chain)):
        for binary in (True, False):
            write(out, f"{name}.{'bin' if binary else 'txt'}.mdl", model.write(None, binary))


def write_mapped_seeds(reader: Path, out: Path) -> None:
    """mapped_graph: each fst_reader seed in the mapped layout (as Graph.load writes HCLG.csr)."""
    from pywfst import _core

    out.mkdir(parents=True, exist_ok=True)
    seen = set()
    for source in sorted(reader.glob("*.fst")):
        path = out / source.with_suffix(".csr").name
        _core.CsrGraph.load(source).write_mapped(path, (0, 0))
        data = path.read_bytes()
        if data in seen:  # the vector and const forms of a graph map alike
            path.unlink()
        seen.add(data)


def main() -> None:
    corpus = HERE / "corpus"
    work = Path(tempfile.mkdtemp())
    try:
        ids = write_inputs(work)
        plain, slotted = build_graphs(work)

        reader = corpus / "fst_reader"
        small_fsts(reader)
        shutil.copy(plain.path / "HCLG.fst", reader / "hclg.fst")
        shutil.copy(slotted.path / "HCLG.fst", reader / "hclg_class_slot.fst")
        slots = slotted.info["class_slots"]
        shutil.copy(slotted.path / slots["topology"], reader / "topology.fst")
        write_mapped_seeds(reader, corpus / "mapped_graph")

        rng = np.random.default_rng(0)
        tokens = [t for w in SENTENCE for t in [ids[c] for c in w] + [ids["|"]]]
        logp = simulate_ctc_emissions(tokens, len(ids), rng, peak=6.0, noise=1.0)
        hclg = fst.Fst.read(str(plain.path / "HCLG.fst"))
        decode = corpus / "decode"
        write(decode, "plain", encode_decode_input(hclg, logp))
        write(decode, "twice", encode_decode_input(hclg, logp, FLAG_TWICE))
        write(decode, "logits_priors", encode_decode_input(
            hclg, logp + 3.0, FLAG_LOG_SOFTMAX | FLAG_PRIORS, priors=np.full(len(ids), -0.5)))
        write(decode, "column_major_misaligned",
              encode_decode_input(hclg, logp, FLAG_COLUMN_MAJOR, offset=1))
        cat, mat = plain.words.to_id["cat"], plain.words.to_id["mat"]
        # Two phrases: "cat mat" (bonus 2) and "mat" (bonus 1).
        boost = bytes([2, 1]) + struct.pack("<HH", cat, mat) + bytes([96, 0]) + struct.pack(
            "<H", mat) + bytes([80])
        write(decode, "boost", encode_decode_input(hclg, logp, FLAG_BOOST, tail=boost))

        entries = ClassEntries(slotted, "TERM", ["cat", "sat on", "mat mat"])
        optional = sorted(slotted.optional_token_ids)
        tail = encode_class(fst.Fst.read(str(slotted.path / slots["topology"])),
                            slots["word_states"], optional[0] if optional else -1, entries)
        write(decode, "class_slot", encode_decode_input(
            fst.Fst.read(str(slotted.path / "HCLG.fst")), logp, FLAG_CLASS, tail=tail))

        text = {"tokens": ("tokens.txt", (work / "tokens.txt").read_bytes()),
                "lexicon": ("lexicon.txt", (work / "lexicon.txt").read_bytes()),
                "lexiconp": ("lexiconp.txt", b"a 1.0 a\ncat 0.5 c a t\ncat 0.5 k a t\nmat 1 m a t\n"),
                "arpa": ("lm.arpa", ARPA.encode()),
                "graph_json": ("graph.json", (plain.path / "graph.json").read_bytes())}
        for harness, (name, data) in text.items():
            write(corpus / harness, name, data)
        (corpus / "tokens" / "phones.txt").write_bytes(b"<eps> 0\nAA1 1\nB 2\n#0 3\n#1 4\n")
        (corpus / "graph_json" / "graph_slot.json").write_bytes((slotted.path / "graph.json").read_bytes())
        (corpus / "lexicon" / "phones.txt").write_bytes(b"abc AA1 B\nabc AA1 B B\nb B\n")
        transition_models(corpus / "transition_model")
    finally:
        shutil.rmtree(work)
    sizes = sum(p.stat().st_size for p in corpus.rglob("*") if p.is_file())
    print(f"wrote {sum(1 for p in corpus.rglob('*') if p.is_file())} seeds, {sizes} bytes")


if __name__ == "__main__":
    main()
