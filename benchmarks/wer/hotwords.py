#!/usr/bin/env python3
"""Hotword scaling: pyctcdecode's decode(..., hotwords=[...]) against pywfst's drop-in
(pywfst.compat.pyctcdecode) with 0, 10, 100 and 1000 hotwords, on the reference AM's emissions
of the first test utterances (benchmarks/wer's data folder: run run_benchmark.py, or prepare.py,
first). pyctcdecode scores every beam against every hotword at each word step, so its time grows
with the number of hotwords (pyctcdecode issue #109); pywfst compiles the hotwords into a phrase
automaton that the search follows, one state per hypothesis.

  . .venv/bin/activate
  python benchmarks/wer/hotwords.py                       # 30 utterances, 3 rounds
  python benchmarks/wer/hotwords.py --limit 10 --rounds 1 # smoke run

Hotwords: the medical and legal terms of corpus/sentences/*_terms.txt (alternating, in file
order) whose words are all in the LM's vocabulary, then other vocabulary words in a seeded
random order, the first N of that list for N hotwords. Both systems get the same list, the
default hotword_weight (10) and the pyctcdecode system's settings of benchmarks/wer (alpha and
beta tuned there, else 0.5 / 0.0; beam_width 100). Each system runs in its own process
(pyctcdecode in benchmarks/decode/venv-pyctc), the two alternating, once per round; within a
process each hotword count decodes every utterance after a warm-up of 2. Timed: each decode call
with its hotwords (both libraries prepare the hotwords in the call). Reported: the median over
utterances of each utterance's median time over rounds, and the WER of the hypotheses.

Writes results/hotwords.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DECODE = REPO / "benchmarks" / "decode"
sys.path.insert(0, str(DECODE))
from worker import load_split, pyctc_labels, rss_mib  # noqa: E402  (imports numpy only)

PYCTC_PYTHON = DECODE / "venv-pyctc" / "bin" / "python"
SYSTEMS = {"pyctcdecode": "pyctcdecode 0.5 + KenLM (own venv)",
           "compat-pyctcdecode": "pywfst.compat.pyctcdecode (drop-in)"}
WARMUP = 2


def log(message: str) -> None:
    print(f"[hotwords {time.strftime('%H:%M:%S')}] {message}", flush=True)


def hotword_list(data: Path, count: int, seed: int = 0) -> list[str]:
    """Domain terms in the vocabulary, then other vocabulary words (seeded order)."""
    vocabulary = [line.split()[0] for line in
                  (data / "lexicon_fl.txt").read_text(encoding="utf-8").splitlines() if line]
    known = set(vocabulary)
    sentences = REPO / "corpus" / "sentences"
    lists = [[t for t in (sentences / f"{d}_terms.txt").read_text().splitlines()
              if t.strip() and all(w in known for w in t.split())] for d in ("medical", "legal")]
    terms = [t for pair in zip(*lists) for t in pair]
    longer = max(lists, key=len)
    terms += longer[min(map(len, lists)):]
    chosen, seen = [], set()
    for term in terms:
        if term not in seen:
            chosen.append(term)
            seen.add(term)
    rest = sorted(known - seen)
    random.Random(seed).shuffle(rest)
    return (chosen + rest)[:count]


# --------------------------------------------------------------------------- worker


def make_decoder(system: str, data: Path, params: dict):
    if system == "pyctcdecode":
        import logging

        from pyctcdecode import build_ctcdecoder
        logging.getLogger("pyctcdecode").setLevel(logging.ERROR)
    else:
        from pywfst.compat.pyctcdecode import build_ctcdecoder
    labels = pyctc_labels(str(data))
    return build_ctcdecoder(labels, kenlm_model_path=str(data / "lm.arpa"), alpha=params["alpha"],
                            beta=params["beta"], unk_score_offset=params["unk_score_offset"])


def worker(args) -> None:
    params = json.loads(args.params)
    counts = [int(c) for c in args.counts.split(",")]
    utterances, refs = load_split(str(args.data), args.split, args.limit)
    hotwords = hotword_list(args.data, max(counts))
    start = time.perf_counter()
    decoder = make_decoder(args.system, args.data, params)
    load_seconds = time.perf_counter() - start
    options = {k: params[k] for k in ("beam_width", "beam_prune_logp", "token_min_logp")}
    report = {"system": args.system, "load_seconds": load_seconds, "refs": refs, "counts": {}}
    decoder.decode(utterances[0], **options)  # what a first call loads (the drop-in's graph)
    for count in counts:
        words = hotwords[:count] or None
        first = time.perf_counter()  # the first call with this list (the drop-in compiles it)
        decoder.decode(utterances[0], hotwords=words, **options)
        first = time.perf_counter() - first
        for emissions in utterances[1:WARMUP]:
            decoder.decode(emissions, hotwords=words, **options)
        times, texts = [], []
        for emissions in utterances:
            start = time.perf_counter()
            text = decoder.decode(emissions, hotwords=words, **options)
            times.append(time.perf_counter() - start)
            texts.append(" ".join(text.split()))
        report["counts"][str(count)] = {"seconds": times, "texts": texts, "first_call": first}
    report["peak_rss_mib"] = rss_mib()["peak"]
    args.out.write_text(json.dumps(report))


# --------------------------------------------------------------------------- driver


def pyctc_params() -> dict:
    """The pyctcdecode system's settings of benchmarks/wer (tuned weights when there)."""
    base = {"alpha": 0.5, "beta": 0.0, "unk_score_offset": -10.0, "beam_width": 100,
            "beam_prune_logp": -10.0, "token_min_logp": -5.0}
    tuning = HERE / "work" / "data" / "tuning.json"
    if tuning.exists():
        chosen = json.loads(tuning.read_text()).get("pyctcdecode", {}).get("chosen")
        if chosen:
            base.update({k: chosen[k] for k in base if k in chosen})
    return base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", choices=sorted(SYSTEMS), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, default=HERE / "work" / "data")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=30, help="utterances (first N of the split)")
    parser.add_argument("--counts", default="0,10,100,1000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--params", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    if args.worker:
        args.system = args.worker
        worker(args)
        return

    sys.path.insert(0, str(REPO))
    from pywfst.metrics import error_rate

    if not (args.data / "test.npz").exists():
        raise SystemExit(f"{args.data}: no emissions; run benchmarks/wer/run_benchmark.py (or "
                         "prepare.py) first")
    if not PYCTC_PYTHON.exists():
        raise SystemExit(f"{PYCTC_PYTHON} missing: run benchmarks/decode/setup.sh")
    os.environ.setdefault("PYWFST_CACHE", str(HERE / "work" / "graph_cache"))
    params = pyctc_params()
    counts = [int(c) for c in args.counts.split(",")]
    runs = HERE / "work" / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    started, t0 = time.strftime("%Y-%m-%d %H:%M:%S"), time.perf_counter()

    def run(name: str, out: Path, limit: int, counts: str) -> dict:
        python = str(PYCTC_PYTHON) if name == "pyctcdecode" else sys.executable
        subprocess.run([python, str(Path(__file__).resolve()), "--worker", name,
                        "--data", str(args.data), "--split", args.split, "--limit", str(limit),
                        "--counts", counts, "--params", json.dumps(params), "--out", str(out)],
                       check=True, stderr=subprocess.DEVNULL if name == "pyctcdecode" else None)
        return json.loads(out.read_text())

    log("compat-pyctcdecode: its graph (built now unless pywfst's graph cache has it)")
    run("compat-pyctcdecode", runs / "hotwords_build.json", 1, "0")
    reports = {name: [] for name in SYSTEMS}
    for index in range(args.rounds):
        order = list(SYSTEMS) if index % 2 == 0 else list(SYSTEMS)[::-1]
        for name in order:
            log(f"round {index + 1}/{args.rounds}: {name}")
            reports[name].append(run(name, runs / f"hotwords_{name}_{index}.json", args.limit,
                                     args.counts))

    rows = {}
    for name, rounds in reports.items():
        refs = rounds[0]["refs"]
        rows[name] = {}
        for count in counts:
            per_round = [r["counts"][str(count)]["seconds"] for r in rounds]
            per_utt = [statistics.median(times) for times in zip(*per_round)]
            texts = rounds[0]["counts"][str(count)]["texts"]
            rows[name][str(count)] = {
                "median_ms": round(1000 * statistics.median(per_utt), 2),
                "mean_ms": round(1000 * statistics.mean(per_utt), 2),
                "first_call_ms": round(1000 * statistics.median(
                    r["counts"][str(count)]["first_call"] for r in rounds), 2),
                "wer": round(error_rate(list(zip(refs, texts))), 2)}
        rows[name]["peak_rss_mib"] = max(r["peak_rss_mib"] for r in rounds)
    hotwords = hotword_list(args.data, max(counts))
    result = {"started": started, "minutes": round((time.perf_counter() - t0) / 60, 1),
              "utterances": len(reports["pyctcdecode"][0]["refs"]), "split": args.split,
              "rounds": args.rounds, "counts": counts, "params": params,
              "hotwords_first_10": hotwords[:10],
              "domain_terms": sum(1 for h in hotwords if " " in h), "systems": rows}
    bench_machine = _machine_lines()
    lines = ["# Hotword scaling: pyctcdecode vs pywfst's drop-in", "",
             f"Run {started}, {args.rounds} round(s), {result['utterances']} utterances of "
             f"`{args.split}` (reference AM's emissions), {result['minutes']} min. Per utterance "
             "decode time, the median over utterances of each one's median over rounds (mean "
             "beside it); the same hotwords are passed to every `decode` call, hotword_weight "
             "10 (the drop-in compiles a list on its first call and keeps it: the first-call "
             "column, one utterance, median over rounds). "
             f"Settings: `{json.dumps(params)}`.", "",
             "| hotwords | " + " | ".join(f"{SYSTEMS[n]} ms (mean)" for n in SYSTEMS)
             + " | pyctcdecode / drop-in | first call ms (utterance 1): "
             + " / ".join(SYSTEMS) + " | " + " | ".join(f"WER % {n}" for n in SYSTEMS) + " |",
             "| ---: | " + " | ".join("---:" for _ in SYSTEMS) + " | ---: | ---: | "
             + " | ".join("---:" for _ in SYSTEMS) + " |"]
    for count in counts:
        cells = [rows[n][str(count)] for n in SYSTEMS]
        ratio = cells[0]["median_ms"] / cells[1]["median_ms"]
        lines.append(f"| {count} | " + " | ".join(f"{c['median_ms']:.1f} ({c['mean_ms']:.1f})"
                                                  for c in cells)
                     + f" | {ratio:.1f}x | "
                     + " / ".join(f"{c['first_call_ms']:.1f}" for c in cells) + " | "
                     + " | ".join(f"{c['wer']:.2f}" for c in cells) + " |")
    lines += ["", "Peak RSS MiB: " + ", ".join(f"{n} {rows[n]['peak_rss_mib']:.0f}"
                                                for n in SYSTEMS) + ".", "",
              f"First hotwords: {', '.join(hotwords[:10])}, ... (multi-word phrases among the "
              f"{max(counts)}: {result['domain_terms']}).", ""] + bench_machine
    args.out.mkdir(exist_ok=True)
    (args.out / "hotwords.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / "hotwords.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _machine_lines() -> list:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "?")
    mem = next((int(line.split()[1]) for line in open("/proc/meminfo")
                if line.startswith("MemTotal")), 0)
    return [f"Machine: {os.cpu_count()} x {cpu}, {mem / 2**20:.1f} GiB; load average "
            f"{' '.join(open('/proc/loadavg').read().split()[:3])} at the end."]


if __name__ == "__main__":
    main()
