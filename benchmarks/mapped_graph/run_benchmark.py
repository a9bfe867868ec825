#!/usr/bin/env python3
"""Mapped graph (HCLG.csr) against parsing HCLG.fst: load time, and the memory of N workers.

1. Load time of a ~10M-arc graph: ``CsrGraph.load(HCLG.fst)`` (the OpenFst reader) against
   ``CsrGraph.map(HCLG.csr)`` (header, checksum and full check of the mapped arrays), both from
   the page cache (warm) and with the two files evicted from it first (cold: posix_fadvise
   DONTNEED on our own files only, so other work on the machine keeps its cache). Interleaved
   rounds; medians. Also what a worker pays in all: ``Graph.load(dir).native`` + a ``Decoder``.
2. Memory of 1 and N worker processes that each load the graph (parse or map), build a Decoder
   and decode a few utterances of random emissions, then wait: RSS, PSS and USS (private) of
   each from /proc/PID/smaps_rollup while all are alive; summed over the workers. PSS splits a
   shared page between the processes that map it, so the sum of PSS is the memory they take.

The graph: ``--graph DIR`` (any graph directory with HCLG.fst and words.txt), else a synthetic
CTC-like graph written to work/synthetic (3 M states, about 10 M arcs: a blank self-loop and
two token arcs per state, a third of the states with a backoff-like epsilon arc to a lower
state, 10 % of token arcs with a word; random weights, some negative).

    python benchmarks/mapped_graph/run_benchmark.py [--graph DIR] [--rounds 7] [--workers 4]

Writes results/results.{json,md} (``--tag NAME`` adds a section per graph to them).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "benchmarks" / "graph_build"))

import pywfst  # noqa: E402
from bench_util import machine_info  # noqa: E402
from pywfst import _core  # noqa: E402

FST_MAGIC = 2125659606


def write_synthetic_graph(directory: Path, num_states: int, seed: int = 0) -> None:
    """A CTC-like HCLG.fst (OpenFst vector format, as build_graph writes it) and its words.txt."""
    rng = np.random.default_rng(seed)
    columns, words = 29, 50000
    arc_type = np.dtype([("ilabel", "<i4"), ("olabel", "<i4"), ("weight", "<f4"),
                         ("nextstate", "<i4")])
    states = np.arange(num_states, dtype=np.int32)
    blank = np.zeros(num_states, arc_type)
    blank["ilabel"], blank["weight"], blank["nextstate"] = 1, 0.1, states
    tokens = np.zeros((num_states, 2), arc_type)
    tokens["ilabel"] = rng.integers(2, columns + 1, (num_states, 2))
    tokens["weight"] = rng.exponential(2.0, (num_states, 2))
    tokens["nextstate"] = rng.integers(0, num_states, (num_states, 2))
    with_word = rng.random((num_states, 2)) < 0.1
    tokens["olabel"][with_word] = rng.integers(1, words + 1, with_word.sum())
    has_epsilon = (rng.random(num_states) < 1 / 3) & (states > 0)
    epsilon = np.zeros(num_states, arc_type)
    epsilon["weight"] = rng.normal(1.0, 1.0, num_states)  # some negative, as after pushing
    epsilon["nextstate"] = (rng.random(num_states) * states).astype(np.int32)  # acyclic
    finals = np.where(rng.random(num_states) < 0.01, 0.5, np.inf).astype("<f4")
    counts = 3 + has_epsilon.astype(np.int64)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "HCLG.fst", "wb") as f:
        def string(s: bytes) -> bytes:
            return struct.pack("<i", len(s)) + s

        f.write(struct.pack("<i", FST_MAGIC) + string(b"vector") + string(b"standard")
                + struct.pack("<iiQqqq", 2, 0, 0, 0, num_states, int(counts.sum())))
        for start in range(0, num_states, 100_000):
            parts = []
            for s in range(start, min(start + 100_000, num_states)):
                parts += [struct.pack("<fq", finals[s], counts[s]), blank[s].tobytes(),
                          tokens[s].tobytes()]
                if has_epsilon[s]:
                    parts.append(epsilon[s].tobytes())
            f.write(b"".join(parts))
    with open(directory / "words.txt", "w") as f:
        f.write("<eps> 0\n" + "".join(f"w{i} {i}\n" for i in range(1, words + 1)))


def evict(*paths: Path) -> None:
    """Drops the files' pages from the page cache (only these files; unmapped ones only)."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def timed(function) -> tuple:
    """Wall seconds and CPU seconds of this process (the CPU figure is what other work on a
    shared machine disturbs least)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = function()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    del result
    return seconds, cpu_seconds


def summary(runs: list) -> dict:
    return {"median_s": round(statistics.median(w for w, _ in runs), 4),
            "median_cpu_s": round(statistics.median(c for _, c in runs), 4),
            "runs_s": [round(w, 4) for w, _ in runs], "runs_cpu_s": [round(c, 4) for _, c in runs]}


def load_times(graph_dir: Path, rounds: int) -> dict:
    fst, csr = graph_dir / "HCLG.fst", graph_dir / "HCLG.csr"
    stat = fst.stat()
    source = (stat.st_size, stat.st_mtime_ns)
    pywfst.Graph.load(graph_dir).native  # writes HCLG.csr when absent or stale

    def worker(parse: bool):  # what a worker does: the graph, its words checked, a decoder
        graph = pywfst.Graph.load(graph_dir)
        if parse:  # as Graph.native did before HCLG.csr
            graph._native = _core.CsrGraph.load(fst)
            graph._check_words(graph._native.output_labels())
        return pywfst.Decoder(graph)

    cases = {"parse HCLG.fst": lambda: _core.CsrGraph.load(fst),
             "map HCLG.csr": lambda: _core.CsrGraph.map(csr, source),
             "Graph.load + Decoder, parsing": lambda: worker(True),
             "Graph.load + Decoder, mapping": lambda: worker(False)}
    times = {name: {"warm": [], "cold": []} for name in cases}
    for _ in range(rounds):
        for name, function in cases.items():  # interleaved
            times[name]["warm"].append(timed(function))
        for name, function in cases.items():
            evict(fst, csr)
            times[name]["cold"].append(timed(function))
    write = []
    parsed = _core.CsrGraph.load(fst)
    for _ in range(3):
        write.append(timed(lambda: parsed.write_mapped(graph_dir / "scratch.csr", source)))
    (graph_dir / "scratch.csr").unlink()
    result = {name: {kind: summary(v) for kind, v in t.items()} for name, t in times.items()}
    result["write HCLG.csr (from a parsed graph)"] = {"warm": summary(write)}
    result["graph"] = {"states": parsed.num_states, "arcs": parsed.num_arcs,
                       "HCLG.fst_bytes": fst.stat().st_size, "HCLG.csr_bytes": csr.stat().st_size,
                       "memory_bytes": parsed.memory_bytes}
    return result


WORKER = r"""
import sys, numpy as np, pywfst
from pywfst import _core
graph_dir, mode = sys.argv[1], sys.argv[2]
graph = pywfst.Graph.load(graph_dir)
if mode == "parse":  # what Graph.load did before HCLG.csr: the reader's own copy
    graph._native = _core.CsrGraph.load(str(graph.fst_path))
if mode != "import":
    decoder = pywfst.Decoder(graph, max_active=2000)
    assert graph.native.mapped == (mode == "map")
    rng = np.random.default_rng(0)
    columns = graph.native.max_input_label
    for _ in range(3):
        logits = rng.normal(0, 3, (300, columns)).astype(np.float32)
        decoder.decode(logits - np.logaddexp.reduce(logits, axis=1, keepdims=True))
print("ready", flush=True)
sys.stdin.readline()
"""


def smaps_rollup(pid: int) -> dict:
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1])
    return {"rss_mb": fields["Rss"] / 1024, "pss_mb": fields["Pss"] / 1024,
            "uss_mb": (fields["Private_Clean"] + fields["Private_Dirty"]) / 1024,
            "shared_mb": (fields["Shared_Clean"] + fields["Shared_Dirty"]) / 1024}


def worker_memory(graph_dir: Path, mode: str, workers: int) -> dict:
    """Starts `workers` processes at once; measures them when all are ready, then ends them."""
    env = dict(os.environ, PYTHONSAFEPATH="1", OMP_NUM_THREADS="1")
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(graph_dir), mode],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
             for _ in range(workers)]
    try:
        for p in procs:
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError(f"worker {p.pid} ({mode}) failed")
        each = [smaps_rollup(p.pid) for p in procs]
    finally:
        for p in procs:
            p.stdin.close()
            p.wait()
    total = {key: round(sum(e[key] for e in each), 1) for key in each[0]}
    return {"mode": mode, "workers": workers, "sum": total,
            "per_worker": [{k: round(v, 1) for k, v in e.items()} for e in each]}


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [f"# Mapped graph (HCLG.csr) vs parsing HCLG.fst", "",
             f"Machine: {m.get('cpu')}, {m['nproc']} cores, {m.get('mem_total_gb')} GB "
             f"(a KVM guest shared with other work), Python {m['python']}.", ""]
    for tag, r in results["graphs"].items():
        g = r["load"]["graph"]
        lines += [f"## {tag}", "", r["description"], "",
                  f"{g['states']:,} states, {g['arcs']:,} arcs; HCLG.fst "
                  f"{g['HCLG.fst_bytes'] / 2**20:.1f} MiB, HCLG.csr "
                  f"{g['HCLG.csr_bytes'] / 2**20:.1f} "
                  f"MiB. Medians of {r['rounds']} interleaved rounds.", "",
                  "| load | warm cache: wall (s) | warm: CPU (s) | cold cache: wall (s) | "
                  "cold: CPU (s) |", "| --- | ---: | ---: | ---: | ---: |"]
        for name, t in r["load"].items():
            if name == "graph":
                continue
            cells = [f"{t[kind][key]:.3f}" if kind in t else "-"
                     for kind in ("warm", "cold") for key in ("median_s", "median_cpu_s")]
            lines.append(f"| {name} | {' | '.join(cells)} |")
        warm = {name: r["load"][name]["warm"] for name in ("parse HCLG.fst", "map HCLG.csr")}
        ratio = {key: warm["parse HCLG.fst"][key] / warm["map HCLG.csr"][key]
                 for key in ("median_s", "median_cpu_s")}
        lines += ["", f"Map against parse (warm): {ratio['median_s']:.1f}x less wall time, "
                  f"{ratio['median_cpu_s']:.1f}x less CPU time.", "",
                  "| workers | graph | sum RSS (MB) | sum PSS (MB) | sum USS (MB) | "
                  "PSS per worker (MB) |", "| ---: | --- | ---: | ---: | ---: | ---: |"]
        for row in r["memory"]:
            s = row["sum"]
            lines.append(f"| {row['workers']} | {row['mode']} | {s['rss_mb']:.0f} | "
                         f"{s['pss_mb']:.0f} | {s['uss_mb']:.0f} | "
                         f"{s['pss_mb'] / row['workers']:.0f} |")
        pss = {(row["mode"], row["workers"]): row["sum"]["pss_mb"] for row in r["memory"]}
        n = max(workers for _, workers in pss)
        extra = {mode: (pss[mode, n] - pss[mode, 1]) / (n - 1) for mode in ("parse", "map")}
        lines += ["", f"Each worker after the first adds {extra['parse']:.0f} MB (parse) or "
                  f"{extra['map']:.0f} MB (map) of PSS.", ""]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--graph", type=Path, help="a graph directory (default: synthetic)")
    parser.add_argument("--states", type=int, default=3_000_000, help="synthetic graph's states")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--tag", help="the results section's name (default: the graph's)")
    parser.add_argument("--description", help="what the --graph is, for the results")
    args = parser.parse_args()
    if args.graph is None:
        graph_dir = HERE / "work" / f"synthetic_{args.states}"
        if not (graph_dir / "HCLG.fst").is_file():
            print(f"writing a synthetic graph to {graph_dir} ...", file=sys.stderr)
            write_synthetic_graph(graph_dir, args.states)
        description = (f"Synthetic CTC-like graph ({args.states:,} states; "
                       "write_synthetic_graph in run_benchmark.py).")
    else:
        graph_dir = args.graph
        description = args.description or f"Graph directory {graph_dir}."
    tag = args.tag or ("synthetic" if args.graph is None else graph_dir.name)
    print(f"[{tag}] load times, {args.rounds} rounds ...", file=sys.stderr)
    load = load_times(graph_dir, args.rounds)
    print(json.dumps({k: v for k, v in load.items()}, indent=1), file=sys.stderr)
    memory = []
    for workers in (1, args.workers):
        for mode in ("import", "parse", "map"):
            print(f"[{tag}] {workers} workers, {mode} ...", file=sys.stderr)
            memory.append(worker_memory(graph_dir, mode, workers))
            print(json.dumps(memory[-1]["sum"]), file=sys.stderr)

    out = HERE / "results"
    out.mkdir(exist_ok=True)
    path = out / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {"graphs": {}}
    results["machine"] = machine_info()
    results["graphs"][tag] = {"description": description, "rounds": args.rounds, "load": load,
                              "memory": memory, "date": time.strftime("%Y-%m-%d")}
    path.write_text(json.dumps(results, indent=1) + "\n")
    (out / "results.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
