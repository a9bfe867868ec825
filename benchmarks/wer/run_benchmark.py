#!/usr/bin/env python3
"""WER benchmark: the reference acoustic model's emissions on the corpus's test sets, decoded
side by side by greedy CTC, pywfst, Kaldi's FasterDecoder (same graph), flashlight-text's
LexiconDecoder + KenLM, pyctcdecode + KenLM (same ARPA, own venv) and pywfst's drop-ins for
them (pywfst.compat.torchaudio's ctc_decoder, pywfst.compat.pyctcdecode's build_ctcdecoder).

  . .venv/bin/activate
  python benchmarks/wer/run_benchmark.py                  # full run (bundled model)
  python benchmarks/wer/run_benchmark.py --quick          # 4 utterances per domain, 1 round
  python benchmarks/wer/run_benchmark.py --model m.npz --lm lm.arpa --quick

Steps: prepare.py (the AM's emissions of dev, test and test_voice, once, timed; tokens, lexicon
from the ARPA's words), one pywfst graph (`build-graph --spell --word-boundary '|'`, the boundary
optional, the same LM), the drop-ins' graphs (built by their first call, cached in
work/graph_cache), LM-weight tuning of each system on dev (small grids, cached in the data
folder), then rounds: each round decodes each test set with each system in its own process
(benchmarks/decode/worker.py; pyctcdecode in benchmarks/decode/venv-pyctc), the systems
alternating; tables give medians over rounds. Kaldi decodes with pywfst's tuned settings.

Writes results/results.{json,md} (--quick: results/results_quick.*).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WORK = HERE / "work"
RESULTS = HERE / "results"
DECODE = REPO / "benchmarks" / "decode"


def _load_decode_benchmark():
    """benchmarks/decode/run_benchmark.py, by path (this file has the same name)."""
    spec = importlib.util.spec_from_file_location("decode_benchmark", DECODE / "run_benchmark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_decode_benchmark()  # run_worker, build_graphs, summarize_single, machine_info, ...
from pywfst.metrics import error_rate  # noqa: E402

DOMAINS = ("general", "medical", "legal")
SPLIT_LABELS = {"test": "test: training voices, augmented (speed, noise, reverberation)",
                "test_voice": "test_voice: the same sentences, held-out voice (flite slt), clean"}
# name -> (worker system, key of its settings in SETTINGS, label[, settings on top of the tuned])
FAST = {"beam": 8.0, "max_active": 500, "min_active": 20}  # a tight operating point
SYSTEMS = {
    "greedy": ("greedy", None, "greedy CTC (no lexicon, no LM)"),
    "pywfst": ("pywfst", "pywfst", "pywfst Decoder, HCLG with optional '|'"),
    "kaldi": ("kaldi", "pywfst", "kaldi-decoder FasterDecoder, same HCLG and settings"),
    "pywfst-fast": ("pywfst", "pywfst", "pywfst, beam 8, max_active 500, min_active 20", FAST),
    "kaldi-fast": ("kaldi", "pywfst", "kaldi-decoder, beam 8, max_active 500, min_active 20",
                   FAST),
    "flashlight": ("flashlight", "flashlight", "flashlight-text LexiconDecoder + KenLM"),
    "compat-torchaudio": ("compat-torchaudio", "flashlight",
                          "pywfst.compat.torchaudio ctc_decoder, flashlight's weights"),
    "compat-torchaudio-tuned": ("compat-torchaudio", "compat-torchaudio-tuned",
                                "pywfst.compat.torchaudio ctc_decoder, own weights"),
    "pyctcdecode": ("pyctcdecode", "pyctcdecode", "pyctcdecode + KenLM (no lexicon; own venv)"),
    "compat-pyctcdecode": ("compat-pyctcdecode", "pyctcdecode",
                           "pywfst.compat.pyctcdecode build_ctcdecoder, pyctcdecode's weights"),
    "compat-pyctcdecode-tuned": ("compat-pyctcdecode", "compat-pyctcdecode-tuned",
                                 "pywfst.compat.pyctcdecode build_ctcdecoder, own weights"),
}
# The drop-ins (pywfst.compat) are called as their originals' users call them, with the peer's
# files and search settings. "compat-torchaudio" and "compat-pyctcdecode" keep the peer's tuned
# LM weights (a user switching with a one-line import change keeps them); the "-tuned" rows have
# their own, from the peer's grid. Their graphs are built on the first call and cached
# (PYWFST_CACHE = work/graph_cache), as a user's second run finds them.
COMPAT_WORKERS = ("compat-torchaudio", "compat-pyctcdecode")
GRAPH_SYSTEMS = ("pywfst", "kaldi")
# Search settings: benchmarks/decode's (Kaldi's defaults for pywfst, torchaudio's ctc_decoder
# defaults for flashlight, the library's for pyctcdecode), and the LM weights tuned on dev over a
# grid of LM weights per nat of AM log-probability w: pywfst's acoustic_scale = 1/w,
# flashlight's lm_weight = w * ln(10) (it adds lm_weight * log10 P), pyctcdecode's alpha = w.
LM_WEIGHTS = (0.5, 0.7, 1.0, 1.4, 2.0)
SETTINGS = {  # key -> (base settings, tuning grid)
    "pywfst": (bench.BASE_PARAMS["pywfst"], [{"acoustic_scale": round(1 / w, 3)}
                                             for w in LM_WEIGHTS]),
    "flashlight": (bench.BASE_PARAMS["flashlight"],
                   [{"lm_weight": round(w * 2.302585, 3), "word_score": s}
                    for w in LM_WEIGHTS for s in (-1.0, 0.0, 1.0)]),
    "pyctcdecode": (bench.BASE_PARAMS["pyctcdecode"],
                    [{"alpha": w, "beta": b} for w in LM_WEIGHTS for b in (0.0, 1.0, 2.0)]),
}
SETTINGS["compat-torchaudio-tuned"] = SETTINGS["flashlight"]
SETTINGS["compat-pyctcdecode-tuned"] = SETTINGS["pyctcdecode"]
TUNE_LIMITS = {"pyctcdecode": 60}  # dev utterances (others: all of dev)


def log(message: str) -> None:
    print(f"[wer-bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def rates(pairs) -> dict:
    return {"wer": round(error_rate(pairs), 2), "cer": round(error_rate(pairs, unit="char"), 2)}


def texts(report: dict) -> list:
    return [o["text"] for o in report["outputs"]]


# --------------------------------------------------------------------------- steps


def prepare(args, data: Path) -> dict:
    cmd = [sys.executable, str(HERE / "prepare.py"), "--out", str(data), "--audio", str(args.audio),
           "--lm", str(args.lm)]
    if args.model:
        cmd += ["--model", str(args.model)]
    if args.per_domain:
        cmd += ["--per-domain", str(args.per_domain)]
    threads = str(args.am_threads)
    env = dict(os.environ, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads,
               MKL_NUM_THREADS=threads)
    subprocess.run(cmd, check=True, env=env)
    return json.loads((data / "data.json").read_text())


def tune(keys, data: Path, graph: Path, limit: int | None) -> dict:
    """Grid search of the LM weights of each settings key on dev (lowest WER; ties: the faster).
    Cached in the data folder, which prepare.py empties when the model, LM or corpus change."""
    cache = data / "tuning.json"
    cached = json.loads(cache.read_text()) if cache.exists() else {}
    for name in keys:
        worker = SYSTEMS[name][0]
        base, points = SETTINGS[name]
        count = limit or TUNE_LIMITS.get(worker)
        key = json.dumps({"settings": SETTINGS[name], "limit": count}, sort_keys=True)
        if cached.get(name, {}).get("key") == key:
            log(f"tuning {name}: cached in {cache}")
            continue
        grid = [dict(base, **point) for point in points]
        log(f"tuning {name} on dev: {len(grid)} settings, {count or 'all'} utterances at most")
        report = bench.run_worker(worker, str(graph) if worker in GRAPH_SYSTEMS else None,
                                  WORK / "runs" / f"tune_{name}.json", data=data, split="dev",
                                  limit=None if count is None else str(count), grid=grid)
        rows = []
        for point, row in zip(points, report["grid"]):
            pairs = list(zip(report["refs"], row["texts"]))
            rows.append(dict(rates(pairs), varied=point, params=row["params"],
                             seconds=round(row["seconds"], 2)))
        best = min(rows, key=lambda r: (r["wer"], r["seconds"]))
        values = {k: sorted({p[k] for p in points}) for k in best["varied"]}
        edge = [k for k, v in values.items() if len(v) > 1 and best["varied"][k] in (v[0], v[-1])]
        cached[name] = {"key": key, "utterances": report["utterances"], "rows": rows,
                        "chosen": best["params"], "at_grid_edge": edge}
        log(f"  {name}: dev WER {best['wer']} with {best['varied']}"
            + (f" ({', '.join(edge)} at the edge of the grid)" if edge else ""))
        cache.write_text(json.dumps(cached, indent=1) + "\n")
    return {name: cached[name] for name in keys}


def build_compat_graphs(systems, data: Path) -> dict:
    """Each drop-in's graph, built by one call of its worker (one dev utterance) before tuning
    and the rounds, so that neither pays for it; from then on each worker finds it in the cache.
    Reports the time of that call and the graph's graph.json (counts, build time)."""
    info = {}
    cache = Path(os.environ["PYWFST_CACHE"])
    for worker in COMPAT_WORKERS:
        keys = [SYSTEMS[s][1] for s in systems if SYSTEMS[s][0] == worker]
        if not keys:
            continue
        log(f"{worker}: building its graph (or finding it in {cache})")
        start = time.perf_counter()
        report = bench.run_worker(worker, None, WORK / "runs" / f"build_{worker}.json", data=data,
                                  split="dev", limit="1", params=SETTINGS[keys[0]][0])
        seconds = time.perf_counter() - start
        prefix = worker.split("-", 1)[1]  # pywfst.compat's cache name: torchaudio, pyctcdecode
        place = max(cache.glob(f"{prefix}-*"), key=lambda d: d.stat().st_mtime)
        graph = json.loads((place / "graph.json").read_text())
        info[worker] = {"dir": str(place), "hclg": graph["fst_counts"]["HCLG"],
                        "hclg_bytes": (place / "HCLG.fst").stat().st_size,
                        "build_seconds": graph["build"]["total_seconds"],
                        "build_peak_rss_mb": graph["build"]["peak_rss_mb"],
                        "first_call_load_seconds": round(report["load_seconds"], 2),
                        "first_call_process_seconds": round(seconds, 1)}
        log(f"  {worker}: {info[worker]['hclg']['states']} states, "
            f"{info[worker]['hclg']['arcs']} arcs, built in {info[worker]['build_seconds']:.0f} s")
    return info


def run_rounds(systems, splits, params, data: Path, graph: Path, rounds: int,
               repeat_limit: float) -> dict:
    """Each round: every split, every system, in turn. A system whose first decode of a split
    took more than repeat_limit seconds is not repeated on it (its row has one round)."""
    reports = {split: {name: [] for name in systems} for split in splits}
    once = set()
    for index in range(rounds):
        for split in splits:
            for name in systems:
                if (split, name) in once:
                    continue
                worker, key, *_ = SYSTEMS[name]
                overrides = SYSTEMS[name][3] if len(SYSTEMS[name]) > 3 else {}
                log(f"round {index + 1}/{rounds}, {split}: {name}")
                report = bench.run_worker(
                    worker, str(graph) if worker in GRAPH_SYSTEMS else None,
                    WORK / "runs" / f"{split}_{name}_{index}.json", data=data, split=split,
                    params={**params.get(key, {}), **overrides})
                reports[split][name].append(report)
                if index == 0 and rounds > 1 and sum(report["pass_seconds"]) > repeat_limit:
                    once.add((split, name))
                    log(f"  {name} took {sum(report['pass_seconds']):.0f} s on {split} "
                        f"(> {repeat_limit:.0f} s): not repeated")
    return reports


def summarize(split: str, reports: dict, data: Path, info: dict) -> dict:
    """Per system: WER/CER overall and by domain, median decode time, x-realtime, memory."""
    meta = json.loads((data / f"{split}_meta.json").read_text())
    frame_shift = info["model"]["frame_shift"]
    am_seconds = info["splits"][split]["am_seconds"]
    rows = {}
    for name, runs in reports.items():
        row = bench.summarize_single(name, runs, info, label=SYSTEMS[name][2],
                                     frame_seconds=frame_shift)
        pairs = list(zip(runs[0]["refs"], texts(runs[0])))
        row["by_domain"] = {d: dict(rates([p for p, m in zip(pairs, meta) if m["domain"] == d]),
                                    utterances=sum(m["domain"] == d for m in meta))
                            for d in DOMAINS if any(m["domain"] == d for m in meta)}
        row["rounds"] = len(runs)
        row["x_realtime_with_am"] = round(
            row["audio_seconds"] / (am_seconds + row["decode_seconds"]), 1)
        rows[name] = row
    greedy = rows.get("greedy")
    for row in rows.values():
        row["wer_vs_greedy_pct"] = (round(100.0 * (row["wer"] - greedy["wer"]) / greedy["wer"], 1)
                                    if greedy and greedy["wer"] else None)
    result = {"systems": rows, "am_seconds": am_seconds,
              "am_x_realtime": info["splits"][split]["am_x_realtime"]}
    if "pywfst" in reports and "kaldi" in reports:
        result["kaldi_agreement"] = bench.kaldi_agreement(reports["pywfst"][0], reports["kaldi"][0])
        pairs = zip(meta, reports["pywfst"][0]["outputs"], reports["kaldi"][0]["outputs"])
        result["kaldi_differences"] = [{"id": m["id"], "pywfst": a["text"], "kaldi": b["text"]}
                                       for m, a, b in pairs if a["word_ids"] != b["word_ids"]][:10]
    if "pywfst-fast" in reports and "kaldi-fast" in reports:
        result["kaldi_agreement_fast"] = bench.kaldi_agreement(reports["pywfst-fast"][0],
                                                               reports["kaldi-fast"][0])
    return result


def checks_of(splits: dict) -> list:
    """Issue 4's target (pywfst on the test set; the other sets for information) and whether
    pywfst's 1-best equals Kaldi's on the same graph."""
    checks = []
    for split, result in splits.items():
        rows = result["systems"]
        if "greedy" in rows and "pywfst" in rows and rows["greedy"]["wer"]:
            greedy, ours = rows["greedy"]["wer"], rows["pywfst"]["wer"]
            target = split == "test"
            checks.append({"what": f"{split}: pywfst (lexicon + LM) cuts greedy WER by at least "
                                   "a third" + (" (issue 4 target)" if target else
                                                " (information)"),
                           "target": target, "pass": ours <= greedy * 2 / 3,
                           "measured": f"WER {ours:.2f} % vs greedy {greedy:.2f} % "
                                       f"({100 * (greedy - ours) / greedy:.1f} % fewer errors)"})
        agreement = result.get("kaldi_agreement")
        if agreement:
            checks.append({"what": f"{split}: pywfst's 1-best words equal Kaldi's FasterDecoder's "
                                   "(same graph and settings)", "target": False,
                           "pass": agreement["same_words_pct"] == 100.0,
                           "measured": f"{agreement['same_words_pct']} % of "
                                       f"{agreement['utterances']} utterances (words and cost: "
                                       f"{agreement['same_words_and_cost_pct']} %)"})
    return checks


# --------------------------------------------------------------------------- report


def speed(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.2g}"


def domain_cell(row: dict, key: str) -> str:
    return " / ".join(f"{row['by_domain'][d][key]:.1f}" if d in row["by_domain"] else "-"
                      for d in DOMAINS)


def write_markdown(result: dict) -> str:
    info = result["data"]
    model = info["model"]
    lines = ["# WER benchmark results", ""]
    if len(result["native_builds_seen"]) > 1:
        lines += ["**INCONSISTENT RUN: pywfst's native module was rebuilt while it ran.**", ""]
    lines += [
        f"Run {result['started']} ({'--quick' if result['quick'] else 'full'}), "
        f"{result['rounds']} round(s), medians (a system that took more than "
        f"{result['repeat_limit']:.0f} s on a set in round 1 ran once on it); "
        f"{result['minutes']:.1f} min in all. "
        f"Acoustic model `{Path(model['path']).name}` ({model['info'].get('parameters', '?')} "
        f"parameters, {model['shape']['channels']} channels x {model['shape']['num_blocks']} "
        f"blocks, {model['frame_shift'] * 1000:.0f} ms frames). LM `{info['lm']['path']}` "
        f"({', '.join(f'{k} {v}' for k, v in info['lm']['ngrams'].items())}); lexicon: its "
        f"{info['lexicon_words']} words, spelled (flashlight: `w o r d |`).", "",
        "x-realtime = audio seconds (frames x frame shift) / decode seconds, one thread, timing "
        "only the decode calls; *with AM* adds the acoustic model's time on the same audio "
        f"(BLAS threads: {info['blas_threads']}). Peak RSS: the worker process's VmHWM (data, "
        "graph/LM and decoding). Domain columns: general / medical / legal.", ""]
    for split, res in result["splits"].items():
        split_info = info["splits"][split]
        oov = split_info["oov"]
        domains = ", ".join(f"{d} {n}" for d, n in split_info["domains"].items())
        lines += [f"## {SPLIT_LABELS.get(split, split)}", "",
                  f"{split_info['utterances']} utterances ({domains}), "
                  f"{split_info['audio_seconds']:.0f} s of audio; reference words outside the "
                  f"lexicon: {oov['all']['oov_pct']} % ("
                  + " / ".join(f"{oov[d]['oov_pct']}" if d in oov else "-" for d in DOMAINS)
                  + f"). Acoustic model: {res['am_seconds']:.1f} s, "
                  f"{res['am_x_realtime']:.0f}x realtime.", "",
                  "| system | WER % | CER % | WER by domain % | CER by domain % | WER vs greedy "
                  "| decode s | x-realtime | x-realtime with AM | peak RSS MiB | load s |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for name, row in res["systems"].items():
            change = row["wer_vs_greedy_pct"]
            fewer = f" ({row['rounds']} round)" if row["rounds"] < result["rounds"] else ""
            lines.append(
                f"| {row['label']}{fewer} | {row['wer']:.2f} | {row['cer']:.2f} | "
                f"{domain_cell(row, 'wer')} | {domain_cell(row, 'cer')} | "
                f"{'' if change is None or name == 'greedy' else f'{change:+.1f} %'} | "
                f"{row['decode_seconds']:.3f} | {speed(row['x_realtime'])} | "
                f"{speed(row['x_realtime_with_am'])} | {row['peak_rss_mib']:.0f} | "
                f"{row['load_seconds']:.1f} |")
        agreement = res.get("kaldi_agreement")
        if agreement:
            lines += ["", f"pywfst's 1-best vs Kaldi's on the same graph: same words on "
                      f"{agreement['same_words_pct']} % of {agreement['utterances']} utterances, "
                      "same words and cost (rel. 1e-4) on "
                      f"{agreement['same_words_and_cost_pct']} %."]
            for diff in res["kaldi_differences"]:
                lines.append(f"- {diff['id']}: pywfst `{diff['pywfst']}` / kaldi `{diff['kaldi']}`")
        fast = res.get("kaldi_agreement_fast")
        if fast:
            lines += ["", f"The same at beam 8 / max_active 500 / min_active 20: same words on "
                      f"{fast['same_words_pct']} %, same words and cost on "
                      f"{fast['same_words_and_cost_pct']} %."]
        lines.append("")
    lines += ["## Checks", ""]
    for check in result["checks"]:
        verdict = "PASS" if check["pass"] else "FAIL"
        lines.append(f"- {verdict}: {check['what']}: {check['measured']}")
    lines += ["", "## Settings (LM weights tuned on dev)", ""]
    for name, params in result["params"].items():
        lines.append(f"- {name}: `{json.dumps(params)}`")
    for name, tuning in result["tuning"].items():
        lines += ["", f"{name} on {tuning['utterances']} dev utterances"
                  + (f" (best {', '.join(tuning['at_grid_edge'])} at the edge of the grid)"
                     if tuning["at_grid_edge"] else "") + ":",
                  "", "| setting | dev WER % | dev CER % | seconds |",
                  "| --- | ---: | ---: | ---: |"]
        for row in tuning["rows"]:
            chosen = " **(chosen)**" if row["params"] == tuning["chosen"] else ""
            lines.append(f"| `{json.dumps(row['varied'])}`{chosen} | {row['wer']:.2f} | "
                         f"{row['cer']:.2f} | {row['seconds']:.1f} |")
    graph = result["graph"]
    lines += ["", f"Graph: {graph['hclg']['states']} states, {graph['hclg']['arcs']} arcs, "
              f"{graph['hclg_bytes'] / 2**20:.0f} MiB, built in {graph['build_seconds']:.0f} s "
              f"(peak {graph['build_peak_rss_mb']:.0f} MiB)."]
    for worker, built in result.get("compat_graphs", {}).items():
        lines += ["", f"{worker}'s graph (built by the drop-in on its first call, then loaded "
                  f"from pywfst's graph cache): {built['hclg']['states']} states, "
                  f"{built['hclg']['arcs']} arcs, {built['hclg_bytes'] / 2**20:.0f} MiB, built in "
                  f"{built['build_seconds']:.0f} s (peak {built['build_peak_rss_mb']:.0f} MiB); "
                  f"its first call in this run took {built['first_call_load_seconds']:.1f} s."]
    return "\n".join(lines + bench.machine_lines(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="acoustic model .npz (default: bundled)")
    parser.add_argument("--audio", type=Path, default=REPO / "corpus" / "work" / "audio",
                        help="folder of the corpus manifests ({split}.jsonl)")
    parser.add_argument("--lm", type=Path, default=REPO / "corpus" / "work" / "lm" / "lm.arpa")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 4 utterances per domain and split, 1 round")
    parser.add_argument("--per-domain", type=int, help="utterances per domain and split")
    parser.add_argument("--rounds", type=int, help="timed rounds (default 3; --quick 1)")
    parser.add_argument("--splits", default="test,test_voice")
    parser.add_argument("--systems", default=",".join(SYSTEMS),
                        help="comma-separated subset of " + ",".join(SYSTEMS))
    parser.add_argument("--tune-limit", type=int, help="dev utterances for tuning (default: "
                        "all; " + ", ".join(f"{k} {v}" for k, v in TUNE_LIMITS.items()) + ")")
    parser.add_argument("--am-threads", type=int, default=1, help="BLAS threads of the AM")
    parser.add_argument("--repeat-limit", type=float, default=90.0,
                        help="a system slower than this (seconds per set) in round 1 runs once")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.quick and args.per_domain is None:
        args.per_domain = 4
    rounds = args.rounds or (1 if args.quick else 3)
    systems = [s for s in args.systems.split(",") if s]
    for name in systems:
        if name not in SYSTEMS:
            parser.error(f"unknown system {name!r}")
    if "pyctcdecode" in systems and not bench.PYCTC_PYTHON.exists():
        log(f"{bench.PYCTC_PYTHON} missing (run benchmarks/decode/setup.sh): skipping pyctcdecode")
        systems.remove("pyctcdecode")
    splits = [s for s in args.splits.split(",") if s]
    started, t0 = time.strftime("%Y-%m-%d %H:%M:%S"), time.perf_counter()
    loadavg_before = " ".join(open("/proc/loadavg").read().split()[:3])
    data = WORK / ("data" if args.per_domain is None else f"data_{args.per_domain}_per_domain")
    (WORK / "runs").mkdir(parents=True, exist_ok=True)
    args.out.mkdir(exist_ok=True)

    info = prepare(args, data)
    graph = WORK / "graph_ctc"
    graph_info = bench.build_graphs(data=data, work=WORK, graphs={"optional": graph.name})
    graph_info = graph_info["optional"]

    os.environ.setdefault("PYWFST_CACHE", str(WORK / "graph_cache"))  # the workers inherit it
    compat_graphs = build_compat_graphs(systems, data)

    keys = [k for k in SETTINGS if k in {SYSTEMS[s][1] for s in systems}]
    tuning = tune(keys, data, graph, args.tune_limit)
    params = {key: tuned["chosen"] for key, tuned in tuning.items()}

    reports = run_rounds(systems, splits, params, data, graph, rounds, args.repeat_limit)
    split_results = {split: summarize(split, reports[split], data, info) for split in splits}
    result = {"started": started, "quick": args.quick, "rounds": rounds,
              "repeat_limit": args.repeat_limit,
              "minutes": (time.perf_counter() - t0) / 60, "data": info, "graph": graph_info,
              "compat_graphs": compat_graphs,
              "params": params, "tuning": tuning, "splits": split_results,
              "checks": checks_of(split_results),
              "native_builds_seen": sorted(bench.NATIVE_SEEN), "loadavg_before": loadavg_before,
              "loadavg_after": " ".join(open("/proc/loadavg").read().split()[:3]),
              "machine": bench.machine_info()}
    stem = "results_quick" if args.quick else "results"
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=1) + "\n")
    markdown = write_markdown(result)
    (args.out / f"{stem}.md").write_text(markdown)
    print(markdown)
    for check in result["checks"]:
        if check["target"]:
            print(f"TARGET {'PASS' if check['pass'] else 'FAIL'}: {check['what']}: "
                  f"{check['measured']}")


if __name__ == "__main__":
    main()
