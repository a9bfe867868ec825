"""torchaudio's ``ctc_decoder`` (flashlight-text's LexiconDecoder), backed by pywfst.

    from pywfst.compat.torchaudio import ctc_decoder      # was: from torchaudio.models.decoder
    decoder = ctc_decoder(lexicon="lexicon.txt", tokens="tokens.txt", lm="lm.arpa",
                          nbest=3, beam_size=1500, lm_weight=3.23, word_score=-0.26)
    hypotheses = decoder(emissions)                       # [B, T, V] float CPU tensor
    " ".join(hypotheses[0][0].words)

The same signature, return type (lists of ``CTCHypothesis`` with ``tokens``, ``words``,
``score``, ``timesteps``), ``idxs_to_tokens`` and incremental ``decode_begin`` / ``decode_step``
/ ``decode_end`` / ``get_final_hypothesis``. Behind it, a pywfst graph is built from the
lexicon, the tokens and the LM (CTC topology; each lexicon spelling as written, the silence token
included) and cached by input hash (pywfst.graph.cache), so a second decoder for the same files
starts in a fraction of a second. Mapping of the options:

- ``lm_weight``: flashlight adds lm_weight x log10 P(word); pywfst's costs are -ln P, so its
  ``lm_weight`` is ``lm_weight / ln 10``. ``word_score`` (added per word) is
  ``-word_insertion_penalty``.
- ``beam_size`` (hypotheses kept per frame) is ``max_active`` (with no ``min_active`` floor);
  ``beam_threshold`` (score distance from the best) is ``beam`` and ``lattice_beam``; ``nbest``
  is ``nbest``.
- ``beam_size_token`` (tokens tried per frame) has no counterpart and is ignored.
- Not supported, each a clear error: ``lexicon=None`` (lexicon-free decoding), a KenLM binary LM
  (pywfst compiles the LM into its graph: pass the ARPA it was built from), a custom
  ``CTCDecoderLM``, ``lm_dict``, ``sil_score`` != 0, a finite ``unk_score``, ``log_add=True``.
- Without an LM every word costs ln(#words) (a uniform unigram), where flashlight's ZeroLM adds 0.
- ``score`` is pywfst's negated cost: acoustic scores plus the weighted LM and word scores, with
  the LM in ln units (flashlight's in log10 units times lm_weight: the same ranking).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import List, NamedTuple, Optional, Sequence, Union

from ..decoder import Decoder
from ..result import Result
from .graphs import blank_first, build_cached, refuse_kenlm_binary, reorder

LN_10 = math.log(10.0)


class CTCHypothesis(NamedTuple):
    tokens: "object"  # torch.LongTensor [L]: token indices, blanks and repeats removed
    words: List[str]
    score: float
    timesteps: "object"  # torch.IntTensor [L]: the frame where each token starts


def ctc_decoder(lexicon: Optional[str], tokens: Union[str, List[str]], lm=None,
                lm_dict: Optional[str] = None, nbest: int = 1, beam_size: int = 50,
                beam_size_token: Optional[int] = None, beam_threshold: float = 50,
                lm_weight: float = 2, word_score: float = 0, unk_score: float = -math.inf,
                sil_score: float = 0, log_add: bool = False, blank_token: str = "-",
                sil_token: str = "|", unk_word: str = "<unk>") -> "CTCDecoder":
    """Builds a :class:`CTCDecoder` (torchaudio's signature; see the module doc for what each
    option becomes)."""
    if lexicon is None:
        raise ValueError("lexicon=None (lexicon-free decoding) is not supported by pywfst's "
                         "ctc_decoder: give a lexicon (a spelling lexicon 'word w o r d |' "
                         "per word decodes open words of a list)")
    if lm is not None and not isinstance(lm, (str, Path)):
        raise TypeError(f"lm: a custom {type(lm).__name__} is not supported; give the path "
                        "of an ARPA file")
    unsupported = [(lm_dict is not None, "lm_dict"), (sil_score != 0, "sil_score"),
                   (math.isfinite(unk_score), "unk_score"), (bool(log_add), "log_add=True")]
    for flagged, name in unsupported:
        if flagged:
            raise ValueError(f"{name}: not supported by pywfst's ctc_decoder (see "
                             "pywfst.compat.torchaudio)")
    del beam_size_token, unk_word  # no counterpart (module doc)
    token_list = _read_tokens(tokens)
    if blank_token not in token_list:
        raise ValueError(f"blank_token {blank_token!r} is not one of the tokens")
    if lm is not None:
        refuse_kenlm_binary(Path(lm))
    # flashlight keeps no minimum of hypotheses per frame, and returns the nbest best whatever
    # their distance from the best: min_active 0, lattice_beam = the beam.
    return CTCDecoder(Path(lexicon), token_list, None if lm is None else Path(lm), blank_token,
                      nbest=nbest, max_active=beam_size, min_active=0, beam=beam_threshold,
                      lattice_beam=beam_threshold, lm_weight=lm_weight / LN_10,
                      word_insertion_penalty=-word_score)


class CTCDecoder:
    """Decodes [B, T, V] emissions; built by :func:`ctc_decoder`."""

    def __init__(self, lexicon: Path, tokens: List[str], lm: Optional[Path], blank_token: str,
                 **options):
        self.tokens = tokens
        self._order = blank_first(len(tokens), tokens.index(blank_token))
        self.graph = build_cached("torchaudio", [tokens[c] for c in self._order],
                                  [lexicon] + ([lm] if lm is not None else []),
                                  {"lexicon": lexicon, "lm": lm})
        self.decoder = Decoder(self.graph, **options)
        self._stream = None
        self._final: List[CTCHypothesis] = []

    def __call__(self, emissions, lengths=None) -> List[List[CTCHypothesis]]:
        """emissions: float CPU tensor (or array) [B, T, V]; lengths: [B] valid frames."""
        scores = reorder(emissions, self._order)
        results = self.decoder.decode_batch(scores, lengths=lengths)
        return [self._hypotheses(result) for result in results]

    def idxs_to_tokens(self, idxs) -> List[str]:
        return [self.tokens[int(i)] for i in idxs]

    def decode_begin(self) -> None:
        self._stream = self.decoder.stream()
        self._final = []

    def decode_step(self, emissions) -> None:
        """One chunk [T, V] of the utterance begun by decode_begin."""
        if self._stream is None:
            raise RuntimeError("decode_step: call decode_begin first")
        self._stream.accept(reorder(emissions, self._order))

    def decode_end(self) -> None:
        if self._stream is None:
            raise RuntimeError("decode_end: call decode_begin first")
        self._final = self._hypotheses(self._stream.finish())
        self._stream = None

    def get_final_hypothesis(self) -> List[CTCHypothesis]:
        return self._final

    def _hypotheses(self, result: Result) -> List[CTCHypothesis]:
        import torch

        hypotheses = []
        for h in result.nbest or [result]:
            ids, starts = _collapse(h.alignment)
            hypotheses.append(CTCHypothesis(
                tokens=torch.tensor([self._order[i] for i in ids], dtype=torch.long),
                words=list(h.words), score=-h.cost,
                timesteps=torch.tensor(starts, dtype=torch.int32)))
        return hypotheses


def _collapse(alignment: Sequence[int]):
    """CTC: repeats merged, blanks (id 0) dropped; with each token's first frame."""
    ids, starts = [], []
    previous = None
    for frame, token in enumerate(alignment):
        if token != previous and token != 0:
            ids.append(token)
            starts.append(frame)
        previous = token
    return ids, starts


def _read_tokens(tokens: Union[str, Path, List[str]]) -> List[str]:
    """A list of tokens, or a file with one per line (the first of a line's aliases)."""
    if isinstance(tokens, (list, tuple)):
        return [str(t) for t in tokens]
    lines = Path(tokens).read_text(encoding="utf-8").splitlines()
    return [line.split()[0] for line in lines if line.split()]

