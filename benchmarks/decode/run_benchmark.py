#!/usr/bin/env python3
"""Side-by-side decoding benchmark: pywfst vs Kaldi's FasterDecoder, flashlight-text's
LexiconDecoder (torchaudio's ctc_decoder engine) and pyctcdecode, on the same simulated char-CTC
emissions, the same spelling lexicon and the same 3-gram ARPA LM.

  . .venv/bin/activate
  python benchmarks/decode/run_benchmark.py            # full run (~10 min after the first setup)
  python benchmarks/decode/run_benchmark.py --quick    # 40 utterances, a few minutes
  python benchmarks/decode/run_benchmark.py --tune     # re-tune LM weights on the dev split first

Steps: prepare_data.py (WordNet text -> vocabulary, pruned 3-gram, held-out dev/test sentences,
simulated emissions), `pywfst build-graph` (two graphs: '|' optional, the default, and '|'
mandatory after each word), then rounds: in each round every system decodes the test utterances
once in its own process (worker.py; pyctcdecode in venv-pyctc), so the systems alternate and
share the machine's noise; the tables give medians over rounds. Thread scaling runs last:
decode_batch with 1 and 2 threads, alternating, in one process.

Writes results/results.json and results/results.md (and results/tuning.* with --tune).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WORK = HERE / "work"
DATA = WORK / "data"
RESULTS = HERE / "results"
PYCTC_PYTHON = HERE / "venv-pyctc" / "bin" / "python"
FRAME_SECONDS = 0.04

sys.path.insert(0, str(REPO))  # pywfst.metrics (edit distance) from this checkout
from pywfst.graph.build import file_sha256  # noqa: E402
from pywfst.metrics import error_rate  # noqa: E402

# Search settings. The pywfst/Kaldi beam is in cost units (scaled -log prob); flashlight's and
# pyctcdecode's are their library defaults (torchaudio's ctc_decoder defaults for flashlight).
BASE_PARAMS = {
    "pywfst": {"beam": 16.0, "max_active": 7000, "min_active": 200, "acoustic_scale": 1.5},
    "flashlight": {"beam_size": 50, "beam_size_token": None, "beam_threshold": 50.0,
                   "lm_weight": 2.0, "word_score": 0.0, "sil_score": 0.0},
    "pyctcdecode": {"alpha": 0.5, "beta": 1.0, "unk_score_offset": -10.0, "beam_width": 100,
                    "beam_prune_logp": -10.0, "token_min_logp": -5.0},
}
# Weight grids searched by --tune on the dev split (lowest WER wins; ties: the earlier setting).
GRIDS = {
    "pywfst": [{"acoustic_scale": s} for s in (1.0, 1.25, 1.5, 1.75, 2.0, 2.5)],
    "flashlight": [{"lm_weight": w, "word_score": s} for w in (0.5, 0.8, 1.15, 1.5, 2.0, 3.0)
                   for s in (-1.0, 0.0, 1.0, 2.0)],
    "pyctcdecode": [{"alpha": a, "beta": b, "unk_score_offset": u} for a in (0.3, 0.5, 0.8)
                    for b in (0.0, 1.0, 2.0) for u in (-10.0, -30.0)],
}
# Speed/accuracy operating points on the dev split (--sweep): pywfst's beam and max_active,
# flashlight's beam_size (its beam_threshold stays at torchaudio's 50).
_ACTIVE = ({"max_active": 7000, "min_active": 200}, {"max_active": 7000, "min_active": 20},
           {"max_active": 300, "min_active": 20})
SWEEPS = {
    "pywfst": [dict(beam=b, **a) for b in (16.0, 12.0, 10.0, 8.0) for a in _ACTIVE],
    "flashlight": [{"beam_size": b} for b in (10, 25, 50, 100, 200)],
    "pywfst-mandatory": [dict(beam=b, **a) for b in (16.0, 10.0) for a in _ACTIVE[:2]],
}
# A second pywfst operating point (from the sweep): Kaldi's min_active of 200 sets a floor on the
# work per frame that flashlight's 50-hypothesis beam does not have. Same acoustic scale.
# Issue 14's comparison points: Kaldi's own options (beam 16, max_active 7000, min_active 20) and
# beam 8.
DERIVED = {"pywfst-b10": ("pywfst", {"beam": 10.0, "min_active": 20}),
           "pywfst-k16": ("pywfst", {"beam": 16.0, "min_active": 20}),
           "pywfst-b8": ("pywfst", {"beam": 8.0, "min_active": 20}),
           "pywfst-mandatory-b10": ("pywfst-mandatory", {"beam": 10.0, "min_active": 20})}
TUNE_LIMITS = {"pywfst": 200, "flashlight": 200, "pyctcdecode": 40}
GRAPHS = {"optional": "graph_ctc", "mandatory": "graph_ctc_mandatory"}
# name -> (worker system, params key, graph, label)
SYSTEMS = {
    "pywfst": ("pywfst", "pywfst", "optional", "pywfst (decode, '|' optional)"),
    "kaldi": ("kaldi", "pywfst", "optional", "kaldi-decoder FasterDecoder (same HCLG.fst)"),
    "flashlight": ("flashlight", "flashlight", None,
                   "flashlight-text LexiconDecoder + KenLM (torchaudio ctc_decoder engine)"),
    "pyctcdecode": ("pyctcdecode", "pyctcdecode", None, "pyctcdecode + KenLM (own venv)"),
    "pywfst-b10": ("pywfst", "pywfst-b10", "optional", "pywfst, beam 10, min_active 20"),
    "kaldi-b10": ("kaldi", "pywfst-b10", "optional", "kaldi-decoder, beam 10, min_active 20"),
    "pywfst-k16": ("pywfst", "pywfst-k16", "optional", "pywfst, Kaldi's options (min_active 20)"),
    "kaldi-k16": ("kaldi", "pywfst-k16", "optional", "kaldi-decoder, its own options"),
    "pywfst-b8": ("pywfst", "pywfst-b8", "optional", "pywfst, beam 8, min_active 20"),
    "kaldi-b8": ("kaldi", "pywfst-b8", "optional", "kaldi-decoder, beam 8, min_active 20"),
    "pywfst-mandatory": ("pywfst", "pywfst-mandatory", "mandatory",
                         "pywfst (decode, '|' mandatory after each word)"),
    "pywfst-mandatory-b10": ("pywfst", "pywfst-mandatory-b10", "mandatory",
                             "pywfst, '|' mandatory, beam 10, min_active 20"),
}


def log(message: str) -> None:
    print(f"[decode-bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def wer(refs, outputs) -> float:
    return round(error_rate(list(zip(refs, [o["text"] for o in outputs]))), 2)


# --------------------------------------------------------------------------- setup


def prepare_data() -> dict:
    subprocess.run([sys.executable, str(HERE / "prepare_data.py"), "--out", str(DATA)], check=True)
    return json.loads((DATA / "data.json").read_text())


def build_graphs(data: Path = DATA, work: Path = WORK, graphs: dict = GRAPHS) -> dict:
    """Builds each graph ({kind: directory name under `work`}; kind "mandatory" adds
    --boundary-mandatory) from data/tokens.txt and data/lm.arpa, unless graph.json says it was
    built from the current lm.arpa. benchmarks/wer calls it with its own directories."""
    lm_hash = file_sha256(data / "lm.arpa")  # as graph.json records it
    info = {}
    for kind, name in graphs.items():
        out = work / name
        meta = out / "graph.json"
        if not (meta.exists() and json.loads(meta.read_text())["inputs"]["lm"]["sha256"] == lm_hash):
            cmd = [str(Path(sys.executable).parent / "pywfst"), "build-graph",
                   "--tokens", str(data / "tokens.txt"), "--spell", "--word-boundary", "|",
                   "--lm", str(data / "lm.arpa"), "--topo", "ctc", "--out", str(out), "--force",
                   "--quiet", f"--boundary-{kind}"]  # kind: optional or mandatory
            log(" ".join(cmd))
            subprocess.run(cmd, check=True)
        graph = json.loads(meta.read_text())
        info[kind] = {"dir": name, "hclg": graph["fst_counts"]["HCLG"],
                      "hclg_bytes": (out / "HCLG.fst").stat().st_size,
                      "build_seconds": graph["build"]["total_seconds"],
                      "build_peak_rss_mb": graph["build"]["peak_rss_mb"],
                      "word_boundary": graph["word_boundary"]}
        log(f"graph {name}: {info[kind]['hclg']['states']} states, {info[kind]['hclg']['arcs']} "
            f"arcs, built in {info[kind]['build_seconds']:.1f} s")
    return info


def machine_info() -> dict:
    def run(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return ""
    mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
    versions = {}
    for python, packages in ((sys.executable, ["pywfst", "kaldi-decoder", "kaldifst",
                                                "flashlight-text", "kenlm", "numpy", "kaldingram"]),
                             (str(PYCTC_PYTHON), ["pyctcdecode", "kenlm", "numpy"])):
        if not Path(python).exists():
            continue
        code = ("import importlib.metadata as m, json, sys; "
                "print(json.dumps({p: m.version(p) for p in sys.argv[1:]}))")
        out = run([python, "-c", code] + packages)
        key = "main venv" if python == sys.executable else "venv-pyctc"
        versions[key] = json.loads(out) if out else {}
    core = run([sys.executable, "-c", "import pywfst._core as c; print(c.__file__)"]).strip()
    newest_source = max((p.stat().st_mtime for p in (REPO / "csrc").rglob("*") if p.is_file()),
                        default=0.0)
    native = {"module": core, "built": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(
        os.path.getmtime(core))) if core else None,
        "older_than_csrc": bool(core) and os.path.getmtime(core) < newest_source}
    git = run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]).strip()
    dirty = run(["git", "-C", str(REPO), "status", "--porcelain", "--", "pywfst", "csrc"]).strip()
    return {"lscpu": "\n".join(run(["lscpu"]).splitlines()[:14]), "nproc": os.cpu_count(),
            "mem_total_gib": round(int(mem) / 2**20, 1), "kernel": platform.release(),
            "python": platform.python_version(), "versions": versions,
            "pywfst_git": git + (" (pywfst/ or csrc/ modified)" if dirty else ""),
            "pywfst_native": native}


# --------------------------------------------------------------------------- workers


def python_for(system: str) -> str:
    return str(PYCTC_PYTHON) if system == "pyctcdecode" else sys.executable


def native_mtime() -> float | None:
    code = "import os, pywfst._core as c; print(os.path.getmtime(c.__file__))"
    try:
        return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    check=True).stdout)
    except (OSError, ValueError, subprocess.CalledProcessError):
        return None


NATIVE_SEEN: set = set()  # native-module builds the workers ran (more than one: inconsistent)


def run_worker(system: str, graph: str | None, out: Path, *, data: Path = DATA,
               **options) -> dict:
    """Runs worker.py for `system` on the data directory `data`; `graph` is a directory name under
    WORK, or an absolute path. The other keywords become worker options (--split test ...)."""
    cmd = [python_for(system), str(HERE / "worker.py"), system, "--data", str(data),
           "--out", str(out)]
    if graph:
        cmd += ["--graph", str(WORK / graph)]  # an absolute `graph` replaces WORK
    for key, value in options.items():
        if value is not None:
            cmd += [f"--{key}", value if isinstance(value, str) else json.dumps(value)]
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL if system in (
        "flashlight", "pyctcdecode") else None)  # kenlm's ARPA loading banner
    report = json.loads(out.read_text())
    if "pywfst_native_mtime" in report:
        NATIVE_SEEN.add(report["pywfst_native_mtime"])
        if len(NATIVE_SEEN) > 1:
            log("WARNING: pywfst's native module was rebuilt during this run: results mix builds")
    return report


def tune(systems, params: dict) -> dict:
    """Grid-searches each system's weights on the dev split; returns the chosen settings."""
    tuned = {}
    rows = []
    for name in systems:
        worker, key, graph, _ = SYSTEMS[name]
        if worker == "kaldi" or key in tuned or key in DERIVED:
            continue
        grid_key = key.split("-")[0]
        grid = [dict(params[key], **point) for point in GRIDS[grid_key]]
        log(f"tuning {name} on dev ({len(grid)} settings, {TUNE_LIMITS[worker]} utterances)")
        report = run_worker(worker, GRAPHS.get(graph), WORK / f"tune_{name}.json", split="dev",
                            limit=str(TUNE_LIMITS[worker]), grid=grid)
        refs = report["refs"]
        scored = [(wer(refs, [{"text": t} for t in row["texts"]]), i, row)
                  for i, row in enumerate(report["grid"])]
        best = min(scored, key=lambda item: (item[0], item[2]["seconds"]))  # ties: the faster
        tuned[key] = best[2]["params"]
        for value, _, row in scored:
            varied = {k: row["params"][k] for k in GRIDS[grid_key][0]}
            rows.append({"system": name, "params": row["params"], "varied": varied, "dev_wer": value,
                         "seconds": round(row["seconds"], 2), "utterances": len(refs),
                         "chosen": row is best[2]})
        log(f"  {name}: best dev WER {best[0]} with {tuned[key]}")
    return {"params": tuned, "grid": rows}


def sweep(systems, params: dict, limit: int, repeats: int = 3) -> list:
    """Decodes the dev split at several beams per system (each setting `repeats` times in a
    row, median time): the speed/WER trade-off behind the main table's single settings."""
    rows = []
    for name, points in SWEEPS.items():
        if name not in systems:
            continue
        worker, key, graph, _ = SYSTEMS[name]
        grid = [dict(params[key], **point) for point in points for _ in range(repeats)]
        log(f"sweep {name}: {len(points)} settings x {repeats} on {limit} dev utterances")
        report = run_worker(worker, GRAPHS.get(graph), WORK / f"sweep_{name}.json", split="dev",
                            limit=str(limit), grid=grid)
        audio = report["frames"] * FRAME_SECONDS
        for index, point in enumerate(points):
            runs = report["grid"][index * repeats:(index + 1) * repeats]
            seconds = median([r["seconds"] for r in runs])
            rows.append({"system": name, "setting": point, "params": runs[0]["params"],
                         "dev_wer": wer(report["refs"], [{"text": t} for t in runs[0]["texts"]]),
                         "seconds": round(seconds, 3), "x_realtime": round(audio / seconds, 1),
                         "utterances": report["utterances"]})
    return rows


def measure_threads(params: dict, limit: int, passes: int, attempts: int = 3) -> dict:
    """decode_batch on 1 vs 2 threads. The control workload run before and after tells whether
    the shared machine gave this process two cores; when it did not (control < 1.8x), wait 30 s
    and try again, up to `attempts` times; the attempt with the best control is reported."""
    tries = []
    for attempt in range(attempts):
        log(f"thread scaling: decode_batch 1 vs 2 threads, {passes} passes (attempt {attempt + 1})")
        report = run_worker("pywfst-threads", GRAPHS["optional"], WORK / "run_threads.json",
                            split="test", limit=str(limit), passes=str(passes), threads="1,2",
                            params=params["pywfst"])
        one, two = report["batch_seconds"]["1"], report["batch_seconds"]["2"]
        audio = report["frames"] * FRAME_SECONDS
        control = [median(report[k]["1"]) / median(report[k]["2"])
                   for k in ("control_seconds_before", "control_seconds_after")]
        tries.append({"utterances": report["utterances"], "passes": passes,
                      "measured_at": time.strftime("%H:%M:%S"),
                      "seconds_1_runs": one, "seconds_2_runs": two,
                      "seconds_1": median(one), "seconds_2": median(two),
                      "speedup": median(one) / median(two),
                      "speedup_paired": median([a / b for a, b in zip(one, two)]),
                      "x_realtime_1": audio / median(one), "x_realtime_2": audio / median(two),
                      "cpu_per_wall_1": median([c / w for c, w in zip(report["cpu_seconds"]["1"], one)]),
                      "cpu_per_wall_2": median([c / w for c, w in zip(report["cpu_seconds"]["2"], two)]),
                      "control_speedup_before": control[0], "control_speedup_after": control[1],
                      "peak_rss_mib": report["peak_rss_mib"],
                      "same_results": report["same_results_across_thread_counts"]})
        if min(control) >= 1.8:
            break
        if attempt + 1 < attempts:
            log(f"  control {control[0]:.2f}x / {control[1]:.2f}x: the machine is busy; retrying")
            time.sleep(30)
    best = max(tries, key=lambda t: min(t["control_speedup_before"], t["control_speedup_after"]))
    return dict(best, attempts=len(tries), chosen_attempt=tries.index(best) + 1, all_attempts=[
        {k: t[k] for k in ("measured_at", "speedup", "control_speedup_before",
                           "control_speedup_after")} for t in tries])


def median(values):
    return statistics.median(values) if values else None


def summarize_single(name: str, reports: list, data: dict, label: str | None = None,
                     frame_seconds: float = FRAME_SECONDS) -> dict:
    """One system's rounds (worker reports of the same split): WER, CER, median times, memory."""
    first = reports[0]
    totals = [median(r["pass_seconds"]) for r in reports]  # one pass per round: that pass
    # per utterance: the median of its times over rounds (and passes)
    per_utt = [median([t for r in reports for t in r["utterance_seconds"][i]])
               for i in range(first["utterances"])]
    audio = first["frames"] * frame_seconds
    return {
        "label": label or SYSTEMS[name][3], "params": first["params"],
        "utterances": first["utterances"],
        "frames": first["frames"], "audio_seconds": round(audio, 1),
        "wer": wer(first["refs"], first["outputs"]),
        "cer": round(error_rate(list(zip(first["refs"], [o["text"] for o in first["outputs"]])),
                                unit="char"), 2),
        "decode_seconds_runs": [round(t, 4) for t in totals],
        "decode_seconds": round(median(totals), 4),
        "per_utterance_ms_median": round(1000 * median(per_utt), 3),
        "per_utterance_ms_mean": round(1000 * median(totals) / first["utterances"], 3),
        "x_realtime": round(audio / median(totals), 1),
        "load_seconds": round(median([r["load_seconds"] for r in reports]), 2),
        "rss_after_load_mib": max(r["rss_after_load_mib"] for r in reports),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in reports),
    }


def kaldi_agreement(pywfst_report: dict, kaldi_report: dict) -> dict:
    same_words = same_both = 0
    for ours, theirs in zip(pywfst_report["outputs"], kaldi_report["outputs"]):
        words = ours["word_ids"] == theirs["word_ids"]
        same_words += words
        same_both += words and abs(ours["cost"] - theirs["cost"]) <= 1e-4 * max(1.0, abs(ours["cost"]))
    count = len(pywfst_report["outputs"])
    return {"utterances": count, "same_words_pct": round(100.0 * same_words / count, 2),
            "same_words_and_cost_pct": round(100.0 * same_both / count, 2)}


def write_markdown(result: dict) -> str:
    s = result["systems"]
    base = s["pywfst"]
    lines = ["# Decode benchmark results", ""]
    if len(result.get("native_builds_seen", [])) > 1:
        lines += ["**INCONSISTENT RUN: pywfst's native module was rebuilt while it ran; the rows "
                  "mix two builds. Run again.**", ""]
    lines += [
        f"Run {result['started']} ({'--quick' if result['quick'] else 'full'}), "
        f"{result['rounds']} rounds, medians. Test split: {base['utterances']} utterances, "
        f"{base['frames']} frames = {base['audio_seconds']} s of audio at 40 ms/frame "
        f"(simulated char-CTC emissions, see README). LM: {result['data']['lm']['ngrams']}; "
        f"vocabulary {result['data']['vocabulary']} words.",
        "",
        "| system | WER % | CER % | decode s | ms/utt (median) | x-realtime | time / pywfst "
        "| peak RSS MiB | RSS after load MiB | load s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in s.items():
        ratio = row["decode_seconds"] / base["decode_seconds"]
        lines.append(f"| {row['label']} | {row['wer']:.2f} | {row['cer']:.2f} | "
                     f"{row['decode_seconds']:.3f} | {row['per_utterance_ms_median']:.2f} | "
                     f"{row['x_realtime']:.0f} | {ratio:.2f} | {row['peak_rss_mib']:.0f} | "
                     f"{row['rss_after_load_mib']:.0f} | {row['load_seconds']:.1f} |")
    lines += ["", "Settings:", ""]
    for name, row in s.items():
        lines.append(f"- {name}: `{json.dumps(row['params'])}`")
    agreement = result.get("kaldi_agreement") or {}
    threads = result.get("threads")
    lines += ["", "## Acceptance checks", ""]
    for check in result["checks"]:
        lines.append(f"- {'PASS' if check['pass'] else 'FAIL'}: {check['what']}: {check['measured']}")
    for ours, a in agreement.items():
        lines += ["", f"1-best {ours} vs Kaldi (same settings) on {a['utterances']} utterances: "
                  f"same words {a['same_words_pct']} %, same words and cost (rel. 1e-4) "
                  f"{a['same_words_and_cost_pct']} %."]
    if threads:
        lines += ["", f"Thread scaling (decode_batch, {threads['utterances']} utterances, "
                  f"{threads['passes']} alternating passes): 1 thread "
                  f"{threads['seconds_1']:.3f} s, 2 threads {threads['seconds_2']:.3f} s "
                  f"(median); speed-up {threads['speedup']:.2f}x (median of paired ratios "
                  f"{threads['speedup_paired']:.2f}x); process CPU time / wall time "
                  f"{threads['cpu_per_wall_1']:.2f} (1 thread), {threads['cpu_per_wall_2']:.2f} "
                  f"(2 threads); x-realtime with 2 threads "
                  f"{threads['x_realtime_2']:.0f}; peak RSS {threads['peak_rss_mib']:.0f} MiB; "
                  f"results identical across thread counts: {threads['same_results']}. "
                  f"Control (sha256 of 1 MB blocks, no GIL, same work on 1 and 2 threads) right "
                  f"before / after: {threads['control_speedup_before']:.2f}x / "
                  f"{threads['control_speedup_after']:.2f}x, i.e. what the machine allowed "
                  f"(attempt {threads['chosen_attempt']} "
                  f"of {threads['attempts']}: "
                  + ", ".join(f"{a['measured_at']} {a['speedup']:.2f}x (control "
                              f"{a['control_speedup_before']:.2f}/{a['control_speedup_after']:.2f})"
                              for a in threads["all_attempts"]) + ")."]
    if result.get("sweep"):
        rows = result["sweep"]
        lines += ["", f"## Speed/WER operating points (dev split, {rows[0]['utterances']} "
                  "utterances, median of 3 passes in one process)", "",
                  "| system | setting | dev WER % | decode s | x-realtime |",
                  "| --- | --- | ---: | ---: | ---: |"]
        for row in rows:
            lines.append(f"| {row['system']} | `{json.dumps(row['setting'])}` | "
                         f"{row['dev_wer']:.2f} | {row['seconds']:.3f} | {row['x_realtime']:.0f} |")
    graphs = result["graphs"]
    lines += ["", "Graphs: " + "; ".join(
        f"{g['dir']}: {g['hclg']['states']} states, {g['hclg']['arcs']} arcs, "
        f"{g['hclg_bytes'] / 2**20:.0f} MiB, built in {g['build_seconds']:.0f} s "
        f"(peak {g['build_peak_rss_mb']:.0f} MiB)" for g in graphs.values()) + "."]
    return "\n".join(lines + machine_lines(result))


def machine_lines(result: dict) -> list:
    """The closing paragraph of results.md: result["machine"] (machine_info()) and the load
    averages result["loadavg_before"] / ["loadavg_after"]. benchmarks/wer uses it too."""
    m = result["machine"]
    return ["", f"Machine: {m['nproc']} CPUs, {m['mem_total_gib']} GiB, kernel {m['kernel']}, "
            f"Python {m['python']}, pywfst {m['pywfst_git']}, native module built "
            f"{m['pywfst_native']['built']}"
            f"{' (OLDER than csrc/: rebuild!)' if m['pywfst_native']['older_than_csrc'] else ''}"
            f"; load average before/after "
            f"{result['loadavg_before']} / {result['loadavg_after']}.", "", "```",
            m["lscpu"], "```", "", f"Versions: `{json.dumps(m['versions'])}`", ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="40 test utterances (a smoke run)")
    parser.add_argument("--limit", type=int, help="test utterances (default 300; --quick 40)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (default 3)")
    parser.add_argument("--thread-passes", type=int, default=5)
    parser.add_argument("--systems", default=",".join(SYSTEMS),
                        help="comma-separated subset of " + ",".join(SYSTEMS))
    parser.add_argument("--tune", action="store_true",
                        help="grid-search LM weights on the dev split (writes results/tuning.*)")
    parser.add_argument("--tune-only", action="store_true", help="stop after --tune")
    parser.add_argument("--no-sweep", action="store_true",
                        help="skip the beam sweep on the dev split")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    limit = args.limit or (40 if args.quick else 300)
    systems = [s for s in args.systems.split(",") if s]
    for name in systems:
        if name not in SYSTEMS:
            parser.error(f"unknown system {name!r}")
    if "pyctcdecode" in systems and not PYCTC_PYTHON.exists():
        log(f"{PYCTC_PYTHON} missing (run benchmarks/decode/setup.sh): skipping pyctcdecode")
        systems.remove("pyctcdecode")
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    loadavg_before = open("/proc/loadavg").read().split()[:3]
    WORK.mkdir(exist_ok=True)
    args.out.mkdir(exist_ok=True)

    data = prepare_data()
    graphs = build_graphs()

    params = {key: dict(value) for key, value in BASE_PARAMS.items()}
    params["pywfst-mandatory"] = dict(BASE_PARAMS["pywfst"])
    tuned_file = args.out / "tuned_params.json"
    if args.tune:
        tuning = tune(systems, params)
        tuned_file.write_text(json.dumps(tuning["params"], indent=2) + "\n")
        (args.out / "tuning.json").write_text(json.dumps(tuning["grid"], indent=1) + "\n")
        lines = ["# LM-weight tuning on the dev split", "",
                 "| system | settings | dev WER % | utterances | seconds | chosen |",
                 "| --- | --- | ---: | ---: | ---: | --- |"]
        for row in tuning["grid"]:
            lines.append(f"| {row['system']} | {json.dumps(row['varied'])} | {row['dev_wer']:.2f} | "
                         f"{row['utterances']} | {row['seconds']:.1f} | "
                         f"{'**yes**' if row['chosen'] else ''} |")
        (args.out / "tuning.md").write_text("\n".join(lines) + "\n")
        if args.tune_only:
            return
    if tuned_file.exists():
        for key, value in json.loads(tuned_file.read_text()).items():
            params[key] = value
    else:
        log(f"{tuned_file} missing: using library-default weights (run with --tune)")
    for key, (source, overrides) in DERIVED.items():
        params[key] = dict(params[source], **overrides)

    reports = {name: [] for name in systems}
    for round_index in range(args.rounds):
        for name in systems:
            worker, key, graph, _ = SYSTEMS[name]
            log(f"round {round_index + 1}/{args.rounds}: {name}")
            reports[name].append(run_worker(worker, GRAPHS.get(graph),
                                            WORK / f"run_{name}_{round_index}.json",
                                            split="test", limit=str(limit),
                                            params=params[key]))
    summary = {name: summarize_single(name, reports[name], data) for name in systems}

    threads = None
    if "pywfst" in systems and args.thread_passes > 0:
        threads = measure_threads(params, limit, args.thread_passes)

    sweep_rows = [] if args.no_sweep else sweep(systems, params, 30 if args.quick else 100)

    checks = []
    agreement = {}
    for ours, kaldi in (("pywfst", "kaldi"), ("pywfst-b10", "kaldi-b10"),
                        ("pywfst-k16", "kaldi-k16"), ("pywfst-b8", "kaldi-b8")):
        if ours in summary and kaldi in summary:
            agreement[ours] = kaldi_agreement(reports[ours][0], reports[kaldi][0])
            ratio = summary[kaldi]["decode_seconds"] / summary[ours]["decode_seconds"]
            checks.append({"what": f"{ours} >= 3x faster than Kaldi FasterDecoder "
                                   f"(same settings) with the same 1-best",
                           "pass": ratio >= 3.0 and agreement[ours]["same_words_pct"] == 100.0,
                           "measured": f"{ratio:.2f}x, same 1-best words "
                                       f"{agreement[ours]['same_words_pct']} %"})
    for ours in ("pywfst", "pywfst-b10", "pywfst-mandatory", "pywfst-mandatory-b10"):
        for peer, target in (("flashlight", 5.0), ("pyctcdecode", 20.0)):
            if ours in summary and peer in summary:
                base, other = summary[ours], summary[peer]
                ratio = other["decode_seconds"] / base["decode_seconds"]
                checks.append({"what": f"{ours}: WER no worse than {peer} and >= {target:.0f}x "
                                       "faster", "pass": base["wer"] <= other["wer"] and ratio >= target,
                               "measured": f"WER {base['wer']:.2f} vs {other['wer']:.2f}, "
                                           f"{ratio:.2f}x"})
    if threads:
        checks.append({"what": "decode_batch thread scaling on 2 cores >= 1.8x",
                       "pass": threads["speedup"] >= 1.8,
                       "measured": f"{threads['speedup']:.2f}x (control workload "
                                   f"{threads['control_speedup_before']:.2f}x / "
                                   f"{threads['control_speedup_after']:.2f}x)"})

    result = {"started": started, "quick": args.quick, "rounds": args.rounds, "limit": limit,
              "data": data, "graphs": graphs, "params": params, "systems": summary,
              "kaldi_agreement": agreement, "threads": threads, "checks": checks,
              "sweep": sweep_rows,
              "native_builds_seen": sorted(NATIVE_SEEN),
              "loadavg_before": " ".join(loadavg_before),
              "loadavg_after": " ".join(open("/proc/loadavg").read().split()[:3]),
              "machine": machine_info()}
    stem = "results_quick" if args.quick else "results"
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=1) + "\n")
    markdown = write_markdown(result)
    (args.out / f"{stem}.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
