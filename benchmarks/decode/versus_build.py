#!/usr/bin/env python3
"""One pywfst build against another, paired: the check of a change to the search or to the Python
around it, where both sides are pywfst and so cannot share one process.

    python benchmarks/decode/versus_build.py snapshot /tmp/before   # this checkout, as built
    (change, rebuild: pip install -e . or ninja in the build directory)
    python benchmarks/decode/versus_build.py snapshot /tmp/after
    python benchmarks/decode/versus_build.py compare /tmp/before /tmp/after --beam 8

`snapshot` copies the pywfst package that this checkout imports (its Python files and its built
native module) to DIR/pywfst. `compare` starts one process per snapshot, each pinned to the same
CPU (so neither gets a faster core), loading run_benchmark.py's graph and test utterances with
min_active 20, max_active 7000 and acoustic scale 1.25 (versus_kaldi.py's settings). They take
turns of --block utterances, who goes first alternating; each decodes every utterance in order,
as a user would, and reads the result's text and word ids. Prints each round's seconds and the
median over rounds of B's time over A's in the same round, and whether both gave the same words.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import paired

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"


def snapshot(target: Path) -> None:
    import pywfst
    import pywfst._core

    package = Path(pywfst.__file__).parent
    destination = target / "pywfst"
    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(package, destination, ignore=shutil.ignore_patterns("__pycache__"))
    native = Path(pywfst._core.__file__)
    if native.parent != package:  # an editable install keeps the module apart from the sources
        shutil.copy2(native, destination / native.name)
    print(f"{destination}: the Python of {package}, the native module {native.name}")


def serve(snapshot_dir: str, beam: float, limit: int, graph: str) -> None:
    """The worker: decodes utterances [a, b) for each line 'a b' on stdin, replies 'seconds md5'."""
    # An editable install's import hook would win over sys.path: this process must import the
    # snapshot.
    sys.meta_path = [f for f in sys.meta_path if "editable" not in type(f).__module__]
    sys.path.insert(0, snapshot_dir)
    import pywfst
    import worker

    assert Path(pywfst.__file__).is_relative_to(snapshot_dir), pywfst.__file__
    utterances, _ = worker.load_split(str(WORK / "data"), "test", limit)
    decoder = pywfst.Decoder(pywfst.Graph.load(graph), beam=beam, max_active=7000,
                             min_active=20, acoustic_scale=1.25, num_threads=1)
    for emissions in utterances[:worker.WARMUP_UTTERANCES]:
        decoder.decode(emissions)
    print("ready", flush=True)
    for line in sys.stdin:
        first, last = map(int, line.split())
        start = time.perf_counter()
        outputs = []
        for emissions in utterances[first:last]:
            result = decoder.decode(emissions)
            outputs.append((result.text, result.word_ids))
        seconds = time.perf_counter() - start
        print(seconds, hashlib.md5(repr(outputs).encode()).hexdigest(), flush=True)


def compare(args) -> None:
    cpu = max(os.sched_getaffinity(0))
    # numpy's BLAS threads would share the pinned CPU, and its idle ones spin for a while.
    environment = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    workers = []
    for side in (args.a, args.b):
        command = [sys.executable, __file__, "serve", str(Path(side).resolve()),
                   "--beam", str(args.beam), "--limit", str(args.limit), "--graph", args.graph]
        workers.append(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, cwd=HERE, env=environment,
                                        preexec_fn=lambda: os.sched_setaffinity(0, {cpu})))
    for process in workers:
        if process.stdout.readline().strip() != "ready":
            raise SystemExit("a worker did not start (see its error above)")

    def run(process):
        def decode(first, last):
            process.stdin.write(f"{first} {last}\n")
            process.stdin.flush()
            seconds, digest = process.stdout.readline().split()
            return float(seconds), digest
        return decode

    seconds, digests = paired.take_turns([run(process) for process in workers], args.limit,
                                         args.block, args.rounds)
    for process in workers:
        process.stdin.close()
        process.wait()
    for round_index, (a, b) in enumerate(zip(*seconds)):
        print(f"round {round_index + 1}: A {a:.3f} s, B {b:.3f} s, B / A {b / a:.4f}")
    print(f"beam {args.beam:g}, {args.limit} utterances, {args.rounds} rounds: B / A "
          f"{paired.ratio_summary(seconds[1], seconds[0], digits=4)}; same words: "
          f"{digests[0] == digests[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("snapshot").add_argument("dir", type=Path)
    for name in ("compare", "serve"):
        command = commands.add_parser(name)
        command.add_argument("a")
        if name == "compare":
            command.add_argument("b")
            command.add_argument("--rounds", type=int, default=11)
            command.add_argument("--block", type=int, default=10, help="utterances per turn")
        command.add_argument("--beam", type=float, default=8.0)
        command.add_argument("--limit", type=int, default=500, help="test utterances")
        command.add_argument("--graph", default=str(WORK / "graph_ctc"))
    args = parser.parse_args()
    if args.command == "snapshot":
        snapshot(args.dir)
    elif args.command == "serve":
        serve(args.a, args.beam, args.limit, args.graph)
    else:
        compare(args)


if __name__ == "__main__":
    main()
