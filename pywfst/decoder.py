"""Decoder: the Python face of the native beam search."""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import inspect
import queue
import reprlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, NamedTuple, Optional, Sequence, Union

import numpy as np

from . import _core
from .boost import PhraseBoost, PhraseSpec
from .class_slots import (ClassEntries, EntrySpec, Pronunciations, has_end_variants, slot_index,
                          slot_names, slot_of_label)
from .device import (CPU, check_device_features, check_strided, device_scores, is_cuda_tensor,
                     parse_device)
from . import options as search_options
from .graph import Graph
from .lattice import Lattice
from .options import as_flag, as_number
from .result import Result
from .word_alignment import word_spans

if TYPE_CHECKING:
    from .stream import Stream

_ACCEPTED_FLOATS = (np.float16, np.float32, np.float64)
_FLOAT32 = np.dtype(np.float32)  # native byte order; an array's own copy of it takes the long way
DEFAULT_FRAME_SHIFT = 0.04  # seconds; when neither the caller nor the graph says otherwise
MAX_THREADS = 1024


def as_score_array(value, what: str = "emissions", ndim: int = 2,
                   allow_empty: bool = False) -> np.ndarray:
    """A float32 numpy view (no copy when already float32) of a numpy array or CPU torch tensor;
    a copy only where the native search cannot read it in place (strides not whole floats)."""
    if (type(value) is np.ndarray and value.dtype is _FLOAT32 and value.ndim == ndim
            and value.size and value.flags.c_contiguous):
        return value  # the usual case, which every check below would pass
    if type(value).__module__.split(".")[0] == "torch":
        if value.device.type != "cpu":
            raise ValueError(f"{what}: tensor is on {value.device}; the CPU decoder needs CPU tensors "
                             "(call .cpu())")
        check_strided(value, what)
        value = value.detach()
        if str(value.dtype) == "torch.bfloat16":
            value = value.float()
        value = value.numpy()
    try:
        array = np.asarray(value)
    except ValueError as error:  # a ragged nested list
        raise ValueError(f"{what}: cannot be read as an array of numbers ({error})") from None
    if array.dtype.type not in _ACCEPTED_FLOATS:
        raise TypeError(f"{what}: dtype must be float32 (float16/float64 are converted), "
                        f"got {array.dtype}")
    if array.ndim != ndim:
        shape = "[frames, columns]" if ndim == 2 else "[batch, frames, columns]"
        raise ValueError(f"{what}: expected {ndim} dimensions {shape}, got shape {array.shape}")
    # A stream's chunk may hold no frames (it still has its columns).
    if array.size == 0 and not (allow_empty and array.shape[-1] > 0):
        raise ValueError(f"{what}: empty (shape {array.shape})")
    array = array.astype(np.float32, copy=False)
    if any(stride % array.itemsize for stride in array.strides):  # e.g. a packed record's field
        array = np.ascontiguousarray(array)
    return array


class Decoder:
    """Viterbi beam search over a decoding graph.

    Args:
        graph: a :class:`Graph` or the path of a graph directory.
        log_softmax: the scores are logits; normalise each frame first.
        log_priors: per-column log-priors subtracted from the scores (hybrid DNN-HMM).
        frame_shift: seconds per frame, for word times; None: the graph's (``build-graph
            --frame-shift``, recorded in graph.json), else 0.04. Pass the acoustic model's.
        allow_extra_columns: accept emissions with more columns than the graph's tokens.txt
            (the extra columns are never searched, but must hold valid scores too: finite or
            -inf, checked like the others); by default a column count other than the graph's
            is an error, since it means the scores and the graph do not belong together.
        num_threads: threads for :meth:`decode_batch` (0: all cores).
        device: "cpu" (the threaded CPU search), "cuda" / "cuda:N" (the batched GPU search: 1-best,
            no boosting or class slots; scores may be CUDA tensors, read in place), or
            "cuda-sim" (the GPU search's algorithm run on the CPU: for testing and debugging).
        lanes: GPU search: utterances decoded side by side (default: sized from free GPU
            memory; 8 for cuda-sim). Memory is bounded by lanes, not by the batch.

    Search options (keyword arguments; ``Decoder.options`` holds them):
OPTIONS_DOC

    Threads: a Decoder may be shared by any number of threads. Each call takes its own native
    search state (made on demand, then reused), and all of them share the one graph;
    :meth:`set_class` applies to the calls that start after it returns.
    """

    def __init__(self, graph: Union[Graph, str, Path], *, log_softmax: bool = False,
                 log_priors=None, frame_shift: Optional[float] = None, num_threads: int = 0,
                 allow_extra_columns: bool = False, device="cpu", lanes: Optional[int] = None,
                 **options):
        self.graph = graph if isinstance(graph, Graph) else Graph.load(graph)
        options = search_options.make_options(options)
        if frame_shift is None:
            frame_shift = self.graph.frame_shift or DEFAULT_FRAME_SHIFT
        frame_shift = as_number("frame_shift", frame_shift, float)
        if not (frame_shift > 0 and np.isfinite(frame_shift)):
            raise ValueError(f"frame_shift: must be a finite number > 0, got {frame_shift}")
        num_threads = as_number("num_threads", num_threads, int)
        if not 0 <= num_threads <= MAX_THREADS:
            raise ValueError(f"num_threads: must be in [0, {MAX_THREADS}] (0: all cores), "
                             f"got {num_threads}")
        self.options = options
        self.log_softmax = as_flag("log_softmax", log_softmax)
        self.log_priors = None
        if log_priors is not None:
            self.log_priors = np.ascontiguousarray(as_score_array(log_priors, "log_priors", ndim=1))
            if not np.all(np.isfinite(self.log_priors)):
                raise ValueError("log_priors: must all be finite")
        self.frame_shift = frame_shift
        self.num_threads = num_threads
        self.allow_extra_columns = as_flag("allow_extra_columns", allow_extra_columns)
        native_graph = self.graph.native
        self.device = parse_device(device)
        self._device_search = None
        if self.device != CPU:
            check_device_features(self.device, options.nbest, None, None)
            if self.graph.transition_model is not None:
                raise ValueError(f"transition_model: Kaldi graphs of transition-ids decode in "
                                 f"the CPU search, not on {self.device}; use device='cpu'")
            self._device_search = _core.BatchSearch(self.graph.on_device(self.device), options,
                                                    int(lanes or 0))
            self._device_lock = threading.Lock()  # one batch at a time on the device search
        # Idle native searches; a call takes one (or makes one) and gives it back, so concurrent
        # calls never share search state. Shared by copies of this Decoder, which is safe.
        self._searches: "queue.SimpleQueue" = queue.SimpleQueue()
        self._searches.put(_core.BeamSearch(native_graph, options))
        self._classes = _ClassState.empty(self.graph)

    @classmethod
    def from_settings(cls, graph: Union[Graph, str, Path], settings: Union[str, Path],
                      **arguments) -> "Decoder":
        """A Decoder with the options of a settings file (``pywfst tune --out``); ``arguments``
        (any Decoder argument) are added to them and win over them."""
        from .settings import read_settings

        return cls(graph, **{**read_settings(settings), **arguments})

    def set_class(self, name: str, entries: Union[ClassEntries, EntrySpec, None],
                  pronunciations: Optional[Pronunciations] = None) -> None:
        """Fills the graph's class slot ``name`` with ``entries`` for the following decode calls.

        ``entries``: a :class:`ClassEntries` prepared for this graph, or entries to compile now
        (a list of words / phrases, or a mapping entry -> relative weight); None empties the slot.
        ``pronunciations`` (phone graphs): phone strings of words the graph does not know.
        """
        by_slot = dict(self._classes.by_slot)
        if entries is None:
            by_slot.pop(slot_index(self.graph, name), None)
        else:
            if not isinstance(entries, ClassEntries):
                entries = ClassEntries(self.graph, name, entries, pronunciations)
            elif entries.graph_path != self.graph.path or entries.name != name:
                raise ValueError(f"entries: prepared for slot {entries.name!r} of "
                                 f"{entries.graph_path}, not {name!r} of {self.graph.path}")
            by_slot[entries.index] = entries
        # One assignment: a call running in another thread keeps the state it started with.
        self._classes = _ClassState.of(self.graph, by_slot)

    def _check_columns(self, columns: int, what: str) -> None:
        expected = self.graph.emission_columns
        if expected is None or columns == expected or (columns > expected and
                                                       self.allow_extra_columns):
            return
        hint = (" (pass allow_extra_columns=True if the extra columns are never meant to be "
                "read)" if columns > expected else "")
        raise ValueError(f"{what}: {columns} columns, but the graph {self.graph.path} was built "
                         f"for {expected} ({self.graph.emission_columns_origin}){hint}")

    def _transform(self) -> dict:
        transform = {"log_softmax": self.log_softmax, "log_priors": self.log_priors}
        if self.graph.label_columns is not None:  # a Kaldi graph's transition-ids
            transform["label_columns"] = self.graph.label_columns
        return transform

    def _native_boost(self, boost: Union[PhraseBoost, PhraseSpec, None]):
        if boost is None:
            return None
        if not isinstance(boost, PhraseBoost):
            boost = PhraseBoost(self.graph, boost)
        elif boost.graph_path != self.graph.path:
            raise ValueError(f"boost: made for the graph {boost.graph_path}, not {self.graph.path}")
        return boost.native

    def _result(self, native, classes: "_ClassState") -> Result:
        hypotheses = [self._hypothesis(h, native, classes) for h in native.hypotheses]
        if not hypotheses:  # every token pruned: only possible with pathological scores
            return Result(words=[], word_ids=[], word_frames=[], alignment=[],
                          cost=float("inf"), acoustic_cost=0.0,
                          graph_cost=float("inf"), boost_cost=0.0, reached_final=False,
                          num_frames=native.num_frames, frame_shift=self.frame_shift)
        extras = {}
        if native.lattice is not None:
            extras["make_lattice"] = functools.partial(Lattice.from_native, native.lattice)
        if self.options.nbest > 1:
            extras["nbest"] = hypotheses
        return dataclasses.replace(hypotheses[0], **extras) if extras else hypotheses[0]

    def _hypothesis(self, hypothesis, native, classes: "_ClassState") -> Result:
        ids = hypothesis.words
        frames = hypothesis.word_frames
        alignment = hypothesis.alignment
        # The self-loop flags serve the word times only: read when those are first asked for.
        locate = functools.partial(_locate_words, self.graph, classes.pronunciations, ids, frames,
                                   alignment, hypothesis)
        return Result(words=classes.words(ids), word_ids=ids, word_frames=frames,
                      alignment=alignment, cost=hypothesis.total_cost,
                      acoustic_cost=hypothesis.acoustic_cost, graph_cost=hypothesis.graph_cost,
                      boost_cost=hypothesis.boost_cost, reached_final=native.reached_final,
                      num_frames=native.num_frames, frame_shift=self.frame_shift,
                      locate_words=locate)

    def decode(self, emissions, boost: Union[PhraseBoost, PhraseSpec, None] = None) -> Result:
        """Decodes one utterance: scores [T, V] (numpy or CPU torch; float32, float16, float64).

        ``boost``: a :class:`PhraseBoost`, or phrases to compile for this call (a mapping
        phrase -> weight, or a list of phrases / (phrase, weight) pairs).
        """
        if self._device_search is not None:
            return self._decode_on_device([emissions], ["emissions"], boost)[0]
        scores = as_score_array(emissions)
        self._check_columns(scores.shape[-1], "emissions")
        native_boost = self._native_boost(boost)
        classes = self._classes
        try:
            search = self._searches.get_nowait()
        except queue.Empty:  # every search is busy in another thread
            search = _core.BeamSearch(self.graph.native, self.options)
        try:
            native = search.decode(scores, boost=native_boost, classes=classes.native,
                                   **self._transform())
        finally:
            self._searches.put(search)
        return self._result(native, classes)

    def stream(self, boost: Union[PhraseBoost, PhraseSpec, None] = None, **options) -> "Stream":
        """A :class:`~pywfst.stream.Stream` that decodes utterances chunk by chunk, with partial
        results and Kaldi's endpoint rules; ``finish()`` equals :meth:`decode` of the whole
        utterance. ``options``: ``endpoint_rules``, ``silence_tokens``."""
        from .stream import Stream

        return Stream(self, boost=boost, **options)

    def decode_batch(self, emissions, lengths: Optional[Sequence[int]] = None,
                     names: Optional[Sequence[str]] = None,
                     boost: Union[PhraseBoost, PhraseSpec, None] = None) -> List[Result]:
        """Decodes many utterances in parallel native threads (the GIL is released).

        ``emissions`` is a list of [T_i, V] arrays, or one padded [B, T, V] array with ``lengths``
        (frames per utterance; all T when omitted). Results equal one-at-a-time decoding.
        ``names`` (one per utterance) are used in error messages instead of ``emissions[i]``.
        ``boost`` applies to every utterance (see :meth:`decode`).
        """
        if is_cuda_tensor(emissions):  # a padded GPU batch: views of its rows, no copy
            check_strided(emissions, "emissions")
            if emissions.ndim != 3:
                raise ValueError("emissions: expected 3 dimensions [batch, frames, columns], got "
                                 f"shape {tuple(emissions.shape)}")
            lengths = _check_lengths(lengths, emissions.shape[0], emissions.shape[1])
            emissions = [emissions[i, :length] for i, length in enumerate(lengths)]
            lengths = None
        if not _is_array(emissions):
            try:
                batch = list(emissions)
            except TypeError:
                raise TypeError("emissions: expected a list (or any iterable) of [T, V] arrays, "
                                "or a padded [B, T, V] array, got "
                                f"{type(emissions).__name__}") from None
            if lengths is not None:
                raise ValueError("lengths: only for a padded [B, T, V] array, not for a list")
        else:
            padded = as_score_array(emissions, "emissions", ndim=3)
            lengths = _check_lengths(lengths, padded.shape[0], padded.shape[1])
            batch = [padded[i, :length] for i, length in enumerate(lengths)]
        labels = (_check_names(names, len(batch)) if names is not None
                  else [f"emissions[{i}]" for i in range(len(batch))])
        if self._device_search is not None:
            return self._decode_on_device(batch, labels, boost)
        batch = [as_score_array(e, label) for e, label in zip(batch, labels)]
        for scores, label in zip(batch, labels):
            self._check_columns(scores.shape[-1], label)
        if not batch:
            return []
        classes = self._classes
        natives = _core.decode_batch(self.graph.native, self.options, batch,
                                     num_threads=self.num_threads, names=labels,
                                     boost=self._native_boost(boost),
                                     classes=classes.native, **self._transform())
        return [self._result(n, classes) for n in natives]

    def _decode_on_device(self, batch: list, labels: List[str], boost) -> List[Result]:
        """The GPU search (or its CPU simulation) over a list of [T, V] utterances."""
        classes = self._classes
        check_device_features(self.device, self.options.nbest, boost, classes.native)
        items, alive = [], []
        for scores, label in zip(batch, labels):
            item, keep = device_scores(scores, label, self.device, as_score_array)
            columns = item[2] if isinstance(item, tuple) else item.shape[1]
            self._check_columns(columns, label)
            items.append(item)
            alive.append(keep)
        if not items:
            return []
        with self._device_lock:
            natives = self._device_search.decode_batch(items, labels, **self._transform())
        return [self._result(n, classes) for n in natives]


def result_of_path(graph: Graph, path, like: Result, **changes) -> Result:
    """A lattice path (pywfst.lattice.LatticePath) of a graph without filled class slots as a
    Result, with ``like``'s frame shift, frame count and reached_final; its word times come from
    the path's alignment as a decode's do (its self-loop flags, where the lattice has them)."""
    continues = path.continues if path.continues is not None else [False] * len(path.alignment)
    locate = functools.partial(_locate_words, graph, _WordPronunciations(graph, {}),
                               path.word_ids, path.word_frames, path.alignment, continues)
    return dataclasses.replace(
        like, words=[graph.word(w) for w in path.word_ids], word_ids=path.word_ids,
        word_frames=path.word_frames, alignment=path.alignment, cost=path.cost,
        acoustic_cost=path.acoustic_cost, graph_cost=path.graph_cost, boost_cost=0.0, nbest=[],
        locate_words=locate, **changes)


def _locate_words(graph: Graph, pronunciations, word_ids, word_frames, alignment, continues):
    """A path's word spans (word_alignment.word_spans); ``continues``: its self-loop flags, or a
    native hypothesis that has them."""
    if isinstance(continues, _core.Hypothesis):
        continues = continues.continues_token
    return word_spans(word_ids, word_frames, alignment, continues, graph.blank_id,
                      graph.states_per_token, pronunciations, graph.optional_token_ids,
                      graph.final_token_ids)


# The search options, as the native core lists them, in the docstring and the signature.
Decoder.__doc__ = Decoder.__doc__.replace("OPTIONS_DOC", search_options.docs())
Decoder.__init__.__signature__ = inspect.signature(Decoder.__init__).replace(  # type: ignore
    parameters=[p for p in inspect.signature(Decoder.__init__).parameters.values()
                if p.kind != inspect.Parameter.VAR_KEYWORD] + search_options.parameters())


def _is_array(value) -> bool:
    """A numpy array or a tensor (one padded batch), as opposed to a list of utterances."""
    return isinstance(value, np.ndarray) or type(value).__module__.split(".")[0] == "torch"


class _ClassState(NamedTuple):
    """What the class slots hold for the calls that start now: the entries by slot index, their
    native sub-graphs by slot (None: empty slot) and the word pronunciations they add. Replaced
    whole by set_class, never changed in place."""
    graph: Graph
    by_slot: Dict[int, ClassEntries]
    native: list
    pronunciations: "_WordPronunciations"

    @classmethod
    def empty(cls, graph: Graph) -> "_ClassState":
        return cls.of(graph, {})

    @classmethod
    def of(cls, graph: Graph, by_slot: Dict[int, ClassEntries]) -> "_ClassState":
        count = len(slot_names(graph))
        native = [None] * count * (2 if has_end_variants(graph) else 1)
        for index, prepared in by_slot.items():
            native[index] = prepared.native
            if prepared.native_at_end is not None:
                native[count + index] = prepared.native_at_end
        return cls(graph, by_slot, native, _WordPronunciations(graph, by_slot))

    def words(self, word_ids: List[int]) -> List[str]:
        if not self.by_slot:  # (a graph without class slots may have word ids of any size)
            return self.graph.word_sequence(word_ids)
        return [self.graph.word(w) if (slot := slot_of_label(w)) is None
                else self.by_slot[slot].word(w) for w in word_ids]


class _WordPronunciations:
    """Token sequences by word id for word times: the graph's (pronunciations.txt, read on the
    first request), and those of the class entries in use. A word without any (a foreign graph
    has none) is not in it, so word times come from the output frames."""

    def __init__(self, graph: Graph, classes: Dict[int, ClassEntries]):
        self.graph = graph
        self.classes = classes

    def __getitem__(self, label: int):
        slot = slot_of_label(label) if self.classes else None
        if slot is not None:
            return self.classes[slot].pronunciations_of(label)
        found = (self.graph.pronunciations or {}).get(label, frozenset())
        for entries in self.classes.values():
            found = found | entries.pronunciations_of(label)
        return found

    def __contains__(self, label: int) -> bool:
        return bool(self[label])


def _check_names(names, batch_size: int) -> List[str]:
    if isinstance(names, str) or not isinstance(names, collections.abc.Iterable):
        raise TypeError(f"names: expected a list of strings, got {reprlib.repr(names)}")
    labels = list(names)
    for i, label in enumerate(labels):
        if not isinstance(label, str):
            raise TypeError(f"names: expected strings, got {reprlib.repr(label)} at names[{i}]")
    if len(labels) != batch_size:
        raise ValueError(f"names: {len(labels)} names for {batch_size} utterances")
    return labels


def _check_lengths(lengths, batch_size: int, max_frames: int) -> List[int]:
    if lengths is None:
        return [max_frames] * batch_size
    values = np.asarray(lengths)
    if values.shape != (batch_size,) or not np.issubdtype(values.dtype, np.integer):
        raise ValueError(f"lengths: expected {batch_size} integers, got {values.dtype} {values.shape}")
    if values.min(initial=1) < 1 or values.max(initial=0) > max_frames:
        raise ValueError(f"lengths: each must be in [1, {max_frames}], got {values.tolist()}")
    return [int(v) for v in values]
