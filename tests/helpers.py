"""Shared test helpers: small corpora, LMs, and exact path checks through FSTs."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Sequence

import pywrapfst as fst

LETTERS = "abcdefghijklmnopqrstuvwxyz'"
# Words chosen so that no two share a spelling and several are prefixes of others ("a"/"an"/"and",
# "to"/"top"), which exercises the disambiguation symbols.
VOCABULARY = ["a", "an", "and", "the", "cat", "cats", "dog", "sat", "on", "mat", "to", "top",
              "court", "judge", "patient", "dose", "heart", "rate", "is", "was", "high", "low",
              "it", "ran", "away", "from", "home", "we", "saw", "doctor", "nurse", "law"]


def make_corpus(path: Path, num_sentences: int = 400, seed: int = 0) -> List[List[str]]:
    rng = random.Random(seed)
    sentences = []
    for _ in range(num_sentences):
        length = rng.randint(2, 8)
        sentence = [rng.choice(VOCABULARY[:12] if rng.random() < 0.6 else VOCABULARY)
                    for _ in range(length)]
        sentences.append(sentence)
    path.write_text("".join(" ".join(s) + "\n" for s in sentences), encoding="utf-8")
    return sentences


def train_arpa(corpus: Path, arpa: Path, order: int = 3) -> Path:
    subprocess.run([sys.executable, "-m", "kaldingram.cli", "train", "--ngram-order", str(order),
                    "--text", str(corpus), "--lm", str(arpa)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return arpa


def write_char_tokens(path: Path, boundary: str = "|") -> Dict[str, int]:
    symbols = ["<blk>", boundary] + list(LETTERS)
    table = {s: i for i, s in enumerate(symbols)}
    path.write_text("".join(f"{s} {i}\n" for s, i in table.items()), encoding="utf-8")
    return table


def write_spelling_lexicon(path: Path, words: Sequence[str]) -> None:
    path.write_text("".join(f"{w} {' '.join(w)}\n" for w in words), encoding="utf-8")


def train_bpe(corpus: Path, directory: Path, vocab_size: int = 60):
    """A sentencepiece BPE model trained on ``corpus`` and its tokens.txt (blank 0, piece i at
    i + 1), in ``directory``: (model path, processor, token ids). Needs sentencepiece."""
    import sentencepiece

    prefix = directory / "bpe"
    sentencepiece.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(prefix), vocab_size=vocab_size, model_type="bpe",
        character_coverage=1.0, minloglevel=2)
    model = Path(f"{prefix}.model")
    processor = sentencepiece.SentencePieceProcessor(model_file=str(model))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    token_ids = {"<blk>": 0, **{p: i + 1 for i, p in enumerate(pieces)}}
    (directory / "tokens.txt").write_text("".join(f"{p} {i}\n" for p, i in token_ids.items()))
    return model, processor, token_ids


def read_words(path: Path) -> Dict[str, int]:
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        symbol, sym_id = line.split()
        table[symbol] = int(sym_id)
    return table


def num_arcs(graph: fst.Fst) -> int:
    return sum(graph.num_arcs(s) for s in graph.states())


def linear_acceptor(labels: Sequence[int]) -> fst.VectorFst:
    result = fst.VectorFst()
    state = result.add_state()
    result.set_start(state)
    for label in labels:
        nxt = result.add_state()
        result.add_arc(state, fst.Arc(label, label, fst.Weight.one("tropical"), nxt))
        state = nxt
    result.set_final(state)
    return result


def best_output(graph: fst.Fst, input_labels: Sequence[int]) -> tuple:
    """(output labels, cost) of the cheapest path of ``graph`` reading exactly ``input_labels``."""
    path = fst.shortestpath(fst.compose(linear_acceptor(input_labels), graph))
    if path.num_states() == 0:
        return None, float("inf")
    outputs, cost, state = [], 0.0, path.start()
    while True:
        arcs = list(path.arcs(state))
        if not arcs:
            cost += float(path.final(state))
            return outputs, cost
        arc = arcs[0]
        if arc.olabel:
            outputs.append(arc.olabel)
        cost += float(arc.weight)
        state = arc.nextstate


def ctc_frames(token_ids: Sequence[int], blank: int = 0) -> List[int]:
    """A minimal CTC frame sequence for ``token_ids``: a blank only between equal neighbours."""
    frames: List[int] = []
    for token in token_ids:
        if frames and frames[-1] == token:
            frames.append(blank)
        frames.append(token)
    return frames


def g_cost(grammar: fst.Fst, word_ids: Sequence[int], backoff_id: int) -> float:
    """Cost of a sentence through an ARPA-derived G with backoff (#0) arcs taken only when the
    word has no arc, as ARPA semantics say; ends with the final weight (</s>)."""
    state, cost = grammar.start(), 0.0

    def arcs_by_label(s):
        return {arc.ilabel: arc for arc in grammar.arcs(s)}

    for word in word_ids:
        while True:
            arcs = arcs_by_label(state)
            if word in arcs:
                cost += float(arcs[word].weight)
                state = arcs[word].nextstate
                break
            cost += float(arcs[backoff_id].weight)
            state = arcs[backoff_id].nextstate
    while float(grammar.final(state)) == float("inf"):
        backoff = arcs_by_label(state)[backoff_id]
        cost += float(backoff.weight)
        state = backoff.nextstate
    return cost + float(grammar.final(state))



def simulated_utterances(char_setup, count: int, seed: int, boundary: bool = True,
                         peak: float = 3.0, noise: float = 1.5) -> list:
    """CTC log-probabilities for the first ``count`` corpus sentences, spelled with char tokens
    (and '|' after each word when ``boundary``)."""
    import numpy as np

    from pywfst.synthetic import simulate_ctc_emissions

    rng = np.random.default_rng(seed)
    ids = char_setup["token_ids"]
    result = []
    for sentence in char_setup["sentences"][:count]:
        tokens = [t for w in sentence for t in [ids[c] for c in w] + ([ids["|"]] if boundary else [])]
        result.append(simulate_ctc_emissions(tokens, len(ids), rng, peak=peak, noise=noise))
    return result


def write_fst(path, arcs, finals, num_states):
    """An OpenFst file of (source, ilabel, olabel, weight, target) arcs; state 0 starts."""
    graph = fst.VectorFst()
    for _ in range(num_states):
        graph.add_state()
    graph.set_start(0)
    for source, ilabel, olabel, weight, target in arcs:
        graph.add_arc(source, fst.Arc(ilabel, olabel, fst.Weight("tropical", weight), target))
    for state in finals:
        graph.set_final(state)
    graph.write(str(path))


def reweighted_copy(graph, directory, lm_weight: float, word_insertion_penalty: float):
    """A copy of ``graph``'s directory whose HCLG.fst has every weight times ``lm_weight`` and
    ``word_insertion_penalty`` added on every arc with an output word: what the search options
    of those names should give without a rebuild."""
    import shutil

    import pywfst

    shutil.copytree(graph.path, directory)
    hclg = fst.Fst.read(str(directory / "HCLG.fst"))
    result = fst.VectorFst()
    result.add_states(hclg.num_states())
    result.set_start(hclg.start())
    for state in hclg.states():
        final = float(hclg.final(state))
        if final != float("inf"):
            result.set_final(state, fst.Weight("tropical", lm_weight * final))
        for arc in hclg.arcs(state):
            weight = lm_weight * float(arc.weight) + (word_insertion_penalty if arc.olabel else 0.0)
            result.add_arc(state, fst.Arc(arc.ilabel, arc.olabel, fst.Weight("tropical", weight),
                                          arc.nextstate))
    result.write(str(directory / "HCLG.fst"))
    return pywfst.Graph.load(directory)


def foreign_graph(directory, arcs, finals, num_states, words):
    directory.mkdir()
    write_fst(directory / "HCLG.fst", arcs, finals, num_states)
    (directory / "words.txt").write_text("".join(f"{w} {i}\n" for w, i in words.items()))
    return directory
