"""Bad inputs at every public entry point (issue 10): a data-driven matrix.

Each row of CASES is (id, code, expected exception, regex on its message). DESIGN.md's standard:
bad input never crashes, hangs or gives a silent wrong answer; it raises a Python exception that
names the file (and line) or the argument. A py row passes when its snippet raises one of the
expected exception types (matched against the exception's MRO, so ValueError accepts
InputFileError) with a message matching the regex, or, for raises=None, finishes without an
exception (such rows assert themselves, e.g. that a strided array decodes exactly like the
contiguous one: same words, cost and alignment). ok=True also accepts finishing normally. CLI
rows expect an exit status among those given and, on failure, exactly one ``Error:`` line on
stderr matching the regex, and never a Python traceback.

Every case runs in its own process, so a segfault, an abort or a hang fails that case only: a
"zygote" subprocess imports pywfst (and numpy, pywrapfst, click, scipy, torch) once, then forks
one child per case, JOBS at a time, and kills a child that runs longer than CASE_TIMEOUT. Add a
case by adding one line to CASES; the names a snippet can use (P.<file name>, E, V, WORDS, D(),
DC(), G(), build(), same(), sane(), ...) are defined in _prelude(), the files in make_inputs().
Rows that fail because of a known bug are xfail(strict=True) with the bug as the reason, so a fix
turns them into an XPASS failure: then drop the mark.

``pytest tests/test_bad_inputs.py -k ID`` runs (and forks) only the selected cases.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import textwrap
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

import pytest

CASE_TIMEOUT = 60.0  # seconds a case may run before it counts as a hang
JOBS = int(os.environ.get("PYWFST_BAD_INPUT_JOBS", "2"))
HAS_TORCH = importlib.util.find_spec("torch") is not None
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

# ------------------------------------------------------------------------------------------------
# The table
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    code: Union[str, Tuple[str, ...]]  # a Python snippet (kind "py") or CLI arguments
    # py: allowed exception names ("ValueError|TypeError", matched against the exception's MRO),
    #     or None: must finish without an exception. cli: allowed exit statuses.
    raises: Union[str, None, Tuple[int, ...]]
    match: str = ""  # regex searched in the message (py) or in the "Error:" line (cli)
    kind: str = "py"  # py | cli (click in the forked child) | script (the installed `pywfst`)
    ok: bool = False  # py: finishing without an exception is accepted as well
    stdout: str = ""  # cli: regex that stdout must match
    setup: str = ""  # cli: Python run in the child before the command
    marks: tuple = field(default=(), compare=False)


def py(id, code, raises, match="", ok=False, marks=()):
    return Case(id, textwrap.dedent(code).strip(), raises, match, ok=ok, marks=marks)


def cli(id, args, status=(1, 2), match="", stdout="", setup="", kind="cli", marks=()):
    if isinstance(status, int):
        status = (status,)
    return Case(id, tuple(shlex.split(args)), status, match, kind=kind, stdout=stdout,
                setup=textwrap.dedent(setup).strip(), marks=marks)


def xfail(reason):
    return (pytest.mark.xfail(strict=True, reason=reason),)


NEEDS_TORCH = (pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed"),)
NOT_ROOT = (pytest.mark.skipif(IS_ROOT, reason="root reads files whatever their mode"),)
# Python's own message for a wrong path type ("expected str, bytes or os.PathLike object, not
# NoneType"): enough where the path is the only argument (Graph.load, Decoder's graph).
PATHISH = r"os\.PathLike.*(NoneType|int|list|bytes)"

VE, TE, OE = "ValueError", "TypeError", "OSError"
IFE = "InputFileError"
VTE = "ValueError|TypeError"

CASES = []
add = CASES.append

# ---- pywfst.Graph.load and the graph directory --------------------------------------------------
for name, expr, exc, match in [
    ("missing", "P.missing", "FileNotFoundError", r"does_not_exist.*not a graph directory"),
    ("file", "P.empty", "FileNotFoundError", r"empty\.txt.*it is a file"),
    ("empty_dir", "P.adir", "FileNotFoundError", r"a_directory.*no HCLG\.fst"),
    ("none", "None", TE, PATHISH),
    ("int", "123", TE, PATHISH),
    ("list", "[P.graph]", TE, PATHISH),
    ("bytes", "P.graph.encode()", TE, PATHISH),
    ("under_a_file", "P.empty + '/g'", OE, r"empty\.txt"),
]:
    add(py(f"load_{name}", f"pywfst.Graph.load({expr})", exc, match))

# The decoding graph itself: loaded lazily, so every case goes through Decoder (and decodes).
for name, exc, match, ok in [
    ("hclg_dir", IFE, r"HCLG\.fst: a directory", False),
    ("hclg_fifo", IFE, r"HCLG\.fst: not a regular file", False),
    ("hclg_devzero", IFE, r"HCLG\.fst: not a regular file", False),
    ("hclg_loop", OE, r"HCLG\.fst", False),
    ("hclg_empty", VE, r"HCLG\.fst", False),
    ("hclg_garbage", VE, r"HCLG\.fst: not an OpenFst", False),
    ("hclg_trunc_header", VE, r"HCLG\.fst: (truncated|corrupt|impossible)", False),
    ("hclg_trunc_half", VE, r"HCLG\.fst: (truncated|corrupt|impossible)", False),
    ("hclg_trunc_last_byte", VE, r"HCLG\.fst: (truncated|corrupt|impossible)", False),
    ("hclg_magic", VE, r"HCLG\.fst: not an OpenFst", False),
    ("hclg_type_length", VE, r"HCLG\.fst: corrupt", False),
    ("hclg_arc_type", VE, r"HCLG\.fst: unsupported arc type", False),
    ("hclg_version", VE, r"HCLG\.fst: unsupported vector FST version", True),  # as OpenFst
    ("hclg_symbols_flag", VE, r"HCLG\.fst", False),
    ("hclg_states_huge", VE, r"HCLG\.fst: impossible number of states", False),
    ("hclg_states_negative", VE, r"HCLG\.fst", False),
    ("hclg_start_oob", VE, r"HCLG\.fst.*start state", False),
    ("hclg_start_negative", VE, r"HCLG\.fst.*start state", False),
    ("hclg_start_none", VE, r"HCLG\.fst", True),  # -1: an empty FST (nothing to decode)
    ("hclg_narcs_huge", VE, r"HCLG\.fst", False),
    ("hclg_narcs_negative", VE, r"HCLG\.fst", False),
    ("hclg_nextstate_oob", VE, r"HCLG\.fst.*state", False),
    ("hclg_nextstate_negative", VE, r"HCLG\.fst.*state", False),
    ("hclg_ilabel_nonterminal", VE, r"HCLG\.fst", True),  # a return arc: never taken
    ("hclg_enter_slot_0", VE, r"HCLG\.fst", True),  # a class slot the graph.json lacks
    ("hclg_ilabel_negative", VE, r"HCLG\.fst", False),
    ("hclg_ilabel_beyond_columns", VE, r"HCLG\.fst|column", False),
    ("hclg_olabel_negative", VE, r"HCLG\.fst|words\.txt", False),
    ("hclg_olabel_huge", IFE, r"words\.txt.*has no word with id 2147483647", False),
    ("hclg_weight_nan", VE, r"HCLG\.fst.*(?i:nan)", False),
    ("hclg_weight_minus_inf", VE, r"HCLG\.fst", False),
    ("hclg_final_nan", VE, r"HCLG\.fst.*(?i:nan)", False),
    ("hclg_trailing_bytes", VE, r"HCLG\.fst: unexpected data", False),
    ("const_trunc_half", VE, r"HCLG\.fst: (truncated|corrupt|impossible)", False),
    ("const_arc_pos_oob", VE, r"HCLG\.fst: state 0 has arcs", False),
    ("const_narcs_huge", VE, r"HCLG\.fst", False),
]:
    add(py(name, "sane(D(P." + name + ").decode(E))", exc, match, ok=ok))
for name in ["gc_enter_slot_5", "gc_enter_slot_150"]:  # slots beyond the graph's one (and 100)
    add(py(name, f"d = DC(P.{name}); d.set_class('TERM', ['cat']); sane(d.decode(E))", VE,
           r"HCLG\.fst", ok=True))
# +inf is OpenFst's "zero" weight (an arc never taken): valid.
add(py("hclg_weight_plus_inf", "sane(D(P.hclg_weight_plus_inf).decode(E))", None))
add(py("const_good_decodes", "same(D(P.const_good).decode(E))", None))
for index in range(24):  # single-byte changes anywhere in HCLG.fst: decode or a named error
    add(py(f"hclg_flip_{index:02d}", f"sane(D(P.hclg_flip_{index:02d}).decode(E))", VE,
           r"HCLG\.fst|words\.txt", ok=True))

for name, exc, match in [
    ("words_missing", OE, r"words\.txt"),
    ("words_dir", OE, r"words\.txt"),
    ("words_empty", IFE, r"words\.txt: symbol table is empty"),
    ("words_garbage", IFE, r"words\.txt:\d+"),
    ("words_latin1", IFE, r"words\.txt:3: not UTF-8"),
    ("words_duplicate_id", IFE, r"words\.txt:4: duplicate id"),
    ("words_duplicate_word", IFE, r"words\.txt:4: duplicate symbol"),
    ("words_negative_id", IFE, r"words\.txt:4: negative id"),
    ("words_id_not_int", IFE, r"words\.txt:4: id '1\.5'"),
    ("words_three_fields", IFE, r"words\.txt:4: expected 'symbol id'"),
    ("words_other_graph", IFE, r"words\.txt.*do not belong together"),
    ("tokens_garbage_in_dir", IFE, r"tokens\.txt:\d+"),
    ("json_garbage", IFE, r"graph\.json"),
    ("json_invalid", IFE, r"graph\.json:2: invalid JSON"),
    ("json_list", IFE, r"graph\.json:1: expected a JSON object"),
    ("json_version", IFE, r"graph\.json: format_version 99"),
    ("json_columns_negative", IFE, r"graph\.json: emission_columns"),
    ("json_columns_string", IFE, r"graph\.json: emission_columns"),
    ("json_frame_shift_nan", IFE, r"graph\.json: frame_shift"),
    ("json_frame_shift_zero", IFE, r"graph\.json: frame_shift"),
    ("json_blank_negative", IFE, r"graph\.json: blank_id"),
    ("json_options_list", IFE, r"graph\.json: options"),
    ("json_hmm_states_zero", IFE, r"graph\.json: options\.hmm_states"),
]:
    add(py(name, f"sane(D(P.{name}).decode(E))", exc, match))
# Large word ids no output label uses: accepted (a foreign graph may have them) or named.
for name in ["words_id_2_24", "words_id_2_31", "words_id_2_32"]:
    add(py(name, f"same(D(P.{name}).decode(E))", IFE, r"words\.txt:\d+: id", ok=True))
add(py("json_word_boundary_string", "D(P.json_word_boundary_string).decode(E).word_times",
       IFE, r"graph\.json.*word_boundary"))
add(py("pronunciations_garbage", "D(P.pronunciations_garbage).decode(E).word_times",
       IFE, r"pronunciations\.txt:\d+"))
add(py("graph_removed_after_load", """
    graph = pywfst.Graph.load(P.scratch_graph_1)
    shutil.rmtree(P.scratch_graph_1)
    D(graph)""", OE, r"HCLG\.fst"))
add(py("graph_replaced_after_load", """
    graph = pywfst.Graph.load(P.scratch_graph_2)
    Path(P.scratch_graph_2, 'HCLG.fst').write_bytes(b'garbage' * 100)
    D(graph)""", VE, r"HCLG\.fst"))
add(py("foreign_graph_too_few_columns", "sane(D(P.foreign).decode(E[:, :3]))", VE,
       r"HCLG\.fst|column"))
add(py("foreign_graph_decodes", "D(P.foreign).decode(E[:, :6])", None))

# ---- pywfst.build_graph -------------------------------------------------------------------------
add(py("build_control_spell", "build()", None))
add(py("build_control_lexicon", "build(lexicon=P.lex_good)", None))
add(py("build_control_lexiconp", "build(lexicon=P.lexp_good)", None))
add(py("build_control_jargon", "build(extra_lexicons=[P.jargon_good])", None))
add(py("build_control_tokens_crlf", "build(tokens=P.tok_crlf)", None))
for name, exc, match in [
    ("missing", OE, r"does_not_exist"),
    ("adir", OE, r"a_directory"),
    ("empty", IFE, r"empty\.txt: symbol table is empty"),
    ("garbage", IFE, r"garbage\.bin:\d+"),
    ("gz_truncated", IFE, r"truncated\.gz"),
    ("gz_latin1_bad_crc", IFE, r"latin1_bad_crc\.gz: not UTF-8 text, and unreadable"),
    ("gz_latin1_bad_size", IFE, r"latin1_bad_size\.gz: not UTF-8 text, and unreadable"),
    ("gz_latin1_cut_member", IFE, r"latin1_cut_member\.gz: not UTF-8 text, and unreadable"),
    ("under_a_file", OE, r"empty\.txt"),
    ("tok_latin1", IFE, r"tok_latin1\.txt:3: not UTF-8"),
    ("tok_three_fields", IFE, r"tok_three_fields\.txt:4: expected 'symbol id'"),
    ("tok_id_word", IFE, r"tok_id_word\.txt:4: id 'x' is not an integer"),
    ("tok_id_float", IFE, r"tok_id_float\.txt:4: id '1\.5' is not an integer"),
    ("tok_id_nan", IFE, r"tok_id_nan\.txt:4: id 'nan' is not an integer"),
    ("tok_id_inf", IFE, r"tok_id_inf\.txt:4: id 'inf' is not an integer"),
    ("tok_duplicate_id", IFE, r"tok_duplicate_id\.txt:4: duplicate id"),
    ("tok_duplicate_symbol", IFE, r"tok_duplicate_symbol\.txt:4: duplicate symbol"),
    ("tok_negative", IFE, r"tok_negative\.txt:4: negative id"),
    ("tok_2_28", IFE, r"tok_2_28\.txt:4: id 268435456 .* too large"),
    ("tok_2_31", IFE, r"tok_2_31\.txt:4: id 2147483647 .* too large"),
    ("tok_2_32", IFE, r"tok_2_32\.txt:4: id 4294967296 .* too large"),
    ("tok_10_30", IFE, r"tok_10_30\.txt:4: id 1000000000000000000000000000000 .* too large"),
    ("tok_no_blank", IFE, r"tok_no_blank\.txt: CTC needs the blank"),
    ("tok_blank_not_zero", IFE, r"tok_blank_not_zero\.txt"),
    ("tok_bom", IFE, r"tok_bom\.txt"),
    ("tok_only_blank", VE, r"tok_only_blank\.txt|no usable|spell"),
]:
    path = f"P.{name}"
    add(py(f"build_tokens_{name}", f"build(tokens={path})", exc, match))

for name, exc, match in [
    ("missing", OE, r"does_not_exist"),
    ("adir", OE, r"a_directory"),
    ("empty", IFE, r"empty\.txt: lexicon is empty"),
    ("garbage", IFE, r"garbage\.bin:\d+"),
    ("lex_latin1", IFE, r"lex_latin1\.txt:2: not UTF-8"),
    ("lex_unknown_token", IFE, r"lex_unknown_token\.txt:2: token 'Q' is not in"),
    ("lex_blank_token", IFE, r"lex_blank_token\.txt:2: token '<blk>' is the blank"),
    ("lex_no_tokens", IFE, r"lex_no_tokens\.txt:2: word 'cat' has no tokens"),
    ("lex_reserved_eps", IFE, r"lex_reserved_eps\.txt:2: word '<eps>' is reserved"),
    ("lex_reserved_disambig", IFE, r"lex_reserved_disambig\.txt:2: word '#0' is reserved"),
    ("lexp_nan", IFE, r"lexp_nan\.txt:2: invalid pronunciation probability 'nan'"),
    ("lexp_inf", IFE, r"lexp_inf\.txt:2: invalid pronunciation probability 'inf'"),
    ("lexp_minus_inf", IFE, r"lexp_minus_inf\.txt:2: invalid pronunciation probability"),
    ("lexp_zero", IFE, r"lexp_zero\.txt:2: invalid pronunciation probability '0'"),
    ("lexp_negative", IFE, r"lexp_negative\.txt:2: invalid pronunciation probability"),
    ("lexp_above_one", IFE, r"lexp_above_one\.txt:2: invalid pronunciation probability"),
    ("lexp_underflow", IFE, r"lexp_underflow\.txt:2: invalid pronunciation probability"),
]:
    add(py(f"build_lexicon_{name}", f"build(lexicon=P.{name})", exc, match))
add(py("build_lexicon_lm_without_ngrams", "build(lexicon=P.lex_good, lm=P.arpa_no_ngrams)", IFE,
       r"arpa_no_ngrams\.arpa"))
add(py("build_lexicon_no_word_in_lm", "build(lexicon=P.lex_no_lm_word)", VE,
       r"lex_no_lm_word\.txt|no word of the lexicon"))

for name, exc, match in [
    ("missing", OE, r"does_not_exist"),
    ("adir", OE, r"a_directory"),
    ("empty", IFE, r"empty\.txt"),
    ("garbage", IFE, r"garbage\.bin:\d+"),
    ("gz_truncated", IFE, r"truncated\.gz"),
    ("arpa_latin1", IFE, r"arpa_latin1\.arpa:9: not UTF-8"),
    ("arpa_no_header", IFE, r"arpa_no_header\.arpa: no \\data\\ section"),
    ("arpa_count_mismatch", IFE, r"arpa_count_mismatch\.arpa"),
    ("arpa_count_negative", IFE, r"arpa_count_negative\.arpa:2"),
    ("arpa_prob_nan", IFE, r"arpa_prob_nan\.arpa:9: log10 probability 'nan'"),
    ("arpa_prob_inf", IFE, r"arpa_prob_inf\.arpa:9: log10 probability 'inf'"),
    ("arpa_prob_positive", IFE, r"arpa_prob_positive\.arpa:9: log10 probability 0\.5 is positive"),
    ("arpa_prob_word", IFE, r"arpa_prob_word\.arpa:9: log10 probability 'x' is not a number"),
    ("arpa_prob_underscore", IFE, r"arpa_prob_underscore\.arpa:9: log10 probability '-1_0' is not"),
    ("arpa_backoff_nan", IFE, r"arpa_backoff_nan\.arpa:9: backoff weight 'nan'"),
    ("arpa_backoff_inf", IFE, r"arpa_backoff_inf\.arpa:9: backoff weight 'inf'"),
    ("arpa_fields", IFE, r"arpa_fields\.arpa:9: a 1-gram line needs"),
    ("arpa_unknown_word", IFE, r"arpa_unknown_word\.arpa:17: word 'dog'"),
    ("arpa_duplicate", IFE, r"arpa_duplicate\.arpa:10: duplicate 1-gram 'cat'"),
    ("arpa_top_backoff", IFE, r"arpa_top_backoff\.arpa:17: a backoff weight on a 2-gram"),
    ("arpa_no_end", IFE, r"arpa_no_end\.arpa"),
    ("arpa_cut_mid_section", IFE, r"arpa_cut_mid_section\.arpa"),
]:
    add(py(f"build_lm_{name}", f"build(lm=P.{name})", exc, match))
add(py("build_lm_arpa_no_ngrams", "build(lm=P.arpa_no_ngrams)", IFE, r"arpa_no_ngrams\.arpa"))
# A log10 probability of -inf (probability 0) or a backoff of -inf: a usable LM, or a named error.
add(py("build_lm_arpa_prob_minus_inf", "build(lm=P.arpa_prob_minus_inf)", IFE,
       r"arpa_prob_minus_inf\.arpa:9: ", ok=True))
add(py("build_lm_arpa_backoff_minus_inf", "build(lm=P.arpa_backoff_minus_inf)", IFE,
       r"arpa_backoff_minus_inf\.arpa:9: ", ok=True))

for name, exc, match in [
    ("missing", OE, r"does_not_exist"),
    ("adir", OE, r"a_directory"),
    ("empty", IFE, r"empty\.txt: jargon lexicon has no entries"),
    ("jargon_two_fields", IFE, r"jargon_two_fields\.txt:3: expected 3 tab-separated fields"),
    ("jargon_unknown_phone", IFE, r"jargon_unknown_phone\.txt:3: unknown phone 'QQ1'"),
    ("jargon_duplicate", IFE, r"jargon_duplicate\.txt:4: duplicate entry 'cat scan'"),
    ("jargon_upper", IFE, r"jargon_upper\.txt:3: term 'Cat scan'"),
    ("jargon_source", IFE, r"jargon_source\.txt:3: unknown source 'wikipedia'"),
    ("jargon_word_count", IFE, r"jargon_word_count\.txt:3: term 'cat scan' has 2 word"),
]:
    add(py(f"build_jargon_{name}", f"build(extra_lexicons=[P.{name}])", exc, match))
add(py("build_jargon_latin1", "build(extra_lexicons=[P.jargon_latin1])", IFE,
       r"jargon_latin1\.txt:3: not UTF-8"))
add(py("build_jargon_garbage", "build(extra_lexicons=[P.garbage])", IFE, r"garbage\.bin:\d+"))
add(py("build_jargon_string_not_list", "build(extra_lexicons=P.jargon_good)", TE,
       r"extra_lexicons"))

for name, kwargs, exc, match in [
    ("topology", "topology='bogus'", VE, r"topology: 'bogus'"),
    ("oov", "oov='bogus'", VE, r"oov: 'bogus'"),
    ("hmm_states_zero", "topology='hmm', hmm_states=0", VE, r"hmm_states"),
    ("hmm_states_nan", "topology='hmm', hmm_states=float('nan')", VE, r"hmm_states"),
    ("hmm_states_str", "topology='hmm', hmm_states='3'", VE, r"hmm_states"),
    ("extra_weight_nan", "extra_weight=float('nan')", VE, r"extra_weight"),
    ("extra_weight_inf", "extra_weight=float('inf')", VE, r"extra_weight"),
    ("extra_weight_one", "extra_weight=1.0", VE, r"extra_weight"),
    ("class_weight_nan", "class_slots=['TERM'], class_weight=float('nan')", VE, r"class_weight"),
    ("class_weight_zero", "class_slots=['TERM'], class_weight=0", VE, r"class_weight"),
    ("frame_shift_nan", "frame_shift=float('nan')", VE, r"frame_shift"),
    ("frame_shift_inf", "frame_shift=float('inf')", VE, r"frame_shift"),
    ("frame_shift_minus_inf", "frame_shift=float('-inf')", VE, r"frame_shift"),
    ("frame_shift_zero", "frame_shift=0", VE, r"frame_shift"),
    ("class_slots_string", "class_slots='TERM'", TE, r"class_slots"),
    ("class_slots_bad_name", "class_slots=['1bad']", VE, r"class_slots: '1bad'"),
    ("class_slots_repeated", "class_slots=['A', 'A']", VE, r"class_slots: names repeat"),
    ("class_slots_too_many", "class_slots=[f'S{i}' for i in range(100000)]", VE,
     r"class_slots: at most"),
    # With a mandatory boundary each slot has an end-of-utterance variant: half as many slots.
    ("class_slots_too_many_with_variants", "class_slots=[f'S{i}' for i in range(51)], "
     "word_boundary='|', boundary_mandatory=True", VE, r"class_slots: at most 50 here, got 51"),
    ("word_boundary_unknown", "word_boundary='@'", VE, r"word_boundary: '@' is not a token"),
    ("word_boundary_blank", "word_boundary='<blk>'", VE, r"word_boundary: '<blk>'"),
    ("unknown_option", "beam=3", TE, r"unknown option 'beam'"),
    ("lexicon_and_spell", "lexicon=P.lex_good, spell=True", VE, r"exactly one of"),
    ("no_lexicon_source", "spell=False", VE, r"exactly one of"),
    ("spell_without_lm", "lm=None", VE, r"give lm="),
    ("bpe_garbage", "spell=False, bpe_model=P.garbage", "ValueError|OSError", r"garbage\.bin"),
    ("bpe_missing", "spell=False, bpe_model=P.missing", "ValueError|OSError", r"does_not_exist"),
]:
    add(py(f"build_option_{name}", f"build({kwargs})", exc, match))
for name, kwargs, match in [
    ("extra_weight_none", "extra_weight=None", r"extra_weight"),
    ("extra_weight_str", "extra_weight='0.1'", r"extra_weight"),
    ("frame_shift_str", "frame_shift='0.03'", r"frame_shift"),
    ("class_slots_none_name", "class_slots=[None]", r"class_slots"),
]:
    add(py(f"build_option_{name}", f"build({kwargs})", VTE, match))
add(py("build_arg_tokens_none", "pywfst.build_graph(None, 'out', spell=True, lm=P.arpa_good)", TE,
       r"tokens"))
add(py("build_arg_out_dir_none", "pywfst.build_graph(P.tokens, None, spell=True, lm=P.arpa_good)",
       TE, r"out_dir"))
for name, kwargs, exc, match in [
    ("out_dir_exists", "out_dir=P.adir", "FileExistsError", r"a_directory: already exists"),
    ("out_dir_under_a_file", "out_dir=P.empty + '/g'", OE, r"empty\.txt"),
]:
    add(py(f"build_arg_{name}", f"build({kwargs})", exc, match))
add(py("build_arg_lexicon_int", "build(lexicon=123)", TE, r"lexicon"))

# ---- pywfst.Decoder(...) options ----------------------------------------------------------------
add(py("decoder_control", "assert D().decode(E).words == WORDS", None))
add(py("decoder_numpy_scalars", """
    same(D(beam=np.float32(16), max_active=np.int64(7000), min_active=np.int32(200),
           acoustic_scale=np.float64(1.0), nbest=np.int8(1)).decode(E))""", None))
for name, kwargs, exc, match in [
    ("graph_none", "graph=None", TE, PATHISH),
    ("graph_missing", "graph=P.missing", "FileNotFoundError", r"does_not_exist"),
    ("graph_int", "graph=7", TE, PATHISH),
]:
    add(py(f"decoder_{name}", f"pywfst.Decoder({kwargs.split('=', 1)[1]})", exc, match))

FLOAT_OPTIONS = ["beam", "beam_delta", "acoustic_scale", "frame_shift", "lattice_beam"]
INT_OPTIONS = ["max_active", "min_active", "num_threads", "nbest", "boost_nodes_per_state"]
BAD_NUMBERS = {"nan": "float('nan')", "inf": "float('inf')", "minus_inf": "float('-inf')",
               "negative": "-1"}
BAD_TYPES = {"none": "None", "str": "'abc'", "list": "[1]", "dict": "{}", "complex": "1j"}
for option in FLOAT_OPTIONS + INT_OPTIONS:
    values = dict(BAD_NUMBERS)
    if option in INT_OPTIONS:
        values.update({"2_31": "2**31", "2_32": "2**32", "2_63": "2**63"})
    if option != "min_active" and option != "beam_delta":  # 0 is a valid min_active/beam_delta
        values["zero"] = "0"
    if option == "num_threads":
        del values["zero"]  # 0: all cores
    for label, value in values.items():
        ok = option == "lattice_beam" and label == "inf"  # no limit on n-best alternatives
        add(py(f"decoder_{option}_{label}", f"D({option}={value})", VE, option, ok=ok))
    for label, value in BAD_TYPES.items():
        if option == "frame_shift" and label == "none":
            continue  # None: the graph's frame shift
        add(py(f"decoder_{option}_{label}", f"D({option}={value})", VTE, option))
add(py("decoder_acoustic_scale_float32_overflow", "D(acoustic_scale=1e39).decode(E)", VE,
       "acoustic_scale"))
add(py("decoder_beam_float32_overflow", "D(beam=1e39)", VE, "beam"))
for option in ["log_softmax", "allow_extra_columns"]:
    add(py(f"decoder_{option}_str", f"D({option}='no')", TE, option))
    add(py(f"decoder_{option}_array", f"D({option}=np.array([True, False]))", VTE, option))
for name, value, exc, match in [
    ("nan", "np.full(V, np.nan)", VE, r"log_priors: must all be finite"),
    ("inf", "np.full(V, np.inf)", VE, r"log_priors: must all be finite"),
    ("minus_inf", "np.full(V, -np.inf)", VE, r"log_priors: must all be finite"),
    ("short", "np.zeros(V - 1)", VE, r"log_priors"),
    ("long", "np.zeros(V + 5)", VE, r"log_priors"),
    ("two_dims", "np.zeros((1, V))", VE, r"log_priors: expected 1 dimensions"),
    ("empty", "np.zeros(0)", VE, r"log_priors"),
    ("int", "np.zeros(V, dtype=np.int64)", TE, r"log_priors: dtype"),
    ("complex", "np.zeros(V, dtype=complex)", TE, r"log_priors: dtype"),
    ("object", "np.array([None] * V)", TE, r"log_priors: dtype"),
    ("str", "'abc'", TE, r"log_priors"),
    ("dict", "{}", TE, r"log_priors"),
]:
    add(py(f"decoder_log_priors_{name}", f"D(log_priors={value}).decode(E)", exc, match))
add(py("decoder_log_priors_list_and_strided", """
    same(D(log_priors=[0.0] * V).decode(E))
    same(D(log_priors=np.zeros(2 * V)[::2]).decode(E))""", None))
add(py("decoder_log_priors_meta_tensor", "D(log_priors=torch.zeros(V, device='meta'))", VE,
       r"log_priors.*meta", marks=NEEDS_TORCH))

# ---- Decoder.decode: emissions ------------------------------------------------------------------
for name, value, exc, match in [
    ("none", "None", TE, r"emissions: dtype"),
    ("str", "'abc'", TE, r"emissions: dtype"),
    ("dict", "{}", TE, r"emissions: dtype"),
    ("int", "E.astype(np.int32)", TE, r"emissions: dtype.*int32"),
    ("uint8", "E.astype(np.uint8)", TE, r"emissions: dtype.*uint8"),
    ("bool", "E > -1", TE, r"emissions: dtype.*bool"),
    ("complex", "E.astype(np.complex64)", TE, r"emissions: dtype.*complex"),
    ("object", "E.astype(object)", TE, r"emissions: dtype.*object"),
    ("strings", "E.astype(str)", TE, r"emissions: dtype"),
    ("longdouble", "E.astype(np.longdouble)", TE, r"emissions: dtype"),
    ("scalar", "np.float32(1.0)", VE, r"emissions: expected 2 dimensions"),
    ("one_dim", "E[0]", VE, r"emissions: expected 2 dimensions"),
    ("three_dims", "E[None]", VE, r"emissions: expected 2 dimensions"),
    ("zero_frames", "E[:0]", VE, r"emissions: empty"),
    ("zero_columns", "E[:, :0]", VE, r"emissions: empty"),
    ("too_few_columns", "E[:, :-1]", VE, r"emissions: 28 columns.*29"),
    ("too_many_columns", "np.pad(E, ((0, 0), (0, 3)))", VE, r"emissions: 32 columns.*29"),
    ("nan", "with_value(np.nan)", VE, r"emissions.*(?i:nan)"),
    ("plus_inf", "with_value(np.inf)", VE, r"emissions.*(?i:inf)"),
    ("float64_overflow", "with_value(1e300, dtype=np.float64)", VE, r"emissions"),
    ("nan_with_log_softmax", "with_value(np.nan)", VE, r"emissions.*(?i:nan)"),
]:
    options = "log_softmax=True" if "log_softmax" in name else ""
    add(py(f"decode_{name}", f"D({options}).decode({value})", exc, match))
add(py("decode_ragged_list", "D().decode([[0.0] * V, [0.0]])", VE, r"emissions"))
add(py("decode_no_argument", "D().decode()", TE, r"emissions"))
add(py("decode_unknown_keyword", "D().decode(E, beam=3)", TE, r"beam"))
# -inf is a log-probability of 0: valid. A column no word uses can be -inf without any change.
add(py("decode_minus_inf_unused_column", """
    X = E.copy(); X[:, TOKEN['q']] = -np.inf
    same(D().decode(X))""", None))
add(py("decode_minus_inf_frame", "sane(D().decode(with_row(-np.inf)))", VE, r"emissions",
       ok=True))
add(py("decode_minus_inf_frame_log_softmax", "sane(D(log_softmax=True).decode(with_row(-np.inf)))",
       VE, r"emissions", ok=True))
add(py("decode_plus_inf_logits_log_softmax", "sane(D(log_softmax=True).decode(with_value(np.inf)))",
       VE, r"emissions"))
add(py("decode_huge_scores", "sane(D(acoustic_scale=100).decode(E * 1e37))", VE, r"emissions",
       ok=True))
add(py("decode_nan_in_extra_column", """
    X = np.pad(E, ((0, 0), (0, 2))); X[4, -1] = np.nan
    same(D(allow_extra_columns=True).decode(X))""", VE, r"emissions", ok=True))
add(py("decode_nan_in_padding", """
    X = np.full((2, len(E) + 9, V), np.nan, np.float32); X[0, :len(E)] = E; X[1, :len(E)] = E
    for r in D().decode_batch(X, lengths=[len(E), len(E)]):
        same(r)""", None))
# Layouts that must decode exactly like the C-contiguous array (read in place or converted).
for name, value in [
    ("list", "E.tolist()"),
    ("float64", "E.astype(np.float64)"),
    ("frames_strided", "frames_strided(E)"),
    ("columns_strided", "columns_strided(E)"),
    ("fortran", "np.asfortranarray(E)"),
    ("negative_frame_stride", "E[::-1].copy()[::-1]"),
    ("negative_column_stride", "E[:, ::-1].copy()[:, ::-1]"),
    ("readonly", "readonly(E)"),
    ("big_endian", "E.astype('>f4')"),
    ("memmap", "np.load(P.good_npy, mmap_mode='r')"),
    ("unaligned_1", "unaligned(E, 1)"),
    ("unaligned_2", "unaligned(E, 2)"),
    ("unaligned_3_fortran", "unaligned(E, 3, 'F')"),
    ("record_field", "record_field(E)"),
]:
    add(py(f"decode_layout_{name}", f"same(D().decode({value}))", None))
add(py("decode_layout_zero_frame_stride", """
    row = E[5]
    same(D().decode(np.broadcast_to(row, E.shape)), D().decode(np.tile(row, (len(E), 1))))""",
       None))
add(py("decode_layout_float16", "same(D().decode(E.astype(np.float16)), "
       "D().decode(E.astype(np.float16).astype(np.float32)))", None))
add(py("decode_layout_batch_views", """
    for r in D().decode_batch([frames_strided(E), np.asfortranarray(E), unaligned(E, 1)]):
        same(r)""", None))

# ---- torch tensors ------------------------------------------------------------------------------
for name, code, exc, match in [
    ("float32", "same(D().decode(torch.from_numpy(E)))", None, ""),
    ("requires_grad", "same(D().decode(torch.from_numpy(E.copy()).requires_grad_()))", None, ""),
    ("non_contiguous", "same(D().decode(torch.from_numpy(E).t().contiguous().t()))", None, ""),
    ("strided", "same(D().decode(torch.from_numpy(frames_strided(E))))", None, ""),
    ("float16", "same(D().decode(torch.from_numpy(E).half()), D().decode(E.astype(np.float16)))",
     None, ""),
    ("bfloat16", "t = torch.from_numpy(E).bfloat16()\n"
     "same(D().decode(t), D().decode(t.float().numpy()))", None, ""),
    ("float64", "same(D().decode(torch.from_numpy(E).double()))", None, ""),
    ("padded_batch", "X = torch.from_numpy(np.stack([E, E]))\n"
     "for r in D().decode_batch(X, lengths=torch.tensor([len(E), len(E)])):\n    same(r)",
     None, ""),
    ("meta", "D().decode(torch.zeros(len(E), V, device='meta'))", VE, r"emissions.*meta"),
    ("int", "D().decode(torch.zeros(len(E), V, dtype=torch.int64))", TE, r"emissions: dtype"),
    ("bool", "D().decode(torch.zeros(len(E), V, dtype=torch.bool))", TE, r"emissions: dtype"),
    ("complex", "D().decode(torch.zeros(len(E), V, dtype=torch.complex64))", TE,
     r"emissions: dtype"),
    ("one_dim", "D().decode(torch.zeros(V))", VE, r"emissions: expected 2 dimensions"),
    ("zero_frames", "D().decode(torch.zeros(0, V))", VE, r"emissions: empty"),
    ("nan", "D().decode(torch.from_numpy(with_value(np.nan)))", VE, r"emissions"),
    ("meta_in_batch", "D().decode_batch([E, torch.zeros(3, V, device='meta')])", VE,
     r"emissions\[1\].*meta"),
]:
    add(py(f"torch_{name}", code, exc, match, marks=NEEDS_TORCH))
add(py("torch_sparse", "D().decode(torch.from_numpy(E).to_sparse())", VTE, r"emissions",
       marks=NEEDS_TORCH))

# ---- Decoder.decode_batch ------------------------------------------------------------------------
for name, code, exc, match in [
    ("none", "D().decode_batch(None)", TE, r"emissions: expected a list"),
    ("int", "D().decode_batch(5)", TE, r"emissions: expected a list"),
    ("bad_element", "D().decode_batch([E, E.astype(np.int32)])", TE, r"emissions\[1\]: dtype"),
    ("none_element", "D().decode_batch([E, None])", TE, r"emissions\[1\]"),
    ("generator_bad_element", "D().decode_batch(e for e in [E, E.astype(np.int16)])", TE,
     r"emissions\[1\]: dtype"),
    ("wrong_columns_named", "D().decode_batch([E, E[:, :5]], names=['u1', 'u2'])", VE,
     r"u2: 5 columns"),
    ("empty_element", "D().decode_batch([E, E[:0]])", VE, r"emissions\[1\]: empty"),
    ("names_too_few", "D().decode_batch([E, E], names=['a'])", VE, r"names: 1 names for 2"),
    ("names_too_many", "D().decode_batch([E], names=['a', 'b'])", VE, r"names: 2 names for 1"),
    ("lengths_with_list", "D().decode_batch([E, E], lengths=[3, 3])", VE, r"lengths"),
    ("padded_two_dims", "D().decode_batch(E)", VE, r"emissions: expected 3 dimensions"),
    ("padded_int", "D().decode_batch(np.stack([E, E]).astype(int))", TE, r"emissions: dtype"),
    ("padded_empty_batch", "D().decode_batch(np.zeros((0, 5, V), np.float32))", VE,
     r"emissions: empty"),
    ("padded_zero_frames", "D().decode_batch(np.zeros((2, 0, V), np.float32))", VE, r"emissions"),
    ("lengths_count", "D().decode_batch(np.stack([E, E]), lengths=[5])", VE, r"lengths"),
    ("lengths_zero", "D().decode_batch(np.stack([E, E]), lengths=[0, 5])", VE, r"lengths"),
    ("lengths_negative", "D().decode_batch(np.stack([E, E]), lengths=[-1, 5])", VE, r"lengths"),
    ("lengths_too_long", "D().decode_batch(np.stack([E, E]), lengths=[len(E) + 1, 5])", VE,
     r"lengths"),
    ("lengths_2_32", "D().decode_batch(np.stack([E, E]), lengths=[2**32, 5])", VE, r"lengths"),
    ("lengths_2_64", "D().decode_batch(np.stack([E, E]), lengths=[2**64, 5])", VE, r"lengths"),
    ("lengths_float", "D().decode_batch(np.stack([E, E]), lengths=[5.0, 5.0])", VE, r"lengths"),
    ("lengths_nan", "D().decode_batch(np.stack([E, E]), lengths=[np.nan, 5])", VE, r"lengths"),
    ("lengths_bool", "D().decode_batch(np.stack([E, E]), lengths=[True, True])", VE, r"lengths"),
    ("lengths_str", "D().decode_batch(np.stack([E, E]), lengths='ab')", VE, r"lengths"),
    ("lengths_scalar", "D().decode_batch(np.stack([E, E]), lengths=5)", VE, r"lengths"),
    ("lengths_2d", "D().decode_batch(np.stack([E, E]), lengths=[[5, 5]])", VE, r"lengths"),
]:
    add(py(f"batch_{name}", code, exc, match))
add(py("batch_names_not_strings", "D().decode_batch([E, E], names=[1, 2])", VTE,
       r"(?s)^(?!.*incompatible function arguments).*\bnames\b"))
add(py("batch_control", """
    assert D().decode_batch([]) == []
    for r in D(num_threads=2).decode_batch((e for e in [E, E, E]), names=['a', 'b', 'c']):
        same(r)
    X = np.stack([E, np.zeros_like(E)])
    for r in D().decode_batch(np.asfortranarray(X), lengths=np.array([len(E), len(E)], np.uint8)):
        pass
    same(D().decode_batch(np.asfortranarray(X), lengths=[len(E), 3])[0])""", None))

# ---- PhraseBoost / decode(boost=...) ------------------------------------------------------------
for name, boost, exc, match in [
    ("unknown_word", "{'the zebra': 2.0}", VE, r"boost: phrase 'the zebra': 'zebra' is not a word"),
    ("nan", "{'cat': float('nan')}", VE, r"boost: phrase 'cat' has weight nan"),
    ("inf", "{'cat': float('inf')}", VE, r"boost: phrase 'cat' has weight inf"),
    ("minus_inf", "{'cat': float('-inf')}", VE, r"boost: phrase 'cat' has weight -inf"),
    ("empty_phrase", "{'': 1.0}", VE, r"boost: phrase 0 is empty"),
    ("blank_phrase", "['  ']", VE, r"boost: phrase 0 is empty"),
    ("string", "'cat'", TE, r"boost: give a list"),
    ("float32_overflow", "{'cat': 1e39}", VE, r"boost.*'cat'|boost.*weight"),
]:
    add(py(f"boost_{name}", f"D().decode(E, boost={boost})", exc, match))
    add(py(f"boost_batch_{name}", f"D().decode_batch([E], boost={boost})", exc, match))
add(py("boost_phrase_weight_nan", "pywfst.PhraseBoost(G(), ['cat'], weight=float('nan'))", VE,
       r"boost: phrase 'cat' has weight nan"))
add(py("boost_other_graph", "D().decode(E, boost=pywfst.PhraseBoost(pywfst.Graph.load(P.gc), "
       "['cat']))", VE, r"boost: made for the graph"))
add(py("boost_control", """
    r = D().decode(E, boost={'cat sat': 2.0, 'mat': -1.0})
    assert r.words == WORDS, r.words
    assert D().decode(E, boost=pywfst.PhraseBoost(G(), [('the cat', 3.0), 'on'])).words == WORDS
    """, None))
for name, boost, match in [
    ("pair_too_short", "[('cat',)]", r"boost"),
    ("pair_weight_str", "[('cat', 'x')]", r"boost"),
    ("item_none", "[None]", r"boost"),
    ("int", "5", r"boost"),
    ("mapping_weight_none", "{'cat': None}", r"boost"),
    ("default_weight_str", "pywfst.PhraseBoost(G(), ['cat'], weight='x')", r"boost|weight"),
    ("default_weight_none", "pywfst.PhraseBoost(G(), ['cat'], weight=None)", r"boost|weight"),
]:
    code = boost if boost.startswith("pywfst") else f"D().decode(E, boost={boost})"
    add(py(f"boost_{name}", code, VTE, match))
# A graph directory's path works as it does for Decoder.
add(py("boost_graph_path", "assert D().decode(E, boost=pywfst.PhraseBoost(P.graph, "
       "[('the cat', 3.0), 'on'])).words == WORDS", None))

# ---- set_class / ClassEntries -------------------------------------------------------------------
for name, code, exc, match in [
    ("unknown_slot", "DC().set_class('NOPE', ['cat'])", VE,
     r"class slot 'NOPE' is not in the graph .*slots: TERM"),
    ("no_slots", "D().set_class('TERM', ['cat'])", VE, r"class slot 'TERM' is not in the graph"),
    ("empty_list", "DC().set_class('TERM', [])", VE, r"entries: none given"),
    ("empty_entry", "DC().set_class('TERM', [''])", VE, r"entries: an entry is empty"),
    ("blank_entry", "DC().set_class('TERM', ['   '])", VE, r"entries: an entry is empty"),
    ("string", "DC().set_class('TERM', 'cat')", TE, r"entries: give a list"),
    ("weight_nan", "DC().set_class('TERM', {'cat': float('nan')})", VE,
     r"entries: 'cat' has weight nan"),
    ("weight_inf", "DC().set_class('TERM', {'cat': float('inf')})", VE,
     r"entries: 'cat' has weight inf"),
    ("weight_zero", "DC().set_class('TERM', {'cat': 0})", VE, r"entries: 'cat' has weight 0"),
    ("weight_negative", "DC().set_class('TERM', {'cat': -1})", VE, r"entries: 'cat' has weight -1"),
    ("unspellable", "DC().set_class('TERM', ['caf\\u00e9'])", VE,
     r"entries: 'caf.' cannot be spelled"),
    ("other_graph", "DC().set_class('TERM', pywfst.ClassEntries(pywfst.Graph.load(P.gc_copy), "
     "'TERM', ['cat']))", VE, r"entries: prepared for slot 'TERM' of"),
    ("entries_no_slots", "pywfst.ClassEntries(G(), 'TERM', ['cat'])", VE, r"class slot 'TERM'"),
    ("name_none", "DC().set_class(None, ['cat'])", VE, r"class slot None is not in"),
    ("name_int", "DC().set_class(123, ['cat'])", VE, r"class slot 123 is not in"),
    ("entries_name_none", "pywfst.ClassEntries(pywfst.Graph.load(P.gc), None, ['cat'])", VE,
     r"class slot None"),
    ("topology_missing", "DC(P.gc_no_topology).set_class('TERM', ['cat'])", OE, r"topology\.fst"),
    ("topology_garbage", "DC(P.gc_bad_topology).set_class('TERM', ['cat'])", VE, r"topology\.fst"),
]:
    add(py(f"class_{name}", code, exc, match))
add(py("class_control", """
    d = DC()
    d.set_class('TERM', ['zyx', 'cat scan'])
    sane(d.decode(E))
    d.set_class('TERM', None)
    assert d.decode(E).words == WORDS
    d.set_class('TERM', pywfst.ClassEntries(pywfst.Graph.load(P.gc), 'TERM', {'a b': 2.0}))
    sane(d.decode(E))""", None))
add(py("class_long_entry", "d = DC(); d.set_class('TERM', ['x' * 20000]); sane(d.decode(E))", VE,
       r"entries", ok=True))
add(py("class_word_states_out_of_range", "DC(P.gc_word_states_oob).set_class('TERM', ['cat'])", VE,
       r"graph\.json|word_states|topology"))
# Found by the graph_json fuzz harness: ints beyond int32 reached the native class compiler.
add(py("class_word_states_huge", "DC(P.gc_word_states_huge).set_class('TERM', ['cat'])", VE,
       r"graph\.json: class_slots: expected"))
add(py("class_boundary_token_huge", "DC(P.gc_boundary_token_huge).set_class('TERM', ['cat'])", VE,
       r"graph\.json: word_boundary: expected"))
add(py("class_none_entry", "DC().set_class('TERM', [None])", TE, r"entries"))
add(py("class_weight_str", "DC().set_class('TERM', {'cat': 'x'})", VE, r"entries.*'cat'"))
add(py("class_entries_int", "DC().set_class('TERM', 5)", TE, r"entries"))
# A graph directory's path works as it does for Decoder.
add(py("class_entries_graph_path", """
    d = DC()
    d.set_class('TERM', pywfst.ClassEntries(P.gc, 'TERM', ['zyx', 'cat scan']))
    sane(d.decode(E))""", None))

# ---- CLI: build-graph, decode, info, demo --------------------------------------------------------
BUILD = "build-graph --quiet --spell --word-boundary | --lm {P.arpa_good} --out out"
for name, args, status, match in [
    ("tokens_missing", "--tokens {P.missing}", 1, r"does_not_exist"),
    ("tokens_dir", "--tokens {P.adir}", 2, r"a_directory"),
    ("tokens_garbage", "--tokens {P.garbage}", 1, r"garbage\.bin:\d+"),
    ("tokens_duplicate", "--tokens {P.tok_duplicate_id}", 1, r"tok_duplicate_id\.txt:4"),
    ("tokens_2_32", "--tokens {P.tok_2_32}", 1, r"tok_2_32\.txt:4"),
    ("lm_nan", "--tokens {P.tokens} --lm {P.arpa_prob_nan}", 1, r"arpa_prob_nan\.arpa:9"),
    ("lm_latin1", "--tokens {P.tokens} --lm {P.arpa_latin1}", 1, r"arpa_latin1\.arpa:9"),
    ("lm_no_header", "--tokens {P.tokens} --lm {P.arpa_no_header}", 1, r"arpa_no_header\.arpa"),
    ("extra_weight_nan", "--tokens {P.tokens} --extra-weight nan", (1, 2), r"extra.weight"),
    ("frame_shift_nan", "--tokens {P.tokens} --frame-shift nan", (1, 2), r"frame.shift"),
    ("frame_shift_inf", "--tokens {P.tokens} --frame-shift inf", (1, 2), r"frame.shift"),
    ("hmm_states_zero", "--tokens {P.tokens} --topo hmm --hmm-states 0", 2, r"hmm-states"),
    ("topo_bogus", "--tokens {P.tokens} --topo bogus", 2, r"topo"),
    ("class_slot_bad", "--tokens {P.tokens} --class-slot 1bad", 1, r"class_slots: '1bad'"),
    ("jargon_bad", "--tokens {P.tokens} --extra-lexicon {P.jargon_unknown_phone}", 1,
     r"jargon_unknown_phone\.txt:3"),
    ("out_exists", "--tokens {P.tokens} --out {P.adir}", 1, r"a_directory: already exists"),
]:
    # a later --lm/--out replaces the one of BUILD
    add(cli(f"cli_build_{name}", f"{BUILD} {args}", status, match))
add(cli("cli_build_lexiconp_nan",
        "build-graph --quiet --tokens {P.tokens} --lexicon {P.lexp_nan} --lm {P.arpa_good} --out o",
        1, r"lexp_nan\.txt:2"))
add(cli("cli_build_lm_minus_inf", f"{BUILD} --tokens {{P.tokens}} --lm {{P.arpa_prob_minus_inf}}",
        1, r"arpa_prob_minus_inf\.arpa:9"))
add(cli("cli_build_control", f"{BUILD} --tokens {{P.tokens}}", 0))

DECODE = "decode --graph {P.graph}"
for name, args, status, match in [
    ("graph_missing", "decode --graph {P.missing} {P.good_npy}", 1, r"does_not_exist"),
    ("graph_garbage_hclg", "decode --graph {P.hclg_garbage} {P.good_npy}", 1, r"HCLG\.fst"),
    ("graph_bad_words", "decode --graph {P.words_duplicate_id} {P.good_npy}", 1, r"words\.txt:4"),
    ("file_missing", f"{DECODE} {{P.missing}}", 1, r"does_not_exist"),
    ("file_dir", f"{DECODE} {{P.adir}}", 1, r"a_directory"),
    ("file_garbage", f"{DECODE} {{P.garbage}}", 1, r"garbage\.bin"),
    ("file_zero_bytes", f"{DECODE} {{P.empty}}", 1, r"empty\.txt"),
    ("file_truncated", f"{DECODE} {{P.truncated_npy}}", 1, r"truncated\.npy"),
    ("file_object", f"{DECODE} {{P.object_npy}}", 1, r"object\.npy"),
    ("file_int", f"{DECODE} {{P.int_npy}}", 1, r"int\.npy.*dtype"),
    ("file_3d", f"{DECODE} {{P.three_d_npy}}", 1, r"three_d\.npy.*dimensions"),
    ("file_empty", f"{DECODE} {{P.empty_npy}}", 1, r"empty\.npy.*empty"),
    ("file_nan", f"{DECODE} {{P.nan_npy}}", 1, r"nan\.npy"),
    ("file_columns", f"{DECODE} {{P.columns_npy}}", 1, r"columns\.npy: 30 columns"),
    ("npz_bad_entry", f"{DECODE} {{P.mixed_npz}}", 1, r"mixed\.npz\[bad\]"),
    ("npz_frame_shift_nan", f"{DECODE} {{P.frame_shift_nan_npz}}", 1,
     r"frame_shift_nan\.npz\[frame_shift\]"),
    ("npz_garbage", f"{DECODE} {{P.garbage_npz}}", 1, r"garbage\.npz"),
    ("beam_nan", f"{DECODE} --beam nan {{P.good_npy}}", 2, r"beam"),
    ("beam_inf", f"{DECODE} --beam inf {{P.good_npy}}", 2, r"beam"),
    ("max_active_negative", f"{DECODE} --max-active -5 {{P.good_npy}}", 2, r"max_active"),
    ("max_active_2_40", f"{DECODE} --max-active 1099511627776 {{P.good_npy}}", 2, r"max_active"),
    ("lattices_unwritable", f"{DECODE} --nbest 2 --lattices {{P.missing}}/x.txt {{P.good_npy}}",
     1, r"does_not_exist"),
    ("settings_missing", f"{DECODE} --settings {{P.missing}} {{P.good_npy}}", 1, r"does_not_exist"),
    ("settings_garbage", f"{DECODE} --settings {{P.garbage}} {{P.good_npy}}", 1,
     r"garbage\.bin"),
    ("threads_negative", f"{DECODE} --threads -1 {{P.good_npy}}", 1, r"num_threads|threads"),
    ("threads_huge", f"{DECODE} --threads 1000000 {{P.good_npy}}", 1, r"num_threads|threads"),
    ("acoustic_scale_zero", f"{DECODE} --acoustic-scale 0 {{P.good_npy}}", 2, r"acoustic_scale"),
    ("frame_shift_zero", f"{DECODE} --frame-shift 0 {{P.good_npy}}", 2, r"frame-shift"),
    ("frame_shift_nan", f"{DECODE} --frame-shift nan {{P.good_npy}}", (1, 2), r"frame.shift"),
    ("format_bogus", f"{DECODE} --format bogus {{P.good_npy}}", 2, r"format"),
    ("no_files", DECODE, 2, r"EMISSIONS"),
    ("class_spec", f"decode --graph {{P.gc}} --class TERM {{P.good_npy}}", 2, r"--class"),
    ("class_missing_file", f"decode --graph {{P.gc}} --class TERM={{P.missing}} {{P.good_npy}}", 1,
     r"does_not_exist"),
    ("class_weight_nan", f"decode --graph {{P.gc}} --class TERM={{P.class_nan}} {{P.good_npy}}", 1,
     r"class_nan\.txt:2"),
    ("class_unknown_slot", f"decode --graph {{P.gc}} --class NOPE={{P.class_good}} {{P.good_npy}}",
     1, r"class slot 'NOPE'"),
    ("skip_bad_all_bad", f"{DECODE} --skip-bad {{P.int_npy}} {{P.garbage}}", 1,
     r"none could be decoded"),
]:
    add(cli(f"cli_decode_{name}", args, status, match))
add(cli("cli_decode_class_latin1",
        "decode --graph {P.gc} --class TERM={P.lex_latin1} {P.good_npy}", 1, r"lex_latin1\.txt:2"))
add(cli("cli_decode_skip_bad", f"{DECODE} --skip-bad {{P.int_npy}} {{P.good_npy}} {{P.garbage}} "
        "{P.mixed_npz}", 0, r"skipped .*int\.npy",
        stdout=r"(?m)^good the cat sat on the mat\n.*^ok the cat sat"))
add(cli("cli_decode_control", f"{DECODE} {{P.good_npy}} {{P.fortran_npy}}", 0,
        stdout=r"(?m)^good the cat sat on the mat\nfortran the cat sat on the mat\n"))

for name, args, status, match in [
    ("missing", "info {P.missing}", 1, r"does_not_exist"),
    ("file", "info {P.empty}", 2, r"empty\.txt"),
    ("json_garbage", "info {P.json_garbage}", 1, r"graph\.json"),
    ("json_version", "info {P.json_version}", 1, r"graph\.json: format_version"),
    ("words_garbage", "info {P.words_garbage}", 1, r"words\.txt:\d+"),
]:
    add(cli(f"cli_info_{name}", args, status, match))
add(cli("cli_info_minimal_json", "info {P.json_minimal}", 1, r"graph\.json"))
add(cli("cli_info_control", "info {P.graph}", 0, stdout=r"HCLG\.fst"))

DEMO_SETUP = """
    import pywfst.cli.demo as demo
    demo.demo_data_dir = lambda: Path(P.demo_data)  # a small LM: the graph builds in a second
"""
for name, args, status, match, marks in [
    ("missing", "demo {P.missing}", 2, r"does_not_exist", ()),
    ("dir", "demo {P.adir}", 2, r"a_directory", ()),
    ("beam_nan", "demo --beam nan {P.sine_wav}", (1, 2), r"beam", ()),
    ("not_wav", "demo {P.not_wav}", 1, r"not_a\.wav", ()),
    ("empty_wav", "demo {P.empty_wav}", 1, r"empty\.wav", ()),
    ("nan_wav", "demo {P.nan_wav}", 1, r"nan\.wav", ()),
]:
    add(cli(f"cli_demo_{name}", args, status, match, setup=DEMO_SETUP, marks=marks))
add(cli("cli_demo_tiny_wav", "demo {P.tiny_wav}", (0, 1), r"tiny\.wav", setup=DEMO_SETUP,
        stdout=r"tiny\.wav"))
add(cli("cli_demo_control", "demo {P.sine_wav}", 0, setup=DEMO_SETUP, stdout=r"sine\.wav"))

# The installed `pywfst` script itself (a fresh interpreter: slower, so only a few).
add(cli("script_info_missing", "info {P.missing}", 1, r"does_not_exist", kind="script"))
add(cli("script_decode_int", f"{DECODE} {{P.int_npy}}", 1, r"int\.npy", kind="script"))
add(cli("script_build_tokens_latin1", f"{BUILD} --tokens {{P.tok_latin1}}", 1,
        r"tok_latin1\.txt:3", kind="script"))

add(py("build_tokens_unreadable", "build(tokens=P.unreadable)", OE, r"unreadable\.txt",
       marks=NOT_ROOT))
add(py("load_words_unreadable", "D(P.words_unreadable)", OE, r"words\.txt", marks=NOT_ROOT))

CASE_BY_ID: Dict[str, Case] = {}
for _case in CASES:
    assert _case.id not in CASE_BY_ID, f"duplicate case id {_case.id}"
    CASE_BY_ID[_case.id] = _case

# ------------------------------------------------------------------------------------------------
# Inputs (written once per module)
# ------------------------------------------------------------------------------------------------

SENTENCE = ["the", "cat", "sat", "on", "the", "mat"]
SMALL_WORDS = ["the", "cat", "sat", "on", "a", "mat"]
GOOD_ARPA = """\\data\\
ngram 1=8
ngram 2=3

\\1-grams:
-1.0 </s>
-99 <s> -0.5
-1.0 the -0.3
-1.0 cat -0.3
-1.0 sat -0.3
-1.0 on -0.3
-1.0 a -0.3
-1.0 mat -0.3

\\2-grams:
-0.3 <s> the
-0.3 the cat
-0.3 cat sat

\\end\\
"""
GOOD_JARGON = ("# a tiny jargon lexicon\n"
               "tomcat\tT AA1 M K AE2 T\tcmudict\n"
               "cat scan\tK AE1 T | S K AE1 N\tcmudict\n")


def _replace_line(text: str, line_no: int, new: Optional[str]) -> str:
    lines = text.split("\n")
    if new is None:
        del lines[line_no - 1]
    else:
        lines[line_no - 1] = new
    return "\n".join(lines)


def _fst_layout(data: bytes) -> dict:
    """Byte offsets of the fields of an OpenFst binary file (no symbol tables)."""
    offset = 4
    fields = {"magic": 0}
    for name in ("fst_type", "arc_type"):
        (length,) = struct.unpack_from("<i", data, offset)
        fields[name + "_length"] = offset
        fields[name] = offset + 4
        fields[name + "_value"] = data[offset + 4:offset + 4 + length]
        offset += 4 + length
    for name, size in (("version", 4), ("flags", 4), ("properties", 8), ("start", 8),
                       ("num_states", 8), ("num_arcs", 8)):
        fields[name] = offset
        offset += size
    fields["header_end"] = offset
    fields["num_states_value"] = struct.unpack_from("<q", data, fields["num_states"])[0]
    assert struct.unpack_from("<i", data, fields["flags"])[0] & 3 == 0  # no symbol tables
    return fields


def _patched(data: bytes, offset: int, fmt: str, value) -> bytes:
    buffer = bytearray(data)
    struct.pack_into(fmt, buffer, offset, value)
    return bytes(buffer)


def _graph_copy(source: Path, target: Path, **files) -> str:
    shutil.copytree(source, target)
    for name, content in files.items():
        name = name.replace("__", ".")
        path = target / name
        if content is None:
            path.unlink()
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return str(target)


def _write_wav(path: Path, samples, rate: int = 16000) -> str:
    from scipy.io import wavfile

    wavfile.write(str(path), rate, samples)
    return str(path)


def make_inputs(root: Path, char_setup) -> dict:
    """Every file the cases use, by name (P.<name> in a snippet)."""
    import numpy as np
    import pywrapfst as fst

    import pywfst
    from pywfst.synthetic import simulate_ctc_emissions

    from helpers import write_char_tokens

    paths: Dict[str, str] = {}

    def put(name: str, content: Union[str, bytes], filename: Optional[str] = None) -> str:
        path = root / "files" / (filename or name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        paths[name] = str(path)
        return str(path)

    rng = np.random.default_rng(1234)
    garbage = bytes(rng.integers(0, 256, 4096, dtype=np.uint8))
    paths["missing"] = str(root / "files" / "does_not_exist.txt")
    (root / "files" / "a_directory").mkdir(parents=True)
    paths["adir"] = str(root / "files" / "a_directory")
    put("empty", b"", "empty.txt")
    put("garbage", garbage, "garbage.bin")
    put("gz_truncated", gzip.compress(b"<blk> 0\n| 1\n" * 200)[:60], "truncated.gz")
    # Not UTF-8, and corrupt after the bad byte (found by fuzz/run.sh): three ways gzip fails.
    latin1_gz = gzip.compress(b"<blk> 0\n| 1\n\xe9 2 " + b"x" * 300)
    put("gz_latin1_bad_crc", latin1_gz[:-8] + bytes([latin1_gz[-8] ^ 1]) + latin1_gz[-7:],
        "latin1_bad_crc.gz")
    put("gz_latin1_bad_size", latin1_gz[:-1] + bytes([latin1_gz[-1] ^ 1]), "latin1_bad_size.gz")
    put("gz_latin1_cut_member", latin1_gz + b"\x1f\x8bgarbage", "latin1_cut_member.gz")
    paths["under_a_file"] = paths["empty"] + "/sub.txt"
    paths["unreadable"] = put("unreadable", "<blk> 0\n", "unreadable.txt")
    os.chmod(paths["unreadable"], 0)

    # tokens.txt: <blk> 0, | 1, a 2, b 3 (line 4), ...
    token_ids = write_char_tokens(root / "files" / "tokens.txt")
    paths["tokens"] = str(root / "files" / "tokens.txt")
    good_tokens = (root / "files" / "tokens.txt").read_text()
    put("tok_crlf", good_tokens.replace("\n", "\r\n"), "tok_crlf.txt")
    put("tok_latin1", good_tokens.encode().replace(b"| 1\n", b"| 1\na\xe9 99\n"), "tok_latin1.txt")
    for name, line4 in [("tok_three_fields", "b 3 x"), ("tok_id_word", "b x"),
                        ("tok_id_float", "b 1.5"), ("tok_id_nan", "b nan"), ("tok_id_inf", "b inf"),
                        ("tok_duplicate_id", "b 2"), ("tok_duplicate_symbol", "a 3"),
                        ("tok_negative", "b -3"), ("tok_2_28", f"b {2**28}"),
                        ("tok_2_31", f"b {2**31 - 1}"), ("tok_2_32", f"b {2**32}"),
                        ("tok_10_30", f"b {10**30}")]:
        put(name, _replace_line(good_tokens, 4, line4), f"{name}.txt")
    put("tok_no_blank", good_tokens.replace("<blk> 0", "zz 0"), "tok_no_blank.txt")
    put("tok_blank_not_zero", good_tokens.replace("<blk> 0", "zz 0") + "<blk> 40\n",
        "tok_blank_not_zero.txt")
    put("tok_bom", "\ufeff" + good_tokens, "tok_bom.txt")
    put("tok_only_blank", "<blk> 0\n", "tok_only_blank.txt")

    # lexicons: line 1 'the', line 2 'cat' (the bad one)
    lexicon = "".join(f"{w} {' '.join(w)}\n" for w in SMALL_WORDS)
    lexiconp = "".join(f"{w} 0.5 {' '.join(w)}\n" for w in SMALL_WORDS)
    put("lex_good", lexicon, "lex_good.txt")
    put("lexp_good", lexiconp, "lexp_good.txt")
    put("lex_latin1", lexicon.encode().replace(b"cat c a t", b"c\xe0t c a t"), "lex_latin1.txt")
    for name, line2 in [("lex_unknown_token", "cat c Q t"), ("lex_blank_token", "cat c <blk> t"),
                        ("lex_no_tokens", "cat"), ("lex_reserved_eps", "<eps> c a t"),
                        ("lex_reserved_disambig", "#0 c a t")]:
        put(name, _replace_line(lexicon, 2, line2), f"{name}.txt")
    for name, probability in [("lexp_nan", "nan"), ("lexp_inf", "inf"), ("lexp_minus_inf", "-inf"),
                              ("lexp_zero", "0"), ("lexp_negative", "-0.5"),
                              ("lexp_above_one", "1.5"), ("lexp_underflow", "1e-400")]:
        put(name, _replace_line(lexiconp, 2, f"cat {probability} c a t"), f"{name}.txt")
    put("lex_no_lm_word", "dog d o g\n", "lex_no_lm_word.txt")

    # ARPA: line 9 is '-1.0 cat -0.3', line 17 '-0.3 the cat'
    put("arpa_good", GOOD_ARPA, "good.arpa")
    put("arpa_latin1", GOOD_ARPA.encode().replace(b"-1.0 cat -0.3", b"-1.0 c\xe0t -0.3"),
        "arpa_latin1.arpa")
    for name, line_no, new in [
        ("arpa_no_header", 1, "data"), ("arpa_count_mismatch", 2, "ngram 1=9"),
        ("arpa_count_negative", 2, "ngram 1=-1"), ("arpa_prob_nan", 9, "nan cat -0.3"),
        ("arpa_prob_inf", 9, "inf cat -0.3"), ("arpa_prob_positive", 9, "0.5 cat -0.3"),
        ("arpa_prob_word", 9, "x cat -0.3"), ("arpa_prob_underscore", 9, "-1_0 cat -0.3"),
        ("arpa_backoff_nan", 9, "-1.0 cat nan"),
        ("arpa_backoff_inf", 9, "-1.0 cat inf"), ("arpa_fields", 9, "-1.0 cat -0.3 extra"),
        ("arpa_unknown_word", 17, "-0.3 the dog"), ("arpa_duplicate", 10, "-1.0 cat -0.3"),
        ("arpa_top_backoff", 17, "-0.3 the cat -0.1"),
        ("arpa_prob_minus_inf", 9, "-inf cat -0.3"), ("arpa_backoff_minus_inf", 9, "-1.0 cat -inf"),
    ]:
        put(name, _replace_line(GOOD_ARPA, line_no, new), f"{name}.arpa")
    put("arpa_no_end", GOOD_ARPA.replace("\\end\\\n", ""), "arpa_no_end.arpa")
    put("arpa_cut_mid_section", GOOD_ARPA[:GOOD_ARPA.index("-1.0 sat")],
        "arpa_cut_mid_section.arpa")
    put("arpa_no_ngrams", "\\data\\\n\n\\end\\\n", "arpa_no_ngrams.arpa")

    # jargon lexicons: line 3 is the bad one
    put("jargon_good", GOOD_JARGON, "jargon_good.txt")
    put("jargon_latin1", GOOD_JARGON.encode().replace(b"cat scan", b"cat sc\xe0n"),
        "jargon_latin1.txt")
    for name, line3 in [("jargon_two_fields", "cat scan\tK AE1 T | S K AE1 N"),
                        ("jargon_unknown_phone", "cat scan\tK QQ1 T | S K AE1 N\tcmudict"),
                        ("jargon_upper", "Cat scan\tK AE1 T | S K AE1 N\tcmudict"),
                        ("jargon_source", "cat scan\tK AE1 T | S K AE1 N\twikipedia"),
                        ("jargon_word_count", "cat scan\tK AE1 T S K AE1 N\tcmudict")]:
        put(name, _replace_line(GOOD_JARGON, 3, line3), f"{name}.txt")
    put("jargon_duplicate", GOOD_JARGON + "cat scan\tK AE1 T | S K AE1 N\tcmudict\n",
        "jargon_duplicate.txt")

    # class files for `decode --class`
    put("class_good", "cat scan\nzyx\t2\n", "class_good.txt")
    put("class_nan", "cat scan\nzyx\tnan\n", "class_nan.txt")

    # graphs: the char graph of the shared corpus LM, a copy of it with a class slot
    graphs = root / "graphs"
    graph = pywfst.build_graph(char_setup["tokens"], graphs / "g", spell=True, word_boundary="|",
                               lm=char_setup["lm"], progress=False)
    paths["graph"] = str(graph.path)
    gc = pywfst.build_graph(char_setup["tokens"], graphs / "gc", spell=True, word_boundary="|",
                            lm=char_setup["lm"], class_slots=["TERM"], progress=False)
    paths["gc"] = str(gc.path)
    paths["gc_copy"] = _graph_copy(gc.path, graphs / "gc_copy")
    paths["gc_no_topology"] = _graph_copy(gc.path, graphs / "gc_no_topology", topology__fst=None)
    paths["gc_bad_topology"] = _graph_copy(gc.path, graphs / "gc_bad_topology",
                                           topology__fst=garbage)
    info = json.loads((gc.path / "graph.json").read_text())
    info["class_slots"]["word_states"] = [10**9, -5] + info["class_slots"]["word_states"]
    paths["gc_word_states_oob"] = _graph_copy(gc.path, graphs / "gc_word_states_oob",
                                              graph__json=json.dumps(info))
    info = json.loads((gc.path / "graph.json").read_text())
    info["class_slots"]["word_states"] = [2**40] + info["class_slots"]["word_states"]
    paths["gc_word_states_huge"] = _graph_copy(gc.path, graphs / "gc_word_states_huge",
                                               graph__json=json.dumps(info))
    info = json.loads((gc.path / "graph.json").read_text())
    info["word_boundary"]["token_id"] = 2**40
    paths["gc_boundary_token_huge"] = _graph_copy(gc.path, graphs / "gc_boundary_token_huge",
                                                  graph__json=json.dumps(info))
    for index in (1, 2):
        paths[f"scratch_graph_{index}"] = _graph_copy(graph.path, graphs / f"scratch_{index}")

    # emissions of SENTENCE
    ids = char_setup["token_ids"]
    tokens = [t for w in SENTENCE for t in [ids[c] for c in w] + [ids["|"]]]
    emissions = simulate_ctc_emissions(tokens, len(ids), np.random.default_rng(3), peak=6.0,
                                       noise=1.0)
    assert pywfst.Decoder(graph).decode(emissions).words == SENTENCE
    npy = root / "files"
    np.save(npy / "good.npy", emissions)
    paths["good_npy"] = str(npy / "good.npy")
    np.save(npy / "fortran.npy", np.asfortranarray(emissions))
    paths["fortran_npy"] = str(npy / "fortran.npy")
    for name, array in [("int", emissions.astype(np.int32)), ("three_d", emissions[None]),
                        ("empty", emissions[:0]), ("columns", np.pad(emissions, ((0, 0), (0, 1))))]:
        np.save(npy / f"{name}.npy", array)
        paths[f"{name}_npy"] = str(npy / f"{name}.npy")
    nan = emissions.copy()
    nan[3, 4] = np.nan
    np.save(npy / "nan.npy", nan)
    paths["nan_npy"] = str(npy / "nan.npy")
    np.save(npy / "object.npy", np.array([None, 1], dtype=object), allow_pickle=True)
    paths["object_npy"] = str(npy / "object.npy")
    paths["truncated_npy"] = put("truncated_npy", (npy / "good.npy").read_bytes()[:300],
                                 "truncated.npy")
    np.savez(npy / "mixed.npz", ok=emissions, bad=emissions.astype(np.int64))
    paths["mixed_npz"] = str(npy / "mixed.npz")
    np.savez(npy / "frame_shift_nan.npz", utt=emissions, frame_shift=np.float64("nan"))
    paths["frame_shift_nan_npz"] = str(npy / "frame_shift_nan.npz")
    paths["garbage_npz"] = put("garbage_npz", b"PK\x03\x04" + garbage, "garbage.npz")

    # graph directories with one bad file
    source = graph.path
    words = (source / "words.txt").read_text()
    hclg = (source / "HCLG.fst").read_bytes()
    dirs = root / "dirs"
    for name, files in [
        ("words_missing", {"words__txt": None}),
        ("words_empty", {"words__txt": ""}),
        ("words_garbage", {"words__txt": garbage}),
        ("words_latin1", {"words__txt": _replace_line(words, 3, "x").encode().replace(
            b"\nx\n", b"\nc\xe0t 2\n")}),
        ("words_duplicate_id", {"words__txt": _replace_line(words, 4, "zzz 1")}),
        ("words_duplicate_word", {"words__txt": _replace_line(words, 4, words.split()[2] + " 77")}),
        ("words_negative_id", {"words__txt": _replace_line(words, 4, "zzz -4")}),
        ("words_id_2_24", {"words__txt": words + f"zzz {2**24}\n"}),
        ("words_id_2_31", {"words__txt": words + f"zzz {2**31 - 1}\n"}),
        ("words_id_2_32", {"words__txt": words + f"zzz {2**32}\n"}),
        ("words_id_not_int", {"words__txt": _replace_line(words, 4, "zzz 1.5")}),
        ("words_three_fields", {"words__txt": _replace_line(words, 4, "zzz 3 4")}),
        ("words_other_graph", {"words__txt": "<eps> 0\nthe 1\n"}),
        ("tokens_garbage_in_dir", {"tokens__txt": garbage}),
        ("pronunciations_garbage", {"pronunciations__txt": garbage}),
        ("json_garbage", {"graph__json": garbage}),
        ("json_invalid", {"graph__json": '{\n  "format_version": 1,,\n}'}),
        ("json_list", {"graph__json": "[1, 2]"}),
        ("json_version", {"graph__json": '{"format_version": 99}'}),
        ("json_minimal", {"graph__json": '{"format_version": 1}'}),
    ]:
        paths[name] = _graph_copy(source, dirs / name, **files)
    (dirs / "words_dir").mkdir()
    paths["words_dir"] = _graph_copy(source, dirs / "words_dir" / "g", words__txt=None)
    (Path(paths["words_dir"]) / "words.txt").mkdir()
    paths["words_unreadable"] = _graph_copy(source, dirs / "words_unreadable")
    os.chmod(Path(paths["words_unreadable"]) / "words.txt", 0)
    info = json.loads((source / "graph.json").read_text())
    for name, key, value in [
        ("json_columns_negative", "emission_columns", -1),
        ("json_columns_string", "emission_columns", "29"),
        ("json_frame_shift_nan", "frame_shift", float("nan")),
        ("json_frame_shift_zero", "frame_shift", 0),
        ("json_blank_negative", "blank_id", -5),  # -1: no blank (hmm graphs)
        ("json_options_list", "options", [1]),
        ("json_word_boundary_string", "word_boundary", "|"),
    ]:
        changed = dict(info, **{key: value})
        paths[name] = _graph_copy(source, dirs / name, graph__json=json.dumps(changed))
    changed = dict(info, options=dict(info["options"], hmm_states=0))
    paths["json_hmm_states_zero"] = _graph_copy(source, dirs / "json_hmm_states_zero",
                                                graph__json=json.dumps(changed))

    # HCLG.fst: special files, truncations and field-by-field corruptions
    def hclg_dir(name: str, content: Optional[bytes]) -> Path:
        path = Path(_graph_copy(source, dirs / name, HCLG__fst=None))
        if content is not None:
            (path / "HCLG.fst").write_bytes(content)
        paths[name] = str(path)
        return path

    (hclg_dir("hclg_dir", None) / "HCLG.fst").mkdir()
    os.mkfifo(hclg_dir("hclg_fifo", None) / "HCLG.fst")
    os.symlink("/dev/zero", hclg_dir("hclg_devzero", None) / "HCLG.fst")
    os.symlink("HCLG.fst", hclg_dir("hclg_loop", None) / "HCLG.fst")
    layout = _fst_layout(hclg)
    first_state = layout["header_end"]  # final weight (f32), arc count (i64), arcs
    first_arc = first_state + 12  # ilabel (i32), olabel (i32), weight (f32), nextstate (i32)
    assert struct.unpack_from("<q", hclg, first_state + 4)[0] > 0
    # An arc with an output label, for the olabel corruptions.
    offset, olabel_arc = first_state, None
    for _ in range(layout["num_states_value"]):
        (num_arcs,) = struct.unpack_from("<q", hclg, offset + 4)
        for arc in range(num_arcs):
            if struct.unpack_from("<i", hclg, offset + 12 + 16 * arc + 4)[0] > 0:
                olabel_arc = offset + 12 + 16 * arc
                break
        if olabel_arc:
            break
        offset += 12 + 16 * num_arcs
    assert olabel_arc is not None
    nan = struct.unpack("<f", struct.pack("<I", 0x7FC00000))[0]
    for name, content in [
        ("hclg_empty", b""),
        ("hclg_garbage", garbage),
        ("hclg_trunc_header", hclg[:20]),
        ("hclg_trunc_half", hclg[:len(hclg) // 2]),
        ("hclg_trunc_last_byte", hclg[:-1]),
        ("hclg_magic", _patched(hclg, 0, "<I", 0x12345678)),
        ("hclg_type_length", _patched(hclg, layout["fst_type_length"], "<i", 0x7FFFFFFF)),
        ("hclg_arc_type", hclg.replace(b"standard", b"standarX", 1)),
        ("hclg_version", _patched(hclg, layout["version"], "<i", 99)),
        ("hclg_symbols_flag", _patched(hclg, layout["flags"], "<i", 1)),
        ("hclg_states_huge", _patched(hclg, layout["num_states"], "<q", 2**62)),
        ("hclg_states_negative", _patched(hclg, layout["num_states"], "<q", -5)),
        ("hclg_start_oob", _patched(hclg, layout["start"], "<q", layout["num_states_value"] + 10)),
        ("hclg_start_negative", _patched(hclg, layout["start"], "<q", -7)),
        ("hclg_start_none", _patched(hclg, layout["start"], "<q", -1)),
        ("hclg_narcs_huge", _patched(hclg, first_state + 4, "<q", 2**40)),
        ("hclg_narcs_negative", _patched(hclg, first_state + 4, "<q", -3)),
        ("hclg_nextstate_oob", _patched(hclg, first_arc + 12, "<i", 10**9)),
        ("hclg_nextstate_negative", _patched(hclg, first_arc + 12, "<i", -3)),
        ("hclg_ilabel_nonterminal", _patched(hclg, first_arc, "<i", 2**28 + 1)),
        ("hclg_enter_slot_0", _patched(hclg, first_arc, "<i", 2**28 + 2**16)),
        ("hclg_ilabel_negative", _patched(hclg, first_arc, "<i", -2)),
        ("hclg_ilabel_beyond_columns", _patched(hclg, first_arc, "<i", 500)),
        ("hclg_olabel_negative", _patched(hclg, olabel_arc + 4, "<i", -1)),
        ("hclg_olabel_huge", _patched(hclg, olabel_arc + 4, "<i", 2**31 - 1)),
        ("hclg_weight_nan", _patched(hclg, first_arc + 8, "<f", nan)),
        ("hclg_weight_minus_inf", _patched(hclg, first_arc + 8, "<f", float("-inf"))),
        ("hclg_weight_plus_inf", _patched(hclg, first_arc + 8, "<f", float("inf"))),
        ("hclg_final_nan", _patched(hclg, first_state, "<f", nan)),
        ("hclg_trailing_bytes", hclg + b"\0" * 100),
    ]:
        hclg_dir(name, content)
    gc_hclg = (gc.path / "HCLG.fst").read_bytes()
    gc_first_arc = _fst_layout(gc_hclg)["header_end"] + 12
    for slot in (5, 150):  # EnterLabel(slot, context 0) = 2**28 + (slot + 1) * 2**16
        paths[f"gc_enter_slot_{slot}"] = _graph_copy(
            gc.path, dirs / f"gc_enter_slot_{slot}",
            HCLG__fst=_patched(gc_hclg, gc_first_arc, "<i", 2**28 + (slot + 1) * 2**16))
    flips = np.random.default_rng(99)
    for index in range(24):
        position = int(flips.integers(0, len(hclg)))
        if index < 6:  # the header and the first states are where sizes live
            position = int(flips.integers(0, first_arc + 64))
        buffer = bytearray(hclg)
        buffer[position] ^= 1 << int(flips.integers(0, 8))
        hclg_dir(f"hclg_flip_{index:02d}", bytes(buffer))

    # A const FST of the same graph: ConstState = final (f32), pos, narcs, niepsilons,
    # noepsilons (u32 each)
    const_path = root / "const.fst"
    fst.convert(fst.Fst.read(str(source / "HCLG.fst")), "const").write(str(const_path))
    const = const_path.read_bytes()
    const_layout = _fst_layout(const)
    const_states = const_layout["header_end"]
    hclg_dir("const_good", const)
    hclg_dir("const_trunc_half", const[:len(const) // 2])
    hclg_dir("const_arc_pos_oob", _patched(const, const_states + 4, "<I", 0xFFFFFFF0))
    hclg_dir("const_narcs_huge", _patched(const, const_states + 8, "<I", 0xFFFFFFFF))

    # a foreign graph (no graph.json, no tokens.txt): input labels up to 6 (token 5)
    foreign = fst.VectorFst()
    states = [foreign.add_state() for _ in range(3)]
    foreign.set_start(states[0])
    one = fst.Weight.one("tropical")
    for label in range(1, 7):
        foreign.add_arc(states[0], fst.Arc(label, 1, one, states[1]))
        foreign.add_arc(states[1], fst.Arc(label, 0, one, states[1]))
    foreign.add_arc(states[1], fst.Arc(0, 0, one, states[2]))
    foreign.set_final(states[2])
    (root / "foreign").mkdir()
    foreign.write(str(root / "foreign" / "HCLG.fst"))
    (root / "foreign" / "words.txt").write_text("<eps> 0\nhello 1\n")
    paths["foreign"] = str(root / "foreign")

    # demo: a small LM in place of the bundled one, and WAV files
    demo = root / "demo_data"
    demo.mkdir()
    (demo / "lm.arpa.gz").write_bytes(gzip.compress(Path(char_setup["lm"]).read_bytes()))
    paths["demo_data"] = str(demo)
    wavs = root / "wavs"
    wavs.mkdir()
    paths["not_wav"] = put("not_wav", "this is not audio\n", "not_a.wav")
    paths["empty_wav"] = _write_wav(wavs / "empty.wav", np.zeros(0, np.int16))
    paths["nan_wav"] = _write_wav(wavs / "nan.wav", np.full(16000, np.nan, np.float32))
    paths["tiny_wav"] = _write_wav(wavs / "tiny.wav", np.zeros(5, np.int16))
    sine = (0.3 * np.sin(np.arange(16000) * 2 * np.pi * 440 / 16000) * 32767).astype(np.int16)
    paths["sine_wav"] = _write_wav(wavs / "sine.wav", sine)
    return {"paths": paths, "words": SENTENCE, "token_ids": token_ids}


# ------------------------------------------------------------------------------------------------
# The zygote: runs in its own process; forks one child per case
# ------------------------------------------------------------------------------------------------


def _prelude(context: dict) -> dict:
    """The names a case snippet sees."""
    import math
    import tempfile
    from types import SimpleNamespace

    import numpy as np

    import pywfst
    import pywfst.cli  # noqa: F401 - imported once here, not in every child
    import pywfst.graph.build  # noqa: F401
    import pywrapfst  # noqa: F401
    try:
        import torch
    except ImportError:
        torch = None

    P = SimpleNamespace(**context["paths"])
    E = np.load(P.good_npy)
    V = E.shape[1]
    WORDS = context["words"]
    TOKEN = context["token_ids"]
    reference = []

    def D(graph=None, **options):
        return pywfst.Decoder(P.graph if graph is None else graph, **options)

    def DC(graph=None, **options):
        return pywfst.Decoder(P.gc if graph is None else graph, **options)

    def G():
        return pywfst.Graph.load(P.graph)

    def REF():
        if not reference:
            reference.append(D().decode(E))
            assert reference[0].words == WORDS, reference[0].words
        return reference[0]

    def sane(result):
        assert not math.isnan(result.cost), f"NaN cost: {result}"
        return result

    def same(result, expected=None):
        expected = REF() if expected is None else expected
        got = (result.words, result.cost, result.alignment)
        want = (expected.words, expected.cost, expected.alignment)
        assert got == want, f"decoded {got[:2]}, expected {want[:2]}"
        return result

    def build(tokens=None, out_dir=None, lexicon=None, lm="default", spell=None, **options):
        out_dir = Path(tempfile.mkdtemp(dir=".")) / "graph" if out_dir is None else out_dir
        tokens = P.tokens if tokens is None else tokens
        lm = P.arpa_good if lm == "default" else lm
        if spell is None:
            spell = lexicon is None and "bpe_model" not in options
        options.setdefault("word_boundary", "|")
        return pywfst.build_graph(tokens, out_dir, lexicon=lexicon, lm=lm, spell=spell,
                                  progress=False, **options)

    def with_value(value, dtype=np.float32, frame=4, column=5):
        array = E.astype(dtype)
        array[frame, column] = value
        return array

    def with_row(value, frame=4):
        array = E.copy()
        array[frame, :] = value
        return array

    def frames_strided(a):
        buffer = np.full((2 * len(a), a.shape[1]), 7.0, np.float32)
        buffer[::2] = a
        return buffer[::2]

    def columns_strided(a):
        buffer = np.full((len(a), 2 * a.shape[1]), 7.0, np.float32)
        buffer[:, ::2] = a
        return buffer[:, ::2]

    def readonly(a):
        a = a.copy()
        a.setflags(write=False)
        return a

    def unaligned(a, offset=1, order="C"):
        a = np.asarray(a, dtype=np.float32, order=order)
        buffer = np.zeros(a.nbytes + offset, dtype=np.uint8)
        view = np.frombuffer(buffer, np.float32, count=a.size, offset=offset).reshape(
            a.shape, order=order)
        view[...] = a
        assert not view.flags.aligned
        return view

    def record_field(a):
        records = np.zeros(a.shape, dtype=[("x", "<f4"), ("flag", "u1")])
        records["x"] = a
        return records["x"]

    namespace = dict(locals())
    namespace.update({"np": np, "pywfst": pywfst, "torch": torch, "math": math, "Path": Path,
                      "shutil": shutil, "json": json})
    return namespace


def _child(case: Case, namespace: dict, out_dir: Path) -> None:
    """Runs one case in a forked child and exits (never returns)."""
    code = 0
    try:
        for fd, suffix in ((1, "out"), (2, "err")):
            target = os.open(out_dir / f"{case.id}.{suffix}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(target, fd)
            os.close(target)
        import faulthandler

        faulthandler.enable(file=sys.stderr, all_threads=True)
        work = out_dir / "work" / case.id
        work.mkdir(parents=True)
        os.chdir(work)
        if case.kind == "py":
            outcome: dict = {"raised": None}
            try:
                exec(compile(case.code, f"<case {case.id}>", "exec"), dict(namespace))
            except BaseException as error:  # noqa: BLE001 - reported to the test
                outcome = {"raised": type(error).__name__,
                           "mro": [k.__name__ for k in type(error).__mro__],
                           "message": str(error), "traceback": traceback.format_exc()[-4000:]}
            (out_dir / f"{case.id}.json").write_text(json.dumps(outcome))
        else:
            P = namespace["P"]
            args = [arg.format(P=P) for arg in case.code]
            if case.kind == "script":
                script = Path(sys.executable).parent / "pywfst"
                os.execv(str(script), [str(script), *args])
            if case.setup:
                exec(compile(case.setup, f"<setup {case.id}>", "exec"), dict(namespace))
            from pywfst.cli import cli as command

            try:
                command.main(args=args, prog_name="pywfst")
            except SystemExit as stop:
                if isinstance(stop.code, int):
                    code = stop.code
                elif stop.code is not None:
                    print(stop.code, file=sys.stderr)
                    code = 1
            except BaseException:  # noqa: BLE001 - as Python itself reports it
                traceback.print_exc()
                code = 1
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
        code = 3
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _zygote(context_file: str) -> None:
    context = json.loads(Path(context_file).read_text())
    out_dir = Path(context["out_dir"])
    namespace = _prelude(context)
    pending = [CASE_BY_ID[case_id] for case_id in context["cases"]]
    running: Dict[int, Tuple[Case, float]] = {}
    outcomes = {}
    while pending or running:
        while pending and len(running) < JOBS:
            case = pending.pop(0)
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(case, namespace, out_dir)
            running[pid] = (case, time.monotonic())
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            now = time.monotonic()
            for child, (case, started) in list(running.items()):
                if now - started > CASE_TIMEOUT:
                    os.kill(child, signal.SIGKILL)
                    os.waitpid(child, 0)
                    del running[child]
                    outcomes[case.id] = {"timeout": True, "seconds": now - started}
            time.sleep(0.005)
            continue
        case, started = running.pop(pid)
        outcome = {"seconds": time.monotonic() - started}
        if os.WIFSIGNALED(status):
            outcome["signal"] = os.WTERMSIG(status)
        else:
            outcome["exit"] = os.WEXITSTATUS(status)
        outcomes[case.id] = outcome
    (out_dir / "outcomes.json").write_text(json.dumps(outcomes))


# ------------------------------------------------------------------------------------------------
# The tests
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def outcomes(request, char_setup, tmp_path_factory):
    if not hasattr(os, "fork"):
        pytest.skip("the case runner forks a process per case")
    root = tmp_path_factory.mktemp("bad_inputs")
    context = make_inputs(root, char_setup)
    selected = [item.callspec.params["case"].id for item in request.session.items
                if item.module is request.module and hasattr(item, "callspec")
                and "case" in item.callspec.params]
    out_dir = root / "outcomes"
    out_dir.mkdir()
    context.update(out_dir=str(out_dir), cases=selected)
    context_file = root / "context.json"
    context_file.write_text(json.dumps(context))
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONFAULTHANDLER="1")
    env.pop("PYTEST_CURRENT_TEST", None)
    budget = 120 + CASE_TIMEOUT * len(selected) / max(JOBS, 1)
    zygote = subprocess.run([sys.executable, __file__, "--zygote", str(context_file)], env=env,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=budget)
    assert zygote.returncode == 0, f"the case runner failed:\n{zygote.stderr[-4000:]}"
    found = json.loads((out_dir / "outcomes.json").read_text())
    for case_id, outcome in found.items():
        for suffix in ("out", "err"):
            path = out_dir / f"{case_id}.{suffix}"
            outcome[suffix] = path.read_text(errors="replace") if path.exists() else ""
        result = out_dir / f"{case_id}.json"
        if result.exists():
            outcome["result"] = json.loads(result.read_text())
    return found


def _clip(text: str, limit: int = 3000) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit // 2]}\n[...]\n{text[-limit // 2:]}"


def _describe(outcome: dict) -> str:
    return (f"exit {outcome.get('exit')}, signal {outcome.get('signal')}, "
            f"{outcome.get('seconds', 0):.1f} s\n--- stdout\n{_clip(outcome.get('out', ''))}"
            f"\n--- stderr\n{_clip(outcome.get('err', ''))}")


def check_outcome(case: Case, outcome: dict) -> None:
    assert not outcome.get("timeout"), f"hung: still running after {CASE_TIMEOUT:.0f} s"
    assert "signal" not in outcome, (
        f"crashed: killed by signal {outcome['signal']} "
        f"({signal.Signals(outcome['signal']).name})\n{_describe(outcome)}")
    stderr = outcome.get("err", "")
    assert "Fatal Python error" not in stderr, _describe(outcome)
    if case.kind == "py":
        assert outcome.get("exit") == 0 and "result" in outcome, (
            f"the process ended without a result\n{_describe(outcome)}")
        result = outcome["result"]
        if result["raised"] is None:
            assert case.raises is None or case.ok, (
                f"no exception; expected {case.raises} matching {case.match!r}")
            return
        if case.raises is None:
            pytest.fail(f"raised {result['raised']}: {result['message']}\n{result['traceback']}")
        allowed = case.raises.split("|")
        assert any(name in result["mro"] for name in allowed), (
            f"raised {result['raised']} (expected {case.raises}): {result['message']}\n"
            f"{result['traceback']}")
        assert re.search(case.match, result["message"], re.S), (
            f"{result['raised']} message does not match {case.match!r}: {result['message']}\n"
            f"{result['traceback']}")
        return
    status = outcome.get("exit")
    assert status in case.raises, (
        f"exit status {status}, expected {case.raises}\n{_describe(outcome)}")
    assert "Traceback (most recent call last)" not in stderr, (
        f"a Python traceback on stderr\n{_describe(outcome)}")
    if status != 0:
        errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, f"expected one 'Error:' line on stderr\n{_describe(outcome)}"
        assert re.search(case.match, errors[0]), (
            f"the error line does not match {case.match!r}: {errors[0]}")
    elif case.match and case.raises == (0,):
        assert re.search(case.match, stderr), f"stderr does not match {case.match!r}\n" + stderr
    if case.stdout:
        assert re.search(case.stdout, outcome.get("out", ""), re.S), (
            f"stdout does not match {case.stdout!r}\n{_describe(outcome)}")


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_bad_input(case, outcomes):
    outcome = outcomes.get(case.id)
    assert outcome is not None, "the case runner did not run this case"
    check_outcome(case, outcome)


def test_table_is_well_formed():
    """Every case has an id, an expectation and a regex that compiles."""
    for case in CASES:
        re.compile(case.match)
        assert case.kind in ("py", "cli", "script")
        if case.kind == "py":
            assert case.raises is None or all(n.isidentifier() for n in case.raises.split("|"))
            assert not (case.raises is not None and case.match == ""), case.id
            compile(case.code, case.id, "exec")
        else:
            assert all(isinstance(s, int) for s in case.raises), case.id


if __name__ == "__main__" and sys.argv[1:2] == ["--zygote"]:
    sys.path.insert(0, str(Path(__file__).parent))
    _zygote(sys.argv[2])
