#!/usr/bin/env python3
"""One decoder, one process: load it, decode a split, time it, report JSON.

run_benchmark.py starts one of these per system and round, so each process's peak RSS is its
own (VmHWM from /proc/self/status, which exec resets, unlike getrusage's ru_maxrss). Only numpy
is imported at the top: the pyctcdecode system runs this same file in venv-pyctc (numpy<2),
where pywfst, kaldi-decoder and flashlight are not installed.

  python worker.py SYSTEM --data work/data --split test [--limit N] [--passes P]
                          [--graph work/graph_ctc] --params '{"beam": 16, ...}' --out FILE
  python worker.py SYSTEM ... --grid '[{...}, {...}]' --out FILE     # one pass per setting

SYSTEM: pywfst | kaldi | flashlight | pyctcdecode | greedy | pywfst-threads | compat-torchaudio
        | compat-pyctcdecode
(greedy: best token per frame, repeats merged, blanks dropped, '|' read as a space; no graph.
compat-*: pywfst's drop-ins, pywfst.compat.torchaudio.ctc_decoder and
pywfst.compat.pyctcdecode.build_ctcdecoder, called as torchaudio's and pyctcdecode's users call
them, with the flashlight and pyctcdecode systems' settings; their graphs come from pywfst's
graph cache, $PYWFST_CACHE, built on the first call.)

Timing: only the decode calls (and, where a system needs it to give words, its own traceback),
per utterance with time.perf_counter; never loading. A warm-up decode of the first few
utterances runs before the timed passes.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

WARMUP_UTTERANCES = 5


def rss_mib() -> dict:
    """Current and peak resident set size of this process (MiB), from /proc/self/status."""
    values = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, kib = line.split()[:2]
                values["rss" if key == "VmRSS:" else "peak"] = round(int(kib) / 1024, 1)
    return values


def load_split(data_dir: str, split: str, limit: int | None):
    archive = np.load(os.path.join(data_dir, f"{split}.npz"))
    lengths = archive["lengths"]
    emissions = archive["emissions"]
    with open(os.path.join(data_dir, f"{split}.json")) as handle:
        refs = json.load(handle)
    count = len(lengths) if limit is None else min(limit, len(lengths))
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    # Each utterance its own C-contiguous float32 array (flashlight reads a raw pointer).
    utterances = [np.ascontiguousarray(emissions[offsets[i]:offsets[i + 1]], dtype=np.float32)
                  for i in range(count)]
    return utterances, refs[:count]


def read_tokens(data_dir: str) -> list[str]:
    with open(os.path.join(data_dir, "tokens.txt")) as handle:
        return [line.split()[0] for line in handle if line.strip()]


# --------------------------------------------------------------------------- systems
# Each setup returns decode(utterance) -> dict(text=..., and optionally word_ids/cost).


_CACHE: dict = {}  # heavy objects shared by the settings of a --grid run


def cached(key, make):
    if key not in _CACHE:
        _CACHE[key] = make()
    return _CACHE[key]


def setup_pywfst(args, params):
    import pywfst

    graph = cached(("graph", args.graph), lambda: pywfst.Graph.load(args.graph))
    decoder = pywfst.Decoder(graph, beam=params["beam"], max_active=params["max_active"],
                             min_active=params["min_active"],
                             acoustic_scale=params["acoustic_scale"], num_threads=1)

    def decode(emissions):
        result = decoder.decode(emissions)
        return {"text": result.text, "word_ids": result.word_ids, "cost": result.cost,
                "reached_final": result.reached_final}
    return decode, {"keep": (graph, decoder)}


def setup_kaldi(args, params):
    import kaldi_decoder
    import kaldifst

    graph = kaldifst.StdVectorFst.read(os.path.join(args.graph, "HCLG.fst"))
    words = {}
    with open(os.path.join(args.graph, "words.txt")) as handle:
        for line in handle:
            symbol, index = line.split()
            words[int(index)] = symbol
    options = kaldi_decoder.FasterDecoderOptions(beam=params["beam"],
                                                 max_active=params["max_active"],
                                                 min_active=params["min_active"])
    decoder = kaldi_decoder.FasterDecoder(graph, options)  # holds a reference: keep graph alive
    scale = params["acoustic_scale"]

    def prepare(emissions):  # DecodableCtc has no acoustic scale: scale the scores (untimed)
        return np.ascontiguousarray(emissions * scale, dtype=np.float32)

    def decode(scaled):
        decoder.decode(kaldi_decoder.DecodableCtc(scaled))
        ok, lattice = decoder.get_best_path()
        if not ok:
            return {"text": "", "word_ids": [], "cost": math.inf, "reached_final": False}
        _, _, word_ids, weight = kaldifst.get_linear_symbol_sequence(lattice)
        word_ids = [int(w) for w in word_ids]
        return {"text": " ".join(words[w] for w in word_ids), "word_ids": word_ids,
                "cost": float(weight.value1 + weight.value2),
                "reached_final": bool(decoder.reached_final())}
    return decode, {"keep": (graph, decoder), "prepare": prepare}


def setup_flashlight(args, params):
    from flashlight.lib.text import decoder as fld
    from flashlight.lib.text.dictionary import Dictionary, create_word_dict, load_words

    def make():
        token_dict = Dictionary(read_tokens(args.data))
        lexicon = load_words(os.path.join(args.data, "lexicon_fl.txt"))  # adds <unk>
        word_dict = create_word_dict(lexicon)
        lm = fld.KenLM(os.path.join(args.data, "lm.arpa"), word_dict)
        trie = fld.Trie(token_dict.index_size(), token_dict.get_index("|"))
        start = lm.start(False)
        for word, spellings in lexicon.items():  # as torchaudio's ctc_decoder builds it
            word_index = word_dict.get_index(word)
            _, unigram = lm.score(start, word_index)
            for spelling in spellings:
                trie.insert([token_dict.get_index(t) for t in spelling], word_index, unigram)
        trie.smear(fld.SmearingMode.MAX)
        return token_dict, word_dict, lm, trie

    token_dict, word_dict, lm, trie = cached(("flashlight", args.data), make)
    silence, blank = token_dict.get_index("|"), token_dict.get_index("<blk>")
    options = fld.LexiconDecoderOptions(
        beam_size=params["beam_size"],
        beam_size_token=params.get("beam_size_token") or token_dict.index_size(),
        beam_threshold=params["beam_threshold"], lm_weight=params["lm_weight"],
        word_score=params["word_score"], unk_score=-math.inf, sil_score=params["sil_score"],
        log_add=False, criterion_type=fld.CriterionType.CTC)
    decoder = fld.LexiconDecoder(options, trie, lm, silence, blank,
                                 word_dict.get_index("<unk>"), [], False)

    def decode(emissions):
        steps, columns = emissions.shape
        # emissions stays referenced (and contiguous float32) for the whole call
        best = decoder.decode(emissions.ctypes.data, steps, columns)[0]
        words = [word_dict.get_entry(w) for w in best.words if w >= 0]
        return {"text": " ".join(words), "score": float(best.score)}
    return decode, {"keep": (token_dict, word_dict, lm, trie, decoder)}


def pyctc_labels(data_dir: str) -> list[str]:
    """pyctcdecode's labels for the tokens: the blank "", the word delimiter " "."""
    return [{"<blk>": "", "|": " "}.get(t, t) for t in read_tokens(data_dir)]


def pyctc_decode(decoder, params):
    """decode(emissions) for pyctcdecode's decoder or pywfst's drop-in: the same call."""
    def decode(emissions):
        text = decoder.decode(emissions, beam_width=params["beam_width"],
                              beam_prune_logp=params["beam_prune_logp"],
                              token_min_logp=params["token_min_logp"])
        return {"text": " ".join(text.split())}
    return decode


def setup_pyctcdecode(args, params):
    import logging

    from pyctcdecode import build_ctcdecoder

    logging.getLogger("pyctcdecode").setLevel(logging.ERROR)
    labels = pyctc_labels(args.data)
    decoder = cached(("pyctcdecode", args.data), lambda: build_ctcdecoder(
        labels, kenlm_model_path=os.path.join(args.data, "lm.arpa")))
    decoder.reset_params(alpha=params["alpha"], beta=params["beta"],
                         unk_score_offset=float(params.get("unk_score_offset", -10.0)))
    return pyctc_decode(decoder, params), {"keep": decoder}


def setup_compat_torchaudio(args, params):
    """pywfst.compat.torchaudio.ctc_decoder with the flashlight system's files and settings, as a
    torchaudio user calls ctc_decoder: [B, T, V] float tensor in, best hypothesis's words out."""
    import torch

    from pywfst.compat.torchaudio import ctc_decoder

    decoder = ctc_decoder(lexicon=os.path.join(args.data, "lexicon_fl.txt"),
                          tokens=read_tokens(args.data), lm=os.path.join(args.data, "lm.arpa"),
                          nbest=1, beam_size=params["beam_size"],
                          beam_size_token=params.get("beam_size_token"),
                          beam_threshold=params["beam_threshold"], lm_weight=params["lm_weight"],
                          word_score=params["word_score"], sil_score=params["sil_score"],
                          blank_token="<blk>", sil_token="|")

    def prepare(emissions):  # [1, T, V], a view of the array (untimed, like flashlight's pointer)
        return torch.from_numpy(emissions)[None]

    def decode(batch):
        best = decoder(batch)[0][0]
        return {"text": " ".join(best.words), "score": float(best.score)}
    return decode, {"keep": decoder, "prepare": prepare}


def setup_compat_pyctcdecode(args, params):
    """pywfst.compat.pyctcdecode.build_ctcdecoder with the pyctcdecode system's labels, ARPA and
    settings (alpha and beta given to build_ctcdecoder: what reset_params sets in the peer)."""
    from pywfst.compat.pyctcdecode import build_ctcdecoder

    labels = pyctc_labels(args.data)
    decoder = build_ctcdecoder(labels, kenlm_model_path=os.path.join(args.data, "lm.arpa"),
                               alpha=params["alpha"], beta=params["beta"],
                               unk_score_offset=float(params.get("unk_score_offset", -10.0)))
    decoder.graph.native  # the drop-in reads the graph's arcs on its first decode: here, in load
    return pyctc_decode(decoder, params), {"keep": decoder}


def setup_greedy(args, params):
    from pywfst.synthetic import greedy_text

    tokens = read_tokens(args.data)
    blank = tokens.index("<blk>")

    def decode(emissions):
        return {"text": greedy_text(emissions, tokens, blank=blank)}
    return decode, {}


SETUPS = {"greedy": setup_greedy, "pywfst": setup_pywfst, "kaldi": setup_kaldi,
          "flashlight": setup_flashlight, "pyctcdecode": setup_pyctcdecode,
          "compat-torchaudio": setup_compat_torchaudio,
          "compat-pyctcdecode": setup_compat_pyctcdecode}


# --------------------------------------------------------------------------- runs


def run_single(args, params, utterances):
    t0 = time.perf_counter()
    decode, extra = SETUPS[args.system](args, params)
    load_seconds = time.perf_counter() - t0
    rss_after_load = rss_mib()["rss"]
    prepare = extra.get("prepare", lambda e: e)
    inputs = [prepare(u) for u in utterances]
    for item in inputs[:WARMUP_UTTERANCES]:
        decode(item)
    passes, outputs = [], None
    for _ in range(args.passes):
        times, results = [], []
        for item in inputs:
            start = time.perf_counter()
            out = decode(item)
            times.append(time.perf_counter() - start)
            results.append(out)
        passes.append(times)
        if outputs is None:
            outputs = results
        elif [o["text"] for o in outputs] != [r["text"] for r in results]:
            raise SystemExit(f"{args.system}: results differ between passes")
    return {"load_seconds": load_seconds, "rss_after_load_mib": rss_after_load,
            "pass_seconds": [sum(t) for t in passes],
            "utterance_seconds": [list(map(float, col)) for col in zip(*passes)],
            "outputs": outputs}


def run_grid(args, grid, utterances):
    """One untimed-load, one-pass decode per setting (weight tuning on the dev split)."""
    rows = []
    for params in grid:
        decode, extra = SETUPS[args.system](args, params)
        prepare = extra.get("prepare", lambda e: e)
        start = time.perf_counter()
        texts = [decode(prepare(u))["text"] for u in utterances]
        rows.append({"params": params, "seconds": time.perf_counter() - start, "texts": texts})
    return {"grid": rows}


def control_scaling(thread_counts, passes: int, blocks: int = 400) -> dict:
    """What this machine gives right now: the same GIL-free work (sha256 of 1 MB blocks) on 1 and
    2 threads. On a shared machine another process can hold a core; then no decoder scales."""
    import hashlib
    import threading

    block = b"x" * (1 << 20)

    def burn(count):
        for _ in range(count):
            hashlib.sha256(block).digest()

    seconds = {n: [] for n in thread_counts}
    for _ in range(passes):
        for n in thread_counts:
            threads = [threading.Thread(target=burn, args=(blocks // n,)) for _ in range(n)]
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            seconds[n].append(time.perf_counter() - start)
    return {str(n): s for n, s in seconds.items()}


def run_threads(args, params, utterances):
    """decode_batch over the whole split with 1 and with 2 threads, alternating; before and after,
    the same thread counts on a control workload."""
    import pywfst

    t0 = time.perf_counter()
    graph = pywfst.Graph.load(args.graph)
    decoders = {n: pywfst.Decoder(graph, beam=params["beam"], max_active=params["max_active"],
                                  min_active=params["min_active"],
                                  acoustic_scale=params["acoustic_scale"], num_threads=n)
                for n in args.threads}
    load_seconds = time.perf_counter() - t0
    rss_after_load = rss_mib()["rss"]
    for decoder in decoders.values():
        decoder.decode_batch(utterances[:WARMUP_UTTERANCES * 2])
    control_before = control_scaling(args.threads, 3)
    seconds = {n: [] for n in args.threads}
    cpu = {n: [] for n in args.threads}  # process CPU time: were the cores there to be had?
    texts = {}
    for _ in range(args.passes):
        for n, decoder in decoders.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            results = decoder.decode_batch(utterances)
            seconds[n].append(time.perf_counter() - start)
            cpu[n].append(time.process_time() - start_cpu)
            texts[n] = [r.text for r in results]
    first = texts[args.threads[0]]
    return {"control_seconds_before": control_before,
            "control_seconds_after": control_scaling(args.threads, 3),"load_seconds": load_seconds, "rss_after_load_mib": rss_after_load,
            "batch_seconds": {str(n): s for n, s in seconds.items()},
            "cpu_seconds": {str(n): c for n, c in cpu.items()},
            "same_results_across_thread_counts": all(t == first for t in texts.values()),
            "outputs": [{"text": t} for t in first]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("system", choices=sorted(SETUPS) + ["pywfst-threads"])
    parser.add_argument("--data", required=True)
    parser.add_argument("--graph")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--passes", type=int, default=1)
    parser.add_argument("--threads", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2])
    parser.add_argument("--params", default="{}", help="JSON object of decoder settings")
    parser.add_argument("--grid", help="JSON list of settings: decode each once (tuning)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    params = json.loads(args.params)
    utterances, refs = load_split(args.data, args.split, args.limit)
    if args.grid:
        report = run_grid(args, json.loads(args.grid), utterances)
    elif args.system == "pywfst-threads":
        report = run_threads(args, params, utterances)
    else:
        report = run_single(args, params, utterances)
    native = sys.modules.get("pywfst._core")
    if native is not None:  # which build of the native module this process ran
        report["pywfst_native_mtime"] = os.path.getmtime(native.__file__)
    report.update(system=args.system, params=params, split=args.split,
                  utterances=len(utterances), frames=int(sum(len(u) for u in utterances)),
                  refs=refs, peak_rss_mib=rss_mib()["peak"], python=sys.version.split()[0],
                  numpy=np.__version__)
    with open(args.out, "w") as handle:
        json.dump(report, handle)


if __name__ == "__main__":
    main()
