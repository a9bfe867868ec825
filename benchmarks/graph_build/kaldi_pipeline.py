#!/usr/bin/env python3
"""Kaldi's own TLG recipe with the binaries of the riva-asrlib-decoder wheel, stage by stage.

  G    arpa2fst --disambig-symbol=#0 --read-symbol-table=words.txt lm.arpa G.fst
  LG   fsttablecompose L_disambig.fst G.fst | fstdeterminizestar --use-log=true
         | fstminimizeencoded | fstarcsort --sort_type=ilabel > LG.fst
  TLG  fsttablecompose T.fst LG.fst [| fstrelabel --relabel_ipairs=disambig_to_eps] > TLG.fst

This is mkgraph.sh's LG (less fstpushspecial, which the wheel does not ship; riva's
mkgraph_ctc.sh omits it too) and riva/EESEN's TLG (no determinization of T o LG). The last step
(only when T reads its disambiguation self-loops from non-epsilon input labels) removes those
labels from TLG's input side, as Kaldi's
`fstrmsymbols disambig.int` does in mkgraph.sh; the wheel does not ship fstrmsymbols, so OpenFst's
`fstrelabel` (Debian libfst-tools, C++) maps those input labels to epsilon, the same operation.

With --lexicon/--tokens, Kaldi's own L_disambig.fst is also built and timed (stage "L": the
scripts of the same wheel, as its ctc_compile_dict_token.sh and Kaldi's prepare_lang.sh do:
add_lex_disambig.pl; make_lexicon_fst.pl | fstcompile | fstaddselfloops | fstarcsort). That stage
is informational, for an end-to-end total: the compositions below use the given L and T.

Inputs come from a `pywfst build-graph --keep-intermediate` directory (L_disambig.fst, T.fst,
words.txt, graph.json) so both pipelines build the same graph, or are given one by one.
Every stage's wall time and per-process peak RSS go to a JSON file (--json).

Run with the main venv's python (pywrapfst counts states/arcs after the timed stages):
  python benchmarks/graph_build/kaldi_pipeline.py --from-pywfst DIR --lm work/lm.arpa --out OUT
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_util import fst_counts, kaldi_bin_dir, machine_info, run_stage  # noqa: E402

RELABEL = "/usr/bin/fstrelabel"  # Debian libfst-tools (OpenFst 1.7.9)


def t_disambig_inputs(t_fst: Path, graph_json: Path | None, explicit: str | None) -> list[int]:
    """Input labels of T's disambiguation self-loops, to become epsilon in TLG: the explicit list
    ('none' for none), else every input label of T above graph.json's emission_columns (pywfst's
    T before 2026-11-25 read them as emission_columns + 1 + k; later ones read epsilon, as riva's
    T does: then there is nothing to remove and the relabel step is skipped)."""
    if explicit:
        if explicit.strip().lower() == "none":
            return []
        return [int(x) for x in explicit.replace(",", " ").split()]
    if graph_json and graph_json.is_file():
        import pywrapfst as fst

        columns = json.loads(graph_json.read_text())["emission_columns"]
        t = fst.Fst.read(str(t_fst))
        return sorted({a.ilabel for s in t.states() for a in t.arcs(s) if a.ilabel > columns})
    raise SystemExit("give --t-disambig-ids (T's input labels to remove, or 'none') or a graph.json")


def kaldi_lexicon_stage(kb: Path, lexicon: Path, tokens: Path, out: Path, log) -> dict:
    """Kaldi's L_disambig.fst from lexicon.txt and tokens.txt (timed as one stage)."""
    scripts = kb.parent
    tmp = out / "kaldi_lang"
    tmp.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    procs = []
    # lexicon.txt -> lexiconp.txt (probability 1.0), as ctc_compile_dict_token.sh does
    s1 = run_stage("L/lexiconp", [["perl", "-ape", r"s/(\S+\s+)(.+)/${1}1.0\t$2/;"]],
                   stdin=lexicon, stdout=tmp / "lexiconp.txt", log=log)
    # add_lex_disambig.pl prints the number of disambiguation symbols it used
    nd_file = tmp / "ndisambig"
    s2 = run_stage("L/add_lex_disambig", [["perl", scripts / "utils/add_lex_disambig.pl", "--pron-probs",
                                           tmp / "lexiconp.txt", tmp / "lexiconp_disambig.txt"]],
                   stdout=nd_file, log=log)
    ndisambig = int(nd_file.read_text().split()[0]) + 1  # one more (#ndisambig) for silence
    # symbol tables: tokens (+ <eps> if absent, + #0..#n), words (<eps>, words, #0, <s>, </s>)
    tok_lines = [ln.split() for ln in tokens.read_text().splitlines() if ln.strip()]
    tok = {sym: int(i) for sym, i in tok_lines}
    # pywfst/k2 convention: FST label = token id + 1 (0 is epsilon)
    with open(tmp / "tokens_disambig.txt", "w") as f:
        f.write("<eps> 0\n")
        for sym, i in sorted(tok.items(), key=lambda x: x[1]):
            f.write(f"{sym} {i + 1}\n")
        first = max(tok.values()) + 2
        for n in range(ndisambig + 1):
            f.write(f"#{n} {first + n}\n")
    words = sorted({ln.split(None, 1)[0] for ln in lexicon.read_text().splitlines() if ln.strip()})
    with open(tmp / "words.txt", "w") as f:
        f.write("<eps> 0\n")
        for i, w in enumerate(words, start=1):
            f.write(f"{w} {i}\n")
        n = len(words)
        f.write(f"#0 {n + 1}\n<s> {n + 2}\n</s> {n + 3}\n")
    s3 = run_stage("L/fst", [
        ["perl", scripts / "utils/make_lexicon_fst.pl", "--pron-probs", tmp / "lexiconp_disambig.txt"],
        [kb / "fstcompile", f"--isymbols={tmp / 'tokens_disambig.txt'}",
         f"--osymbols={tmp / 'words.txt'}", "--keep_isymbols=false", "--keep_osymbols=false"],
        [kb / "fstaddselfloops", f"echo {first} |", f"echo {n + 1} |"],
        [kb / "fstarcsort", "--sort_type=olabel"],
    ], stdout=out / "L_disambig_kaldi.fst", log=log)
    wall = time.perf_counter() - t0
    for st in (s1, s2, s3):
        procs += st["processes"]
    return {
        "stage": "L",
        "wall_s": round(wall, 3),
        "cpu_s": round(s1["cpu_s"] + s2["cpu_s"] + s3["cpu_s"], 3),
        "max_rss_mb": max(s1["max_rss_mb"], s2["max_rss_mb"], s3["max_rss_mb"]),
        "sum_max_rss_mb": s3["sum_max_rss_mb"],
        "sampled_peak_rss_mb": max(s1["sampled_peak_rss_mb"], s2["sampled_peak_rss_mb"],
                                   s3["sampled_peak_rss_mb"]),
        "processes": procs,
        "ndisambig": ndisambig,
    }


def run(args) -> dict:
    kb = kaldi_bin_dir(args.kaldi_bin)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    src = args.from_pywfst
    lfst = args.lexicon_fst or (src / "L_disambig.fst")
    tfst = args.topology_fst or (src / "T.fst")
    words = args.words or (src / "words.txt")
    gjson = (src / "graph.json") if src else None
    for p in (lfst, tfst, words, args.lm):
        if not Path(p).is_file():
            raise SystemExit(f"missing input {p}")
    ids = t_disambig_inputs(tfst, gjson, args.t_disambig_ids)
    pairs = out / "disambig_to_eps.txt"
    pairs.write_text("".join(f"{i} 0\n" for i in ids))

    stages = []
    log = open(out / "kaldi_stderr.log", "w")
    l_stage = None
    if args.lexicon and args.tokens:
        l_stage = kaldi_lexicon_stage(kb, args.lexicon, args.tokens, out, log)
    t0 = time.perf_counter()
    stages.append(run_stage("G", [[kb / "arpa2fst", "--disambig-symbol=#0",
                                   f"--read-symbol-table={words}", args.lm, out / "G.fst"]],
                            log=log))
    stages.append(run_stage("LG", [
        [kb / "fsttablecompose", lfst, out / "G.fst"],
        [kb / "fstdeterminizestar", "--use-log=true"],
        [kb / "fstminimizeencoded"],
        [kb / "fstarcsort", "--sort_type=ilabel"],
    ], stdout=out / "LG.fst", log=log))
    tlg = [[kb / "fsttablecompose", tfst, out / "LG.fst"]]
    if ids:  # fstrmsymbols' job: T's disambiguation inputs become epsilon
        tlg.append([RELABEL, f"--relabel_ipairs={pairs}"])
    stages.append(run_stage("TLG", tlg, stdout=out / "TLG.fst", log=log))
    total = time.perf_counter() - t0
    log.close()

    result = {
        "pipeline": "kaldi",
        "kaldi_bin": str(kb),
        "inputs": {"L_disambig": str(lfst), "T": str(tfst), "words": str(words), "lm": str(args.lm),
                   "t_disambig_input_ids": ids},
        "stages": stages,
        "total_wall_s": round(total, 3),
        "peak_rss_mb": max(s["max_rss_mb"] for s in stages),
        "peak_rss_sampled_concurrent_mb": max(s["sampled_peak_rss_mb"] for s in stages),
        "kaldi_L_stage": l_stage,
        "machine": machine_info(),
    }
    if l_stage:
        result["total_wall_with_L_s"] = round(total + l_stage["wall_s"], 3)
    if not args.no_counts:
        names = ["G", "LG", "TLG"] + (["L_disambig_kaldi"] if l_stage else [])
        result["fst_counts"] = {n: fst_counts(out / f"{n}.fst") for n in names}
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from-pywfst", type=Path, help="pywfst build-graph --keep-intermediate dir")
    ap.add_argument("--lexicon-fst", type=Path, help="L_disambig.fst (default: from --from-pywfst)")
    ap.add_argument("--topology-fst", type=Path, help="T.fst with disambig self-loops")
    ap.add_argument("--words", type=Path, help="words.txt with #0")
    ap.add_argument("--t-disambig-ids", help="T's disambig input labels to remove, e.g. '41,42,43', or 'none'")
    ap.add_argument("--lm", type=Path, required=True, help="ARPA LM")
    ap.add_argument("--lexicon", type=Path, help="lexicon.txt: also time Kaldi's own L build")
    ap.add_argument("--tokens", type=Path, help="tokens.txt (with --lexicon)")
    ap.add_argument("--out", type=Path, required=True, help="output dir (G, LG, TLG .fst)")
    ap.add_argument("--kaldi-bin", help="dir of arpa2fst etc. (default: riva wheel in ./venv)")
    ap.add_argument("--json", type=Path, help="write the timings here (default OUT/kaldi.json)")
    ap.add_argument("--no-counts", action="store_true", help="skip counting states/arcs")
    args = ap.parse_args()
    if not args.from_pywfst and not (args.lexicon_fst and args.topology_fst and args.words):
        ap.error("give --from-pywfst DIR or all of --lexicon-fst, --topology-fst, --words")
    if bool(args.lexicon) != bool(args.tokens):
        ap.error("--lexicon and --tokens go together")
    result = run(args)
    path = args.json or (args.out / "kaldi.json")
    path.write_text(json.dumps(result, indent=2) + "\n")
    for s in ([result["kaldi_L_stage"]] if result["kaldi_L_stage"] else []) + result["stages"]:
        print(f"{s['stage']:<4} {s['wall_s']:8.2f} s wall  {s['cpu_s']:8.2f} s cpu  "
              f"peak RSS {s['max_rss_mb']:8.1f} MiB (per process; pipe sum "
              f"{s['sum_max_rss_mb']:.0f}, sampled {s['sampled_peak_rss_mb']:.0f})")
    print(f"total {result['total_wall_s']:.2f} s, peak RSS {result['peak_rss_mb']:.0f} MiB; "
          f"{json.dumps(result.get('fst_counts', {}))}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
