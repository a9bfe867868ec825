"""pyctcdecode's ``build_ctcdecoder``, backed by pywfst (and working with numpy 2).

    from pywfst.compat.pyctcdecode import build_ctcdecoder   # was: from pyctcdecode import ...
    decoder = build_ctcdecoder(labels, kenlm_model_path="lm.arpa", alpha=0.5, beta=1.0)
    text = decoder.decode(log_probs)                            # [T, V] numpy array
    beams = decoder.decode_beams(log_probs, hotwords=["atrial fibrillation"])
    texts = decoder.decode_batch(pool, list_of_log_probs)       # pool may be None

Labels as pyctcdecode takes them: the blank is "" and the word delimiter " ". Behind it a
pywfst spelling graph (each word spelled by its chars and followed by " ") of the LM's words, or
of ``unigrams`` when given, cached by input hash. As in pyctcdecode, a word ends only where the
delimiter is emitted: with pywfst's default optional delimiter the search could split a word
into shorter ones without it, which ``beta`` (a bonus per word) rewards; on benchmarks/wer's dev
set, at pyctcdecode's beam settings, the mandatory delimiter had the lower WER at every alpha and
beta tried. The last word's delimiter takes one frame at the end (as in torchaudio's lexicons of
"word w o r d |"), at about the same cost for every hypothesis. What differs:

- pyctcdecode can emit a word outside the unigrams (with ``unk_score_offset``); pywfst decodes
  the graph's words only, so ``unk_score_offset`` has no effect. Lexicon-free decoding (no LM
  and no unigrams) and BPE labels ("▁") are errors.
- ``alpha`` (pyctcdecode weighs ln P of the LM) is ``lm_weight``; ``beta`` (added per word) is
  ``-word_insertion_penalty``; ``beam_width`` is ``max_active`` and ``-beam_prune_logp`` the
  ``beam``; ``token_min_logp``, ``lm_score_boundary`` and ``lm_start_state`` are ignored.
- hotwords are pywfst phrase boosts: each hotword's completed phrase gets ``hotword_weight``
  off its cost (pyctcdecode scores partial matches by characters), in the search, with no cost
  per frame that grows with the number of hotwords. Hotwords must be words of the graph. The
  compiled boost of the last few hotword lists is kept, so a list passed again costs no
  compilation (1000 hotwords: about 7 ms).
- ``decode_batch`` decodes on pywfst's threads: the ``pool`` argument is accepted and unused.
- ``decode_beams`` gives the n-best (up to 10) as pyctcdecode's tuples (text, None, word frames,
  acoustic score, combined score); the LM state is None.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from ..boost import PhraseBoost
from ..decoder import Decoder
from ..result import Result
from .graphs import blank_first, build_cached, refuse_kenlm_binary, reorder

MAX_BEAMS = 10  # decode_beams' n-best
KEPT_BOOSTS = 8  # compiled hotword lists kept per decoder (the oldest goes first)


def build_ctcdecoder(labels: Sequence[str], kenlm_model_path: Optional[str] = None,
                     unigrams: Optional[Sequence[str]] = None, alpha: float = 0.5,
                     beta: float = 1.5, unk_score_offset: float = -10.0,
                     lm_score_boundary: bool = True) -> "BeamSearchDecoderCTC":
    """Builds a :class:`BeamSearchDecoderCTC` (pyctcdecode's signature; module doc)."""
    del unk_score_offset, lm_score_boundary  # no counterpart (module doc)
    labels = [str(label) for label in labels]
    if "" not in labels:
        raise ValueError('labels: the CTC blank "" is missing')
    if " " not in labels:
        raise ValueError('labels: the word delimiter " " is missing (BPE labels with "▁" are '
                         "not supported)")
    if kenlm_model_path is None and not unigrams:
        raise ValueError("lexicon-free decoding (no kenlm_model_path and no unigrams) is not "
                         "supported: give the LM's ARPA or the unigrams")
    lm = None if kenlm_model_path is None else Path(kenlm_model_path)
    if lm is not None:
        refuse_kenlm_binary(lm)  # reads its first bytes only
    return BeamSearchDecoderCTC(labels, lm, list(unigrams or []), alpha, beta)


class BeamSearchDecoderCTC:
    def __init__(self, labels: List[str], lm: Optional[Path], unigrams: List[str],
                 alpha: float, beta: float):
        self._labels = labels
        self._order = blank_first(len(labels), labels.index(""))
        names = ["|" if labels[c] == " " else labels[c] for c in self._order]
        # a word ends where the delimiter is (pyctcdecode's words): "|" after each spelling
        spelled = [f"{word} {' '.join(word)} |" for word in unigrams if word]
        build = {"word_boundary": "|", "boundary_mandatory": True, "lm": lm}
        build.update({} if spelled else {"spell": True})
        self.graph = build_cached("pyctcdecode", names, [lm] if lm is not None else [], build,
                                  lexicon_lines=spelled)
        self._weights = {"lm_weight": float(alpha), "word_insertion_penalty": -float(beta)}
        self._decoders: Dict[Tuple, Decoder] = {}
        self._boosts: Dict[Tuple, PhraseBoost] = {}

    def decode(self, logits, beam_width: int = 100, beam_prune_logp: float = -10.0,
               token_min_logp: float = -5.0, hotwords: Optional[Sequence[str]] = None,
               hotword_weight: float = 10.0, lm_start_state=None) -> str:
        return self._decode(logits, beam_width, beam_prune_logp, hotwords, hotword_weight,
                            1).text

    def decode_beams(self, logits, beam_width: int = 100, beam_prune_logp: float = -10.0,
                     token_min_logp: float = -5.0, prune_history: bool = False,
                     hotwords: Optional[Sequence[str]] = None, hotword_weight: float = 10.0,
                     lm_start_state=None) -> List[tuple]:
        result = self._decode(logits, beam_width, beam_prune_logp, hotwords, hotword_weight,
                              min(beam_width, MAX_BEAMS))
        return [_beam(h) for h in result.nbest or [result]]

    def decode_batch(self, pool, logits_list, beam_width: int = 100,
                     beam_prune_logp: float = -10.0, token_min_logp: float = -5.0,
                     hotwords: Optional[Sequence[str]] = None,
                     hotword_weight: float = 10.0) -> List[str]:
        return [r.text for r in self._decode_batch(logits_list, beam_width, beam_prune_logp,
                                                   hotwords, hotword_weight, 1)]

    def decode_beams_batch(self, pool, logits_list, beam_width: int = 100,
                           beam_prune_logp: float = -10.0, token_min_logp: float = -5.0,
                           prune_history: bool = False, hotwords: Optional[Sequence[str]] = None,
                           hotword_weight: float = 10.0) -> List[List[tuple]]:
        results = self._decode_batch(logits_list, beam_width, beam_prune_logp, hotwords,
                                     hotword_weight, min(beam_width, MAX_BEAMS))
        return [[_beam(h) for h in r.nbest or [r]] for r in results]

    def _decode(self, logits, beam_width, beam_prune_logp, hotwords, hotword_weight,
                nbest) -> Result:
        decoder = self._decoder(beam_width, beam_prune_logp, nbest)
        return decoder.decode(reorder(logits, self._order),
                              boost=self._boost(hotwords, hotword_weight))

    def _decode_batch(self, logits_list, beam_width, beam_prune_logp, hotwords, hotword_weight,
                      nbest) -> List[Result]:
        decoder = self._decoder(beam_width, beam_prune_logp, nbest)
        batch = [reorder(logits, self._order) for logits in logits_list]
        return decoder.decode_batch(batch, boost=self._boost(hotwords, hotword_weight))

    def _decoder(self, beam_width: int, beam_prune_logp: float, nbest: int) -> Decoder:
        key = (beam_width, beam_prune_logp, nbest)
        if key not in self._decoders:
            if not (isinstance(beam_prune_logp, (int, float)) and beam_prune_logp < 0):
                raise ValueError(f"beam_prune_logp: must be a number < 0, got {beam_prune_logp!r}")
            self._decoders[key] = Decoder(self.graph, max_active=beam_width,
                                          min_active=min(beam_width, 20), beam=-beam_prune_logp,
                                          nbest=nbest, **self._weights)
        return self._decoders[key]

    def _boost(self, hotwords: Optional[Sequence[str]], weight: float) -> Optional[PhraseBoost]:
        """The hotwords compiled into a PhraseBoost, or the one compiled for the same list and
        weight by a recent call."""
        if not hotwords:
            return None
        if not (isinstance(weight, (int, float)) and math.isfinite(weight)):
            raise ValueError(f"hotword_weight: must be a finite number, got {weight!r}")
        key = (tuple(str(phrase) for phrase in hotwords), float(weight))
        boost = self._boosts.get(key)
        if boost is None:
            boost = PhraseBoost(self.graph, {phrase: key[1] for phrase in key[0]})
            while len(self._boosts) >= KEPT_BOOSTS:
                self._boosts.pop(next(iter(self._boosts), None), None)
            self._boosts[key] = boost
        return boost


def _beam(hypothesis: Result) -> tuple:
    frames = [(word, (start, end + 1)) for word, (start, end)
              in zip(hypothesis.words, hypothesis.word_spans)]
    return (hypothesis.text, None, frames, -hypothesis.acoustic_cost, -hypothesis.cost)
