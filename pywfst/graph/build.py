"""The graph compiler: tokens + lexicon (+ ARPA LM) -> a decoding-graph directory.

Pipeline (Mohri, Pereira, Riley 2002; Kaldi's mkgraph.sh and icefall's compile_hlg): L with
disambiguation symbols is composed with G, determinized and minimized (labels and weights
encoded, so no weight pushing changes the search's partial costs), then the token topology T is
composed on the left and the disambiguation symbols become epsilons. The directory appears only
when everything succeeded: it is built under a temporary name and renamed at the end.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
import re
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from ..errors import InputFileError
from .graph_dir import (FORMAT_VERSION, GRAPH_FILE, MAPPED_FILE, PRONUNCIATIONS_FILE, Graph,
                        write_native_graph)
from .compose import compile_lg, compose_topology
from .injection import (CLASS_EXIT_SYMBOL, ExtraVocabulary, WordClass, add_word_classes,
                        extend_lexicon)
from .grammar import (OOV_MODES, ArpaSummary, GrammarCompilation, read_arpa_summary, word_loop,
                      write_arpa_with_unk)
from .lexicon import (Lexicon, Pronunciation, bpe_lexicon, compile_lexicon, read_lexicon,
                      spell_word, spelling_lexicon, write_pronunciations)
from .progress import StageLog, peak_rss_mb, release_freed_memory
from .symbols import TokenSet, make_word_table, read_tokens
from .textfile import as_path
from .topology import TOPOLOGIES, check_hmm_states, make_topology

PathLike = Union[str, Path]
CLASS_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
TOPOLOGY_FILE = "topology.fst"  # the bare T, which run-time class sub-graphs are composed with


def class_slot_word(name: str) -> str:
    """The word G reads where class slot ``name`` is (never output)."""
    return f"${name}"


@dataclass
class BuildOptions:
    topology: str = "ctc"
    hmm_states: int = 3
    oov: str = "drop"  # LM words without a pronunciation: drop, unk (map to unk_word), spell
    unk_word: str = "<unk>"
    word_boundary: Optional[str] = None  # token such as "|" between words
    # Mandatory: it ends every word, but the utterance's last word may leave it out (models often
    # do); optional: it may stand between words. None: mandatory where the graph spells the LM's
    # words itself (spell=True; measured better on the reference AM, README "Why the defaults"),
    # optional where a lexicon file or BPE model spells them (with or without the boundary).
    boundary_mandatory: Optional[bool] = None
    keep_intermediate: bool = False  # also write T.fst and LG.fst
    extra_weight: float = 0.05  # share of the unigram mass that extra_lexicons' terms take
    class_slots: Tuple[str, ...] = ()  # names of run-time classes (Decoder.set_class)
    class_weight: float = 0.05  # share of the unigram mass each class slot takes
    # Seconds per emission frame of the acoustic model the graph is for; recorded in graph.json,
    # where Decoder finds it for word times when it is not given one.
    frame_shift: Optional[float] = None

    @property
    def states_per_token(self) -> int:
        """Emission columns per token: ``hmm_states`` for the hmm topology, else 1."""
        return self.hmm_states if self.topology == "hmm" else 1

    @property
    def slots_have_end_variants(self) -> bool:
        """Class slots' entries end with the mandatory boundary inside their sub-graphs, so each
        slot has a variant that ends the utterance without it (``compile_lexicon``)."""
        return (bool(self.class_slots) and self.word_boundary is not None
                and self.boundary_mandatory is True)

    def check(self) -> None:
        for name, (types, expected) in _OPTION_TYPES.items():
            check_type(name, getattr(self, name), types, expected)
        for name in self.class_slots:
            check_type("class_slots", name, (str,), "names (strings)")
        if self.topology not in TOPOLOGIES:
            raise ValueError(f"topology: {self.topology!r} is not one of {', '.join(TOPOLOGIES)}")
        if self.oov not in OOV_MODES:
            raise ValueError(f"oov: {self.oov!r} is not one of {', '.join(OOV_MODES)}")
        check_hmm_states(self.hmm_states)
        if not 0.0 < self.extra_weight < 1.0:
            raise ValueError(f"extra_weight: must be in (0, 1), got {self.extra_weight}")
        if not 0.0 < self.class_weight < 1.0:
            raise ValueError(f"class_weight: must be in (0, 1), got {self.class_weight}")
        if self.frame_shift is not None and not (0 < self.frame_shift < math.inf):
            raise ValueError(f"frame_shift: must be a finite number of seconds > 0, "
                             f"got {self.frame_shift}")
        for name in self.class_slots:
            if not CLASS_NAME.fullmatch(name):
                raise ValueError(f"class_slots: {name!r} is not a valid name (letters, digits, "
                                 "'_', starting with a letter)")
        if len(set(self.class_slots)) != len(self.class_slots):
            raise ValueError(f"class_slots: names repeat in {list(self.class_slots)}")
        from .. import _core

        # With a mandatory word boundary each slot also has an end-of-utterance variant.
        most = _core.MAX_CLASSES // (2 if self.slots_have_end_variants else 1)
        if len(self.class_slots) > most:
            raise ValueError(f"class_slots: at most {most} here, got {len(self.class_slots)}")


# Each option's types, checked before its value: a None or a string would otherwise reach a
# comparison or a regex and fail with Python's own TypeError, which names no option.
_OPTION_TYPES = {
    "unk_word": ((str,), "a string"),
    "word_boundary": ((str, type(None)), "a token (string) or None"),
    "boundary_mandatory": ((bool, type(None)), "True, False or None"),
    "keep_intermediate": ((bool,), "True or False"),
    "extra_weight": ((numbers.Real,), "a number"),
    "class_slots": ((tuple, list), "a list of names (not a string)"),
    "class_weight": ((numbers.Real,), "a number"),
    "frame_shift": ((numbers.Real, type(None)), "a number of seconds or None"),
}


def check_type(name: str, value, types: tuple, expected: str) -> None:
    """A TypeError naming the argument unless ``value`` is one of ``types`` (a bool is a number
    only where ``types`` names bool)."""
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        raise TypeError(f"{name}: expected {expected}, got {value!r}")


def file_sha256(path: PathLike) -> str:
    """SHA-256 of a file, as graph.json records each input."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def native_fst(path: PathLike):
    """An FST file read by the decoder's own loader (which also proves the decoder can load it)."""
    from .. import _core

    return _core.CsrGraph.load(str(path))


def fst_counts(graph) -> Dict[str, int]:
    """States and arcs of a native graph, as graph.json records them."""
    return {"states": graph.num_states, "arcs": graph.num_arcs}


def _boundary_id(tokens: TokenSet, options: BuildOptions) -> Optional[int]:
    if options.word_boundary is None:
        return None
    sym_id = tokens.table.to_id.get(options.word_boundary)
    if sym_id is None or sym_id == tokens.blank_id:
        raise ValueError(f"word_boundary: {options.word_boundary!r} is not a token of {tokens.path}")
    return sym_id


def _no_words(lexicon_source, lm_path: Optional[Path]) -> ValueError:
    """The error for a decoding graph in which no word can be decoded."""
    if lm_path is None:
        return ValueError(f"the decoding graph is empty: no path reaches a final state "
                          f"(lexicon {lexicon_source})")
    return ValueError(f"the decoding graph is empty: no word of the lexicon ({lexicon_source}) is "
                      f"in the LM ({lm_path})")


def _lexicon_from_inputs(tokens: TokenSet, lexicon: Optional[PathLike], spell: bool,
                         bpe_model: Optional[PathLike], arpa: Optional[ArpaSummary],
                         options: BuildOptions) -> tuple:
    """The lexicon and the LM words it could not cover (before OOV handling)."""
    modes = [m for m, on in (("lexicon", lexicon), ("spell", spell), ("bpe_model", bpe_model)) if on]
    if len(modes) != 1:
        raise ValueError("give exactly one of lexicon=, spell=True, bpe_model= "
                         f"(got {', '.join(modes) or 'none'})")
    if lexicon is not None:
        return read_lexicon(lexicon, tokens), []
    if arpa is None:
        raise ValueError("spelling and BPE lexicons are derived from the LM's words: give lm=")
    words = sorted(arpa.vocabulary)
    if spell:
        boundary = None
        if options.word_boundary is not None and options.boundary_mandatory:
            boundary = _boundary_id(tokens, options)
        return spelling_lexicon(words, tokens, boundary)
    return bpe_lexicon(words, tokens, bpe_model)


def _resolve_oovs(lexicon: Lexicon, oov_words: List[str], tokens: TokenSet,
                  options: BuildOptions) -> List[str]:
    """Applies the OOV policy; returns the LM words that remain without a pronunciation."""
    if options.oov == "spell":
        remaining = []
        for word in oov_words:
            ids = spell_word(word, tokens)
            if ids is None:
                remaining.append(word)
            else:
                lexicon.entries.append(Pronunciation(word, ids))
        return remaining
    if options.oov == "unk" and oov_words and options.unk_word not in lexicon.words():
        raise ValueError(f"oov='unk' maps {len(oov_words)} LM words to {options.unk_word!r}, "
                         f"but the lexicon ({lexicon.source}) has no entry for it")
    return oov_words


def build_graph(tokens: PathLike, out_dir: PathLike, lexicon: Optional[PathLike] = None,
                lm: Optional[PathLike] = None, spell: bool = False,
                bpe_model: Optional[PathLike] = None, options: Optional[BuildOptions] = None,
                force: bool = False, progress: bool = True,
                extra_lexicons: Sequence[PathLike] = (), **option_overrides) -> Graph:
    """Compiles a decoding graph into ``out_dir`` and returns it loaded.

    Exactly one lexicon source: ``lexicon`` (Kaldi lexicon.txt / lexiconp.txt), ``spell=True``
    (spell the LM's words with char tokens) or ``bpe_model`` (a sentencepiece model).
    ``lm`` is an ARPA file (plain or .gz); without it G is a word loop. ``extra_lexicons`` are
    jargon lexicons (lexicons/README.md) whose terms join L and, as a word class taking
    ``extra_weight`` of the unigram mass, G (see :mod:`pywfst.graph.injection`). Options may be given as a
    BuildOptions or as keywords (``topology="ctc-compact"``, ``oov="unk"``, ...).
    """
    options = options or BuildOptions()
    check_type("options", options, (BuildOptions,), "a BuildOptions")
    for key in option_overrides:
        if not hasattr(options, key):
            raise TypeError(f"build_graph() got an unknown option {key!r}")
    options = dataclasses.replace(options, **option_overrides)  # the caller's object stays as is
    if isinstance(options.class_slots, list):
        options.class_slots = tuple(options.class_slots)
    if options.boundary_mandatory is None:
        options.boundary_mandatory = spell is True
    options.check()
    for name, flag in (("spell", spell), ("force", force), ("progress", progress)):
        check_type(name, flag, (bool,), "True or False")
    tokens, out_dir = as_path(tokens, "tokens"), as_path(out_dir, "out_dir")
    lexicon, lm, bpe_model = (None if path is None else as_path(path, name) for name, path in
                              (("lexicon", lexicon), ("lm", lm), ("bpe_model", bpe_model)))
    check_type("extra_lexicons", extra_lexicons, (list, tuple), "a list of paths (not a string)")
    extra_paths = [as_path(path, f"extra_lexicons[{i}]") for i, path in enumerate(extra_lexicons)]
    if out_dir.exists() and not force:
        raise FileExistsError(f"{out_dir}: already exists (use force=True / --force to replace it)")
    partial = out_dir.with_name(f".{out_dir.name}.partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    try:
        info = _build_into(partial, tokens, lexicon, lm, spell, bpe_model, options, progress,
                           extra_paths)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    # Replace an old graph only once the new one is complete, and never leave neither.
    replaced = out_dir.with_name(f".{out_dir.name}.replaced")
    if out_dir.exists():
        shutil.rmtree(replaced, ignore_errors=True)
        out_dir.rename(replaced)
    partial.rename(out_dir)
    shutil.rmtree(replaced, ignore_errors=True)
    if progress:
        print(summary_text(info, out_dir), file=sys.stderr)
    return Graph.load(out_dir)


def _build_into(out: Path, tokens_path: Path, lexicon_path, lm_path, spell, bpe_model,
                options: BuildOptions, progress: bool, extra_paths: List[Path]) -> dict:
    started = time.perf_counter()
    log = StageLog(num_stages=9 if lm_path is not None else 8, enabled=progress)
    try:
        with log.stage("read tokens"):
            tokens = read_tokens(tokens_path, require_blank=options.topology.startswith("ctc"),
                                 states_per_token=options.states_per_token)
            boundary_id = _boundary_id(tokens, options)
        arpa = None
        if lm_path is not None:
            with log.stage("validate ARPA"):
                arpa = read_arpa_summary(lm_path)
        with log.stage("lexicon"):
            lexicon, unspelled = _lexicon_from_inputs(tokens, lexicon_path, spell, bpe_model, arpa,
                                                      options)
            oov_words = sorted(arpa.vocabulary - set(lexicon.words())) if arpa else []
            remaining = _resolve_oovs(lexicon, oov_words, tokens, options)
            extra = ExtraVocabulary.read(extra_paths) if extra_paths else None
            extra_words = []
            if extra is not None:
                mode = "lexicon" if lexicon_path else ("spell" if spell else "bpe")
                mandatory = boundary_id if options.boundary_mandatory else None
                extra_words = extend_lexicon(lexicon, extra, mode, tokens, mandatory, bpe_model)
            if not lexicon.entries:
                raise InputFileError(lexicon.source, None, "no usable lexicon entries")
            lexicon_words = lexicon.words()
        has_classes = extra is not None or bool(options.class_slots)
        word_disambig = ("#0", CLASS_EXIT_SYMBOL) if has_classes else ("#0",)
        slot_words = [class_slot_word(name) for name in options.class_slots]
        clash = set(slot_words) & set(lexicon_words)
        if clash:
            raise ValueError(f"class_slots: the lexicon already has the word {sorted(clash)[0]!r}")
        words = make_word_table(lexicon_words + slot_words, word_disambig)
        words.write(out / "words.txt")
        tokens.table.write(out / "tokens.txt")
        write_pronunciations(lexicon, tokens, out / PRONUNCIATIONS_FILE)
        lm_counts = None
        arpa_for_g = lm_path
        if arpa is not None and options.oov == "unk" and remaining:
            arpa_for_g = out / "lm_unk.arpa"
            lm_counts = write_arpa_with_unk(arpa, set(remaining), options.unk_word, arpa_for_g)
        # kaldilm holds the GIL, so G compiles in a child process while L is built here.
        with GrammarCompilation(arpa_for_g, out / "words.txt", out / "G.fst") as grammar_job:
            with log.stage("L (lexicon fst)"):
                optional = boundary_id if not options.boundary_mandatory else None
                final = boundary_id if options.boundary_mandatory else None
                lexicon_fst = compile_lexicon(lexicon, words.to_id, tokens.num_columns,
                                              [words[s] for s in word_disambig], optional,
                                              [words[w] for w in slot_words], final)
                lexicon_fst.fst.arcsort("olabel")
                lexicon_fst.fst.write(str(out / "L_disambig.fst"))
            with log.stage("G (grammar fst)"):
                if arpa is None:
                    word_loop([words[w] for w in lexicon_words]).write(str(out / "G.fst"))
                else:
                    grammar_job.wait()
                word_classes = [WordClass([(w,)], options.class_weight, output=False)
                                for w in slot_words]
                if extra is not None:
                    word_classes.insert(0, WordClass(extra.terms, options.extra_weight))
                if word_classes:
                    class_infos = add_word_classes(out / "G.fst", word_classes, words.to_id,
                                                   words["#0"], words[CLASS_EXIT_SYMBOL])
        if arpa_for_g != lm_path:
            Path(arpa_for_g).unlink()
        # L, G and the word table are in their files now. What graph.json needs of them is kept,
        # the rest freed: LG's peak then comes on top of less.
        disambig_labels, class_labels = lexicon_fst.disambig_labels, lexicon_fst.class_labels
        counts = {"num_words": len(lexicon_words), "num_pronunciations": len(lexicon.entries),
                  "disambig_token_ids": disambig_labels,
                  "disambig_word_ids": [words[s] for s in word_disambig]}
        no_words = _no_words(lexicon.source, lm_path)
        del lexicon_fst, lexicon, lexicon_words, words
        release_freed_memory()
        with log.stage("LG = min(det(L o G))"):
            compile_lg(out / "L_disambig.fst", out / "G.fst", out / "LG.fst")
            release_freed_memory()
        with log.stage("T (topology)"):
            topology_args = (options.topology, [i for _, i in tokens.real_tokens()],
                             tokens.blank_id, tokens.num_columns)
            topo = make_topology(*topology_args, disambig_labels, options.hmm_states,
                                 class_labels)
            topo.fst.write(str(out / "T.fst"))
            if options.class_slots:
                make_topology(*topology_args, [], options.hmm_states).fst.write(
                    str(out / TOPOLOGY_FILE))
        with log.stage("HCLG = T o LG"):
            native = compose_topology(out / "T.fst", out / "LG.fst")
            if not options.keep_intermediate:
                (out / "T.fst").unlink()
                (out / "LG.fst").unlink()
        with log.stage("write HCLG.fst, HCLG.csr"):
            write_native_graph(native, out / GRAPH_FILE, out / MAPPED_FILE)
            hclg_counts = fst_counts(native)
        # Only <s> </s> left (no arc outputs a word): every utterance would decode to nothing.
        if not (native.output_labels().size or options.class_slots):
            raise no_words
        del native
    finally:
        log.close()
    inputs = {"tokens": tokens_path, "lexicon": lexicon_path, "lm": lm_path, "bpe_model": bpe_model}
    inputs.update({f"extra_lexicon_{i}": path for i, path in enumerate(extra_paths)})
    info = {
        "format_version": FORMAT_VERSION,
        "options": asdict(options),
        "lexicon_mode": "lexicon" if lexicon_path else ("spell" if spell else "bpe"),
        "word_boundary": None if boundary_id is None else {
            "token": options.word_boundary, "token_id": boundary_id,
            "optional": not options.boundary_mandatory},
        "inputs": {k: {"path": str(v), "sha256": file_sha256(v)} for k, v in inputs.items() if v},
        "emission_columns": topo.num_columns,
        "frame_shift": None if options.frame_shift is None else float(options.frame_shift),
        "blank_id": tokens.blank_id,
        "num_tokens": len(tokens.real_tokens()),
        **counts,
        "lm": None if arpa is None else {
            "order": arpa.order, "ngram_counts": arpa.counts,
            "ngram_counts_used": lm_counts or arpa.counts,
            "vocabulary": len(arpa.vocabulary),
            "oov_words": len(oov_words),
            "oov_policy": options.oov,
            "oov_words_without_pronunciation": len(remaining),
            "oov_examples": remaining[:20],
        },
        "unspellable_lm_words": len(unspelled),
        "extra_vocabulary": None if extra is None else {
            "terms": len(extra.terms), "new_words": len(extra_words),
            "new_word_examples": extra_words[:20], **class_infos[0]},
        "class_slots": None if not options.class_slots else {
            "topology": TOPOLOGY_FILE, "word_states": topo.word_states,
            "slots": [{"name": name, "word": word, "share": options.class_weight}
                      for name, word in zip(options.class_slots, slot_words)],
            "end_variants": options.slots_have_end_variants},
        "fst_counts": {
            "L_disambig": fst_counts(native_fst(out / "L_disambig.fst")),
            "HCLG": hclg_counts,
        },
        "build": {"stages": log.records, "total_seconds": round(time.perf_counter() - started, 3),
                  "peak_rss_mb": round(peak_rss_mb(), 1)},
    }
    with open(out / "graph.json", "w", encoding="utf-8") as handle:
        json.dump(info, handle, indent=2)
        handle.write("\n")
    return info


def summary_text(info: dict, path: PathLike) -> str:
    """A few human-readable lines about a graph directory (build summary and `pywfst info`)."""
    hclg = info["fst_counts"]["HCLG"]
    lines = [
        f"graph {path}",
        f"  topology {info['options']['topology']}, lexicon mode {info['lexicon_mode']}, "
        f"{info['num_words']} words, {info['num_pronunciations']} pronunciations, "
        f"{info['num_tokens']} tokens, emission columns {info['emission_columns']}",
        f"  HCLG.fst: {hclg['states']} states, {hclg['arcs']} arcs",
    ]
    if info.get("word_boundary"):
        wb = info["word_boundary"]
        lines.append(f"  word boundary {wb['token']!r} ({'optional' if wb['optional'] else 'mandatory'})")
    if info.get("frame_shift"):
        lines.append(f"  frame shift {info['frame_shift'] * 1000:g} ms (for word times)")
    lm = info.get("lm")
    if lm:
        counts = ", ".join(f"{n}-grams {c}" for n, c in lm["ngram_counts"].items())
        lines.append(f"  LM order {lm['order']} ({counts}); {lm['oov_words']} LM words without "
                     f"pronunciation, policy '{lm['oov_policy']}', "
                     f"{lm['oov_words_without_pronunciation']} left out")
    else:
        lines.append("  no LM: word loop")
    slots = info.get("class_slots")
    if slots:
        names = ", ".join(slot["name"] for slot in slots["slots"])
        lines.append(f"  class slots: {names} ({slots['slots'][0]['share']:.3g} of the unigram "
                     "mass each)")
    extra = info.get("extra_vocabulary")
    if extra:
        lines.append(f"  extra vocabulary: {extra['terms']} terms ({extra['new_words']} new words), "
                     f"{extra['share']:.3g} of the unigram mass")
    build = info["build"]
    lines.append(f"  built in {build['total_seconds']:.2f} s, peak RSS {build['peak_rss_mb']:.0f} MiB")
    return "\n".join(lines)
