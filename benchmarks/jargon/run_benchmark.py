#!/usr/bin/env python3
"""Jargon benchmark: domain-term recall, false alarms and WER of a general decoder with and
without the medical and legal lexicons injected, on the corpus's test sets.

  . .venv/bin/activate
  python benchmarks/jargon/run_benchmark.py                    # full run (bundled model)
  python benchmarks/jargon/run_benchmark.py --quick            # 5 utterances per domain
  python benchmarks/jargon/run_benchmark.py --synthetic        # simulated emissions, no audio
  python benchmarks/jargon/run_benchmark.py --model m.npz --weights 0.05 --quick

Configurations (configurations() below; each is a graph and the options its decoding adds):
  none         graph from the general LM only (corpus/work/text/general_lm_text.txt: WordNet
               text, no domain sentence; vocabulary without the domain train words)
  build-W      the same LM with `--extra-lexicon lexicons/medical.txt --extra-lexicon
               lexicons/legal.txt --extra-weight W` (build-time injection)
  build-0.05+boost-B  the build-0.05 graph, every lexicon term boosted by B at run time
  slot-W       the general LM with one run-time class slot TERM taking W of the unigram mass
               (`--class-slot TERM`, class_weight W), filled before decoding with every term of
               both lexicons (Decoder.set_class("TERM", terms)): the same terms and share as
               build-W, so the same best paths are expected; reported with the time of preparing
               the entries (pywfst.ClassEntries) and the utterances whose 1-best words and cost
               equal build-W's

Steps: the general LM (corpus/make_lm.py --no-domain-vocabulary, cached in work/), one graph per
configuration (spelling, optional '|', cached while its inputs are the same), emissions of dev,
test and test_voice (the acoustic model's, cached per model and manifest; or --synthetic),
acoustic_scale tuned on dev with the `none` graph and kept for every configuration, then
--repeats rounds in which each configuration decodes each test set (one thread; hypotheses from
the first round, decode times the median over rounds; class slots are filled before the clock
starts, their preparation is timed on its own, --prepare-runs times).

Writes results/results.{json,md} (--quick and --synthetic add _quick / _synthetic to the names,
--tag T adds _T: e.g. `--model old.npz --tag old_model` keeps another model's figures beside).
Metric definitions: README.md.
"""
from __future__ import annotations

import argparse
import collections
import gc
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WORK = HERE / "work"
RESULTS = HERE / "results"
CORPUS = REPO / "corpus"
sys.path.insert(0, str(REPO))


def _benchmark_module(path: str):
    """A module of another benchmark, by path (benchmarks/decode and benchmarks/graph_build
    both have a prepare_data.py, so they cannot both be on sys.path)."""
    spec = importlib.util.spec_from_file_location(f"_jargon_{path.replace('/', '_')}",
                                                  REPO / "benchmarks" / f"{path}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_decode_data = _benchmark_module("decode/prepare_data")
EMISSION_DEFAULTS, spell, token_ids = (_decode_data.EMISSION_DEFAULTS, _decode_data.spell,
                                       _decode_data.token_ids)
machine_info = _benchmark_module("graph_build/bench_util").machine_info

import pywfst  # noqa: E402
from pywfst.am import AcousticModel, bundled_model_path  # noqa: E402
from pywfst.graph.build import file_sha256  # noqa: E402
from pywfst.metrics import error_rate  # noqa: E402
from pywfst.synthetic import simulate_ctc_emissions  # noqa: E402

LEXICONS = (REPO / "lexicons" / "medical.txt", REPO / "lexicons" / "legal.txt")
TERM_LISTS = {"medical": CORPUS / "sentences" / "medical_terms.txt",
              "legal": CORPUS / "sentences" / "legal_terms.txt"}
DOMAINS = ("general", "medical", "legal")
SPLITS = ("test", "test_voice")
SPLIT_LABELS = {"test": "test: training voices, augmented (speed, noise, reverberation)",
                "test_voice": "test_voice: the same sentences, held-out voice (flite slt), clean"}
WEIGHTS = (0.01, 0.05, 0.2)
ACOUSTIC_SCALES = (0.5, 0.7, 1.0, 1.4, 2.0)
TARGET_RECALL = 95.0  # percent
TARGET_GENERAL_WER_CHANGE = 0.2  # absolute, percent points, against `none`
TARGET_PREPARE_MS_PER_1000 = 10.0  # class slots: ClassEntries per 1,000 entries
COST_TOLERANCE = 1e-3  # class slots: a total cost this close to the static build's is the same
SLOT = "TERM"  # the class slot of the slot-W rows
SYNTHETIC_FRAME_SHIFT = 0.04  # seconds per simulated frame (as benchmarks/decode assumes)
QUICK_PER_DOMAIN = 5


def log(message: str) -> None:
    print(f"[jargon-bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --------------------------------------------------------------------------- configurations


@dataclass
class Configuration:
    label: str
    extra_lexicons: tuple = ()  # build_graph(extra_lexicons=...)
    extra_weight: float | None = None  # build_graph(extra_weight=...)
    class_slots: tuple = ()  # build_graph(class_slots=...): names of run-time class slots
    class_weight: float | None = None  # build_graph(class_weight=...)
    classes: dict = field(default_factory=dict)  # slot name -> entries, Decoder.set_class
    decode: dict = field(default_factory=dict)  # extra keyword arguments of decode_batch
    same_as: str | None = None  # the configuration whose 1-best (words, cost) this one should give

    def graph_options(self) -> dict:
        """build_graph's keyword arguments; the class options only when set (part of the graph
        cache's stamp, so a change rebuilds the graph)."""
        options = {"extra_lexicons": [str(p) for p in self.extra_lexicons]}
        if self.extra_weight is not None:
            options["extra_weight"] = self.extra_weight
        if self.class_slots:
            options["class_slots"] = list(self.class_slots)
        if self.class_weight is not None:
            options["class_weight"] = self.class_weight
        return options


def jargon_terms() -> dict[str, float]:
    """Every term of the shipped lexicons, as boosting phrases (weight set per configuration)."""
    from pywfst.graph.jargon import read_jargon_lexicon

    return {entry.term: 0.0 for path in LEXICONS for entry in read_jargon_lexicon(path)}


def configurations(weights, boosts, slot_weights) -> dict[str, Configuration]:
    """`none` first: the baseline every other row is compared with. Boosting rows decode the
    graph injected with extra weight 0.05, every lexicon term boosted by the same weight. Slot
    rows fill a class slot with every lexicon term at run time; each is checked against the
    build-time row of the same weight when that row is there."""
    configs = {"none": Configuration("no injection (general LM only)")}
    for weight in weights:
        configs[f"build-{weight:g}"] = Configuration(
            f"build-time injection, medical + legal lexicons, extra weight {weight:g}",
            extra_lexicons=LEXICONS, extra_weight=weight)
    terms = jargon_terms() if boosts or slot_weights else {}
    for boost in boosts:
        configs[f"build-0.05+boost-{boost:g}"] = Configuration(
            f"build-time injection (0.05) + run-time boosting of all {len(terms)} terms by {boost:g}",
            extra_lexicons=LEXICONS, extra_weight=0.05,
            decode={"boost": {term: boost for term in terms}})
    for weight in slot_weights:
        static = f"build-{weight:g}"
        configs[f"slot-{weight:g}"] = Configuration(
            f"run-time class slot ({weight:g}), all {len(terms)} lexicon terms set at run time",
            class_slots=(SLOT,), class_weight=weight, classes={SLOT: list(terms)},
            same_as=static if static in configs else None)
    return configs


# --------------------------------------------------------------------------- terms


class Terms:
    """The domain terms of the evaluation sentences (corpus/sentences/*_terms.txt), counted as
    whole-word sequences; a term inside a longer term counts too (both are counted)."""

    def __init__(self, lists: dict[str, Path]):
        self.domain: dict[tuple, str] = {}
        for domain, path in lists.items():
            for line in path.read_text().splitlines():
                if line.strip() and not line.startswith("#"):
                    self.domain.setdefault(tuple(line.split()), domain)
        self.by_first: dict[str, list[tuple]] = collections.defaultdict(list)
        for term in self.domain:
            self.by_first[term[0]].append(term)

    def count(self, text: str) -> collections.Counter:
        words = text.split()
        found: collections.Counter = collections.Counter()
        for i, word in enumerate(words):
            for term in self.by_first.get(word, ()):
                if tuple(words[i:i + len(term)]) == term:
                    found[term] += 1
        return found


# --------------------------------------------------------------------------- data


@dataclass
class Utterance:
    id: str
    text: str
    domain: str
    seconds: float
    emissions: np.ndarray


def read_manifest(path: Path, per_domain: int | None) -> list[dict]:
    entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if per_domain is None:
        return entries
    counts: collections.Counter = collections.Counter()
    chosen = []
    for entry in entries:
        counts[entry["domain"]] += 1
        if counts[entry["domain"]] <= per_domain:
            chosen.append(entry)
    return chosen


def model_emissions(model, model_sha: str, manifest: Path, entries: list[dict],
                    split: str) -> dict[str, np.ndarray]:
    """The model's emissions of ``entries`` by id, from the cache in work/emissions/ (one .npz
    per model, manifest and split, grown as more utterances are asked for)."""
    cache = WORK / "emissions" / f"{split}-{model_sha[:12]}-{file_sha256(manifest)[:12]}.npz"
    known: dict[str, np.ndarray] = {}
    if cache.exists():
        with np.load(cache) as archive:
            known = {name: archive[name] for name in archive.files if name != "frame_shift"}
    missing = [e for e in entries if e["id"] not in known]
    if missing:
        log(f"{split}: emissions of {len(missing)} utterances ({len(known)} cached)")
        started = time.perf_counter()
        for index, entry in enumerate(missing):
            known[entry["id"]] = model.emissions(manifest.parent / entry["audio"])
            if (index + 1) % 100 == 0:
                log(f"  {index + 1}/{len(missing)} ({time.perf_counter() - started:.0f} s)")
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(".partial.npz")
        # utterances by id plus the frame shift: the layout `pywfst decode` reads
        np.savez(partial, frame_shift=model.frame_shift, **known)
        partial.replace(cache)
    return {e["id"]: known[e["id"]] for e in entries}


def synthetic_emissions(entries: list[dict], seed: int) -> dict[str, np.ndarray]:
    """Simulated char-CTC emissions of each reference (benchmarks/decode's settings), from a
    generator seeded by the utterance id, so a subset gets the same arrays as the full set."""
    ids = token_ids()
    out = {}
    for entry in entries:
        rng = np.random.default_rng([seed, zlib.crc32(entry["id"].encode())])
        out[entry["id"]] = simulate_ctc_emissions(
            spell(entry["text"].split(), ids), len(ids), rng, **EMISSION_DEFAULTS)
    return out


def load_split(split: str, args, source) -> list[Utterance]:
    manifest = args.audio / f"{split}.jsonl"
    entries = read_manifest(manifest, args.per_domain)
    if source["kind"] == "synthetic":
        arrays = synthetic_emissions(entries, args.seed)
    else:
        arrays = model_emissions(source["model"], source["sha256"], manifest, entries, split)
    frame_shift = source["frame_shift"]
    return [Utterance(e["id"], e["text"], e["domain"],
                      e["duration"] if source["kind"] == "model"
                      else len(arrays[e["id"]]) * frame_shift, arrays[e["id"]])
            for e in entries]


# --------------------------------------------------------------------------- LM and graphs


def stamp_matches(path: Path, stamp: dict) -> bool:
    return path.exists() and json.loads(path.read_text()) == stamp


def general_lm(text: Path) -> Path:
    """corpus/make_lm.py on the general LM text, without the domain vocabulary (cached)."""
    out = WORK / "lm_general"
    stamp = {"text_sha256": file_sha256(text), "make_lm_sha256": file_sha256(CORPUS / "make_lm.py"),
             "options": ["--no-domain-vocabulary"]}
    if stamp_matches(out / "stamp.json", stamp) and (out / "lm.arpa").exists():
        return out / "lm.arpa"
    log(f"general LM: corpus/make_lm.py --text {text} --no-domain-vocabulary (a few minutes)")
    subprocess.run([sys.executable, str(CORPUS / "make_lm.py"), "--text", str(text),
                    "--out", str(out), "--no-domain-vocabulary"], check=True)
    (out / "stamp.json").write_text(json.dumps(stamp, indent=1) + "\n")
    return out / "lm.arpa"


def build_or_load(name: str, config: Configuration, tokens: Path, lm: Path) -> tuple:
    """The configuration's graph (rebuilt only when its inputs, options or the graph compiler's
    sources changed) and its build summary."""
    out = WORK / "graphs" / name
    options = config.graph_options()
    compiler = sorted((REPO / "pywfst" / "graph").glob("*.py"))
    stamp = {"tokens": tokens.read_text(), "lm_sha256": file_sha256(lm),
             "lexicons_sha256": [file_sha256(Path(p)) for p in options["extra_lexicons"]],
             "options": options, "compiler_sha256": [file_sha256(p) for p in compiler]}
    stamp_path = out.with_name(f"{name}.stamp.json")
    if stamp_matches(stamp_path, stamp) and (out / "HCLG.fst").exists():
        graph = pywfst.Graph.load(out)
    else:
        log(f"graph {name}: building")
        graph = pywfst.build_graph(tokens, out, spell=True, word_boundary="|",
                                   boundary_mandatory=False, lm=lm, progress=False, force=True,
                                   **options)
        stamp_path.write_text(json.dumps(stamp, indent=1) + "\n")
    info = json.loads((out / "graph.json").read_text())
    summary = {"build_seconds": round(sum(s["seconds"] for s in info["build"]["stages"]), 1),
               "hclg": info["fst_counts"]["HCLG"], "words": info["num_words"],
               "hclg_mb": round((out / "HCLG.fst").stat().st_size / 2**20, 1),
               "extra_vocabulary": info.get("extra_vocabulary")}
    return graph, summary


def graph_words(graph_dir: Path) -> set[str]:
    return {line.split()[0] for line in (graph_dir / "words.txt").read_text().splitlines()}


# --------------------------------------------------------------------------- decoding, metrics


def decode(graph, utterances: list[Utterance], args, scale: float, frame_shift: float,
           extra: dict, classes: dict | None = None) -> tuple[list[tuple], float]:
    """Each utterance's best path as (words, total cost), and the seconds decode_batch took.
    ``classes`` (slot name -> entries or pywfst.ClassEntries) are set before the clock starts."""
    decoder = pywfst.Decoder(graph, beam=args.beam, acoustic_scale=scale,
                             frame_shift=frame_shift, num_threads=1)
    for name, entries in (classes or {}).items():
        decoder.set_class(name, entries)
    started = time.perf_counter()
    results = decoder.decode_batch([u.emissions for u in utterances],
                                   names=[u.id for u in utterances], **extra)
    elapsed = time.perf_counter() - started
    return [(tuple(r.words), r.cost) for r in results], elapsed


def text_of(path: tuple) -> str:
    return " ".join(path[0])


def prepare_times(graph_dir: Path, config: Configuration, runs: int) -> dict:
    """Per class slot: seconds of pywfst.ClassEntries(graph, slot, entries) on a freshly loaded
    graph (the first call also reads the slot topology, once per Graph object), then the median
    of ``runs`` further calls, and of ``runs`` calls with Python's cyclic garbage collector off
    (a collection during the call adds tens of ms in a process with a big heap)."""
    graph = pywfst.Graph.load(graph_dir)
    out = {}
    for slot, entries in config.classes.items():
        started = time.perf_counter()
        prepared = pywfst.ClassEntries(graph, slot, entries)
        first = time.perf_counter() - started
        times = {True: [], False: []}  # collector on, off
        for collect in (True, False):
            for _ in range(runs):
                if not collect:
                    gc.disable()
                started = time.perf_counter()
                again = pywfst.ClassEntries(graph, slot, entries)
                times[collect].append(time.perf_counter() - started)
                gc.enable()
                del again  # freed outside the clock
        median_ms = 1000 * statistics.median(times[True])
        median_off_ms = 1000 * statistics.median(times[False])
        per_1000 = 1000 * median_ms / len(prepared)
        out[slot] = {"entries": len(prepared), "words": len(prepared.words),
                     "first_ms": round(1000 * first, 1), "median_ms": round(median_ms, 1),
                     "runs_ms": [round(1000 * t, 1) for t in times[True]],
                     "ms_per_1000": round(per_1000, 2),
                     "median_ms_gc_off": round(median_off_ms, 1),
                     "runs_ms_gc_off": [round(1000 * t, 1) for t in times[False]],
                     "ms_per_1000_gc_off": round(1000 * median_off_ms / len(prepared), 2),
                     "target_ms_per_1000": TARGET_PREPARE_MS_PER_1000,
                     "met": per_1000 <= TARGET_PREPARE_MS_PER_1000}
    return out


def agreement(utterances: list[Utterance], paths: list[tuple], reference: list[tuple],
              reference_name: str) -> dict:
    """How many utterances get the reference configuration's 1-best: the same words, the same
    words with a total cost within COST_TOLERANCE, and a total cost within COST_TOLERANCE
    (other words at the same cost: an exact tie between best paths); the utterances that differ."""
    same_words = same = same_cost = 0
    differences, cost_gaps = [], []
    for utterance, (words, cost), (ref_words, ref_cost) in zip(utterances, paths, reference):
        gap = abs(cost - ref_cost)
        same_cost += gap <= COST_TOLERANCE
        if words == ref_words:
            same_words += 1
            cost_gaps.append(gap)
        if words == ref_words and gap <= COST_TOLERANCE:
            same += 1
        else:
            differences.append({"id": utterance.id, "hyp": " ".join(words), "cost": round(cost, 4),
                                reference_name: " ".join(ref_words),
                                f"{reference_name}_cost": round(ref_cost, 4)})
    return {"with": reference_name, "utterances": len(utterances), "same_words": same_words,
            "same_words_and_cost": same, "same_cost": same_cost, "cost_tolerance": COST_TOLERANCE,
            "max_cost_difference_same_words": (round(max(cost_gaps), 6) if cost_gaps else None),
            "differences": differences}


def wer_of(utterances, hypotheses, domains) -> float | None:
    pairs = [(u.text, h) for u, h in zip(utterances, hypotheses) if u.domain in domains]
    return round(error_rate(pairs), 2) if pairs else None


def percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def score(utterances: list[Utterance], hypotheses: list[str], terms: Terms,
          baseline_words: set[str]) -> dict:
    """Term recall (domain sentences), false alarms, WERs. See README.md for the definitions."""
    hits: collections.Counter = collections.Counter()
    refs: collections.Counter = collections.Counter()
    alarms: collections.Counter = collections.Counter()
    sentences = collections.Counter(u.domain for u in utterances)
    for utterance, hypothesis in zip(utterances, hypotheses):
        in_ref, in_hyp = terms.count(utterance.text), terms.count(hypothesis)
        group = "general" if utterance.domain == "general" else "domain"
        alarms[group] += sum(max(0, n - in_ref[t]) for t, n in in_hyp.items())
        if group == "general":
            continue
        for term, n in in_ref.items():
            found = min(n, in_hyp[term])
            known = "in_vocabulary" if set(term) <= baseline_words else "oov"
            for key in ("all", utterance.domain, known):
                refs[key] += n
                hits[key] += found
    domain_sentences = sentences["medical"] + sentences["legal"]
    return {
        "sentences": dict(sentences),
        "term_occurrences": dict(refs),
        "recall": {key: percent(hits[key], refs[key]) for key in refs},
        "false_alarms": {
            "general": alarms["general"],
            "general_per_100": percent(alarms["general"], sentences["general"]),
            "domain": alarms["domain"],
            "domain_per_100": percent(alarms["domain"], domain_sentences)},
        "wer": {"general": wer_of(utterances, hypotheses, ("general",)),
                "domain": wer_of(utterances, hypotheses, ("medical", "legal")),
                "medical": wer_of(utterances, hypotheses, ("medical",)),
                "legal": wer_of(utterances, hypotheses, ("legal",)),
                "all": wer_of(utterances, hypotheses, DOMAINS)},
    }


def tune_scale(graph, dev: list[Utterance], args, frame_shift: float) -> dict:
    """acoustic_scale with the lowest dev WER (all dev sentences) on the `none` graph."""
    grid = {}
    for scale in args.scales:
        paths, _ = decode(graph, dev, args, scale, frame_shift, {})
        grid[scale] = wer_of(dev, [text_of(p) for p in paths], DOMAINS)
        log(f"  acoustic_scale {scale:g}: dev WER {grid[scale]:.2f} %")
    best = min(grid, key=lambda s: (grid[s], abs(np.log(s))))
    return {"acoustic_scale": best, "dev_wer": {f"{s:g}": w for s, w in grid.items()},
            "dev_utterances": len(dev)}


def target(metrics: dict, baseline: dict) -> dict:
    recall = metrics["recall"].get("all")
    change = round(metrics["wer"]["general"] - baseline["wer"]["general"], 2)
    return {"recall": recall, "general_wer_change": change,
            "met": recall is not None and recall >= TARGET_RECALL
            and change <= TARGET_GENERAL_WER_CHANGE}


# --------------------------------------------------------------------------- report


def fmt(value, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def write_markdown(result: dict) -> str:
    s = result["settings"]
    lines = [f"# Jargon benchmark{' (quick)' if s['quick'] else ''}", "",
             f"Emissions: {result['emissions']['description']}. LM: {result['lm']['description']}. "
             f"Decoder: beam {s['beam']}, one thread, acoustic_scale "
             f"{result['tuning']['acoustic_scale']:g} (tuned on dev WER with the `none` graph over "
             f"{', '.join(result['tuning']['dev_wer'])}; kept for every configuration). "
             f"Target: term recall ≥ {TARGET_RECALL:g} % with general WER change ≤ "
             f"+{TARGET_GENERAL_WER_CHANGE:g} (absolute) against `none`, on each test set.", ""]
    lines += ["## Graphs", "", "| configuration | words | HCLG states | HCLG arcs | HCLG MB | "
              "build s |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, config in result["configurations"].items():
        g = config["graph"]
        lines.append(f"| `{name}` | {g['words']:,} | {g['hclg']['states']:,} | "
                     f"{g['hclg']['arcs']:,} | {g['hclg_mb']} | {g['build_seconds']} |")
    for split in s["splits"]:
        first = next(iter(result["configurations"].values()))["splits"][split]
        n, occ = first["sentences"], first["term_occurrences"]
        lines += ["", f"## {SPLIT_LABELS.get(split, split)}", "",
                  f"{n.get('general', 0)} general, {n.get('medical', 0)} medical, "
                  f"{n.get('legal', 0)} legal sentences; {occ.get('all', 0)} term occurrences in "
                  f"the domain sentences, {occ.get('oov', 0)} of them with a word outside the "
                  "`none` graph's vocabulary.", "",
                  "| configuration | recall % | medical | legal | in-vocab | OOV | FA general "
                  "/100 | FA domain /100 | WER general | Δ | WER domain | WER all | x-realtime "
                  "| target |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
                  "---: | ---: | --- |"]
        for name, config in result["configurations"].items():
            m = config["splits"][split]
            r, fa, w, t = m["recall"], m["false_alarms"], m["wer"], m["target"]
            lines.append(
                f"| `{name}` | {fmt(r.get('all'), 1)} | {fmt(r.get('medical'), 1)} | "
                f"{fmt(r.get('legal'), 1)} | {fmt(r.get('in_vocabulary'), 1)} | "
                f"{fmt(r.get('oov'), 1)} | {fmt(fa['general_per_100'], 1)} | "
                f"{fmt(fa['domain_per_100'], 1)} | {fmt(w['general'])} | "
                f"{t['general_wer_change']:+.2f} | {fmt(w['domain'])} | {fmt(w['all'])} | "
                f"{m['x_realtime']:.0f} | {'met' if t['met'] else 'not met'} |")
    lines += class_slot_markdown(result)
    lines += ["", "Recall: share of the domain sentences' term occurrences that the hypothesis "
              "has too (whole words; a term inside a longer listed term counts as well); columns "
              "medical/legal by sentence, in-vocab/OOV by whether every word of the term is in "
              "the `none` graph. FA: hypothesis term occurrences beyond the reference's, per 100 "
              "sentences. x-realtime: audio seconds / decode seconds (median of "
              f"{s['repeats']} round(s)). Details: README.md.", "",
              f"Machine: {result['machine'].get('cpu', '?')}, {result['machine']['nproc']} cores, "
              f"load average {result['load_average']['start']} at the start, "
              f"{result['load_average']['end']} at the end. pywfst {result['pywfst']} "
              f"({source_note(result['sources'])}); {result['date']}; total "
              f"{result['seconds']:.0f} s."]
    return "\n".join(lines) + "\n"


def source_note(sources: dict) -> str:
    note = f"commit {sources['commit']}, native module built {sources['native_built']}"
    if sources["modified"]:
        note += ("; not committed at the start of the run: "
                 + ", ".join(line[3:] for line in sources["modified"]))
    if sources.get("native_file_replaced_during_run"):
        note += "; the native module's file was rebuilt during the run (the run kept the first)"
    return note


def class_slot_markdown(result: dict) -> list[str]:
    """The class-slot rows' preparation time and agreement with their static build."""
    s = result["settings"]
    slotted = {name: c for name, c in result["configurations"].items() if "prepare" in c}
    if not slotted:
        return []
    lines = ["", "## Run-time class slots", "",
             "| configuration | slot | entries | words | prepare ms | ms per 1,000 entries | "
             "GC off: ms (per 1,000) | first call ms | same 1-best as | "
             + " | ".join(s["splits"]) + " | target |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | "
             + " | ".join("---:" for _ in s["splits"]) + " | --- |"]
    differences = []
    for name, config in slotted.items():
        for slot, p in config["prepare"].items():
            agreed = []
            for split in s["splits"]:
                a = config["splits"][split].get("agreement")
                agreed.append(f"{a['same_words_and_cost']}/{a['utterances']} "
                              f"({a['same_cost']} same cost)" if a else "–")
                differences += [(name, split, d) for d in (a["differences"] if a else [])]
            same_as = config["class_slot_target"]["same_1best_as"]
            lines.append(f"| `{name}` | {slot} | {p['entries']:,} | {p['words']:,} | "
                         f"{p['median_ms']:.1f} | {p['ms_per_1000']:.2f} | "
                         f"{p['median_ms_gc_off']:.1f} ({p['ms_per_1000_gc_off']:.2f}) | "
                         f"{p['first_ms']:.1f} | "
                         f"{f'`{same_as}`' if same_as else '–'} | {' | '.join(agreed)} | "
                         f"{'met' if config['class_slot_target']['met'] else 'not met'} |")
    target = s["target"]["class_slot"]
    lines += ["", f"Prepare: `pywfst.ClassEntries(graph, slot, entries)` (spelling, prefix tree, "
              f"T ∘ tree in C++), median of {s['prepare_runs']} runs after a first call on a freshly "
              "loaded graph (the first call also reads the slot topology, once per graph); GC off: "
              f"{s['prepare_runs']} more runs with Python's cyclic garbage collector disabled (a "
              "collection during a call walks the whole heap). The target is judged on the first "
              "median. Same "
              "1-best: utterances whose 1-best words are identical to the static build's and whose "
              f"total cost (`Result.cost`) is within {target['cost_tolerance']:g} of it, out of all; "
              "in brackets, those whose 1-best cost is within it (the rest of them are exact ties "
              "between two best paths). "
              f"Target (issue): ≤ {target['prepare_ms_per_1000']:g} ms per 1,000 entries to "
              "prepare, the same 1-best as the static rebuild (judged on the cost: a tie may "
              "pick the other path)."]
    if differences:
        lines += ["", "Utterances that differ:", ""]
        for name, split, d in differences:
            same_as = result["configurations"][name]["class_slot_target"]["same_1best_as"]
            lines.append(f"- `{name}` {split} {d['id']}: cost {d['cost']} \"{d['hyp']}\" vs "
                         f"`{same_as}` {d[same_as + '_cost']} \"{d[same_as]}\"")
    return lines


def print_summary(result: dict) -> None:
    for split in result["settings"]["splits"]:
        print(f"\n{split}:  {'config':<12} {'recall':>7} {'FA gen/100':>10} {'FA dom/100':>10} "
              f"{'WER gen':>8} {'Δ':>6} {'WER dom':>8} {'WER all':>8} {'xRT':>6}  target")
        for name, config in result["configurations"].items():
            m = config["splits"][split]
            t = m["target"]
            print(f"{'':<{len(split) + 3}}{name:<12} {fmt(m['recall'].get('all'), 1):>7} "
                  f"{fmt(m['false_alarms']['general_per_100'], 1):>10} "
                  f"{fmt(m['false_alarms']['domain_per_100'], 1):>10} "
                  f"{fmt(m['wer']['general']):>8} {t['general_wer_change']:>+6.2f} "
                  f"{fmt(m['wer']['domain']):>8} {fmt(m['wer']['all']):>8} "
                  f"{m['x_realtime']:>6.0f}  {'met' if t['met'] else 'not met'}")
    for name, config in result["configurations"].items():
        print(f"{name}: target (recall ≥ {TARGET_RECALL:g} %, general WER change ≤ "
              f"+{TARGET_GENERAL_WER_CHANGE:g}) {'MET' if config['target_met'] else 'not met'}")
        for slot, p in config.get("prepare", {}).items():
            agreed = ", ".join(f"{split} {m['agreement']['same_words_and_cost']}/"
                               f"{m['agreement']['utterances']}"
                               for split, m in config["splits"].items() if "agreement" in m)
            print(f"{name}: {slot} prepared in {p['median_ms']:.1f} ms ({p['ms_per_1000']:.2f} ms "
                  f"per 1,000 of {p['entries']:,} entries); same 1-best as "
                  f"{config['class_slot_target']['same_1best_as']}: {agreed or '–'}; class-slot "
                  f"target {'MET' if config['class_slot_target']['met'] else 'not met'}")


# --------------------------------------------------------------------------- main


def source_state() -> dict:
    """The commit, the pywfst/ and csrc/ files that differ from it (the checkout is shared), and
    when the native module in use was built."""
    def git(*arguments) -> str:
        return subprocess.run(["git", "-C", str(REPO), *arguments], capture_output=True,
                              text=True).stdout

    return {"commit": git("rev-parse", "--short", "HEAD").strip(),
            "modified": git("status", "--porcelain", "--", "pywfst", "csrc").splitlines(),
            "native_built": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(
                os.path.getmtime(pywfst._core.__file__)))}


def emission_source(args) -> dict:
    if args.synthetic:
        return {"kind": "synthetic", "frame_shift": SYNTHETIC_FRAME_SHIFT,
                "description": "simulated char-CTC emissions of the references "
                               f"(pywfst.synthetic, {EMISSION_DEFAULTS}, seed {args.seed}; "
                               f"{SYNTHETIC_FRAME_SHIFT * 1000:g} ms frames)"}
    path = (args.model or bundled_model_path()).resolve()
    if not path.exists():
        raise SystemExit(f"{path}: no such model file (pass --model, or --synthetic)")
    model = AcousticModel.load(path)
    return {"kind": "model", "model": model, "sha256": file_sha256(path),
            "frame_shift": model.frame_shift,
            "description": f"acoustic model {path.name} ({model.network.shape.channels} channels, "
                           f"{model.network.shape.num_blocks} blocks) on the corpus audio"}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None,
                        help="acoustic model .npz (default: the bundled reference model)")
    parser.add_argument("--synthetic", action="store_true",
                        help="simulated emissions of the references instead of the model's")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_PER_DOMAIN} utterances per domain of each set, one round")
    parser.add_argument("--per-domain", type=int, default=None,
                        help="only the first N utterances of each domain per set")
    parser.add_argument("--boosts", default="2,5",
                        help="phrase-boost weights of the boosting rows (empty: none)")
    parser.add_argument("--weights", default=",".join(f"{w:g}" for w in WEIGHTS),
                        help="extra weights of the build-time rows (comma-separated)")
    parser.add_argument("--slot-weights", default="0.05",
                        help="class weights of the run-time class-slot rows (empty: none)")
    parser.add_argument("--prepare-runs", type=int, default=5,
                        help="timed runs of preparing the class entries (median reported)")
    parser.add_argument("--lm", type=Path, default=None,
                        help="ARPA LM instead of the general LM built from --lm-text")
    parser.add_argument("--lm-text", type=Path,
                        default=CORPUS / "work" / "text" / "general_lm_text.txt")
    parser.add_argument("--audio", type=Path, default=CORPUS / "work" / "audio",
                        help="folder of the {dev,test,test_voice}.jsonl manifests")
    parser.add_argument("--acoustic-scale", type=float, default=None,
                        help="use this scale instead of tuning it on dev")
    parser.add_argument("--scales", default=",".join(f"{s:g}" for s in ACOUSTIC_SCALES),
                        help="acoustic_scale grid for the dev tuning")
    parser.add_argument("--beam", type=float, default=16.0)
    parser.add_argument("--tag", help="added to the results' file names")
    parser.add_argument("--repeats", type=int, default=3, help="decoding rounds (timing)")
    parser.add_argument("--seed", type=int, default=1, help="--synthetic: emission seed")
    args = parser.parse_args()
    if args.quick:
        args.per_domain = args.per_domain or QUICK_PER_DOMAIN
        args.repeats = 1
    args.weights = [float(w) for w in args.weights.split(",") if w]
    args.boosts = [float(b) for b in args.boosts.split(",") if b]
    args.slot_weights = [float(w) for w in args.slot_weights.split(",") if w]
    args.scales = [float(s) for s in args.scales.split(",") if s]
    return args


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    load_start = os.getloadavg()
    sources = source_state()
    source = emission_source(args)
    WORK.mkdir(parents=True, exist_ok=True)
    tokens = WORK / "tokens.txt"
    if source["kind"] == "model":
        source["model"].write_tokens(tokens)
    else:
        tokens.write_text("".join(f"{t} {i}\n" for t, i in token_ids().items()))
    lm = args.lm.resolve() if args.lm else general_lm(args.lm_text)
    configs = configurations(args.weights, args.boosts, args.slot_weights)
    terms = Terms(TERM_LISTS)

    graphs, graph_info = {}, {}
    for name, config in configs.items():
        graph, graph_info[name] = build_or_load(name, config, tokens, lm)
        graphs[name] = graph.path
        del graph  # loaded again per round: one graph in memory at a time
    baseline_words = graph_words(Path(graphs["none"]))
    prepare = {}
    for name, config in configs.items():
        if config.classes:
            log(f"{name}: preparing the class entries ({args.prepare_runs} timed runs)")
            prepare[name] = prepare_times(graphs[name], config, args.prepare_runs)

    data = {split: load_split(split, args, source) for split in ("dev",) + SPLITS}
    frame_shift = source["frame_shift"]
    if args.acoustic_scale is None:
        log(f"tuning acoustic_scale on {len(data['dev'])} dev utterances (graph none)")
        tuning = tune_scale(pywfst.Graph.load(graphs["none"]), data["dev"], args, frame_shift)
    else:
        tuning = {"acoustic_scale": args.acoustic_scale, "dev_wer": {}, "dev_utterances": 0}
    scale = tuning["acoustic_scale"]
    log(f"acoustic_scale {scale:g} for every configuration")

    best: dict = collections.defaultdict(dict)  # name -> split -> [(words, cost)]
    seconds: dict = collections.defaultdict(lambda: collections.defaultdict(list))
    for round_index in range(args.repeats):
        for name, config in configs.items():
            graph = pywfst.Graph.load(graphs[name])
            classes = {slot: pywfst.ClassEntries(graph, slot, entries)
                       for slot, entries in config.classes.items()}
            for split in SPLITS:
                paths, elapsed = decode(graph, data[split], args, scale, frame_shift,
                                        config.decode, classes)
                best[name].setdefault(split, paths)
                seconds[name][split].append(elapsed)
            del graph, classes
        log(f"round {round_index + 1}/{args.repeats} done")
    hypotheses = {name: {split: [text_of(p) for p in paths] for split, paths in splits.items()}
                  for name, splits in best.items()}

    results = {}
    for name, config in configs.items():
        entry = {"label": config.label, "graph_options": config.graph_options(),
                 "decode_options": sorted(config.decode),
                 "classes": {slot: len(entries) for slot, entries in config.classes.items()},
                 "graph": graph_info[name], "splits": {}}
        if name in prepare:
            entry["prepare"] = prepare[name]
        for split in SPLITS:
            metrics = score(data[split], hypotheses[name][split], terms, baseline_words)
            if config.same_as:
                metrics["agreement"] = agreement(data[split], best[name][split],
                                                 best[config.same_as][split], config.same_as)
            audio = sum(u.seconds for u in data[split])
            decode_seconds = statistics.median(seconds[name][split])
            metrics.update(audio_seconds=round(audio, 1),
                           decode_seconds=round(decode_seconds, 3),
                           decode_seconds_rounds=[round(x, 3) for x in seconds[name][split]],
                           x_realtime=round(audio / decode_seconds, 1))
            entry["splits"][split] = metrics
        results[name] = entry
    for entry in results.values():
        for split, metrics in entry["splits"].items():
            metrics["target"] = target(metrics, results["none"]["splits"][split])
        entry["target_met"] = all(m["target"]["met"] for m in entry["splits"].values())
        if "prepare" in entry:  # the class-slot target: fast to prepare, the static build's 1-best
            entry["class_slot_target"] = {
                "ms_per_1000": TARGET_PREPARE_MS_PER_1000,
                "same_1best_as": configs[name].same_as,
                "met": (all(p["met"] for p in entry["prepare"].values())
                        and configs[name].same_as is not None
                        and all(m["agreement"]["same_cost"] == m["agreement"]["utterances"]
                                for m in entry["splits"].values()))}
    for name in results:  # the first few domain sentences, to eyeball
        results[name]["examples"] = {
            split: [{"id": u.id, "ref": u.text, "hyp": h}
                    for u, h in zip(data[split], hypotheses[name][split])
                    if u.domain != "general"][:4] for split in SPLITS}

    result = {
        "settings": {"quick": args.quick, "per_domain": args.per_domain, "beam": args.beam,
                     "repeats": args.repeats, "splits": list(SPLITS), "weights": args.weights,
                     "boosts": args.boosts, "slot_weights": args.slot_weights,
                     "prepare_runs": args.prepare_runs,
                     "target": {"recall": TARGET_RECALL,
                                "general_wer_change": TARGET_GENERAL_WER_CHANGE,
                                "class_slot": {"prepare_ms_per_1000": TARGET_PREPARE_MS_PER_1000,
                                               "cost_tolerance": COST_TOLERANCE}}},
        "emissions": {k: v for k, v in source.items() if k != "model"},
        "lm": {"path": str(lm), "sha256": file_sha256(lm),
               "description": (f"{lm}" if args.lm else "general 3-gram (corpus/make_lm.py "
                               "--no-domain-vocabulary on general_lm_text.txt)")},
        "tokens": str(tokens), "terms": {d: str(p) for d, p in TERM_LISTS.items()},
        "term_count": len(terms.domain), "tuning": tuning, "configurations": results,
        "machine": machine_info(), "pywfst": pywfst.__version__,
        "sources": dict(sources, native_file_replaced_during_run=(
            source_state()["native_built"] != sources["native_built"])),
        "load_average": {"start": [round(x, 2) for x in load_start],
                         "end": [round(x, 2) for x in os.getloadavg()]},
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "seconds": round(time.perf_counter() - started, 1)}
    suffix = ("_synthetic" if args.synthetic else "") + ("_quick" if args.quick else "") \
        + (f"_{args.tag}" if args.tag else "")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"results{suffix}.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / f"results{suffix}.md").write_text(write_markdown(result))
    print_summary(result)
    log(f"wrote {RESULTS}/results{suffix}.{{json,md}} ({result['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
