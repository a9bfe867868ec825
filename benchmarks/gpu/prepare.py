#!/usr/bin/env python3
"""Prepares, on this machine, everything the one GPU device call carries (issue 11): the
benchmark graph, the emissions with their references, the tests' recorded graphs and the wheels
the GPU machine lacks, all in benchmarks/gpu/work/device/ (git-ignored: /benchmarks/*/work/).

  . .venv/bin/activate
  python benchmarks/gpu/prepare.py            # ~2 min; reuses what is up to date
  python benchmarks/gpu/prepare.py --utterances 300 --lm corpus/work/lm/lm.arpa

What it writes (work/device/):
  graph/       HCLG.fst.gz (the demo LM's 34,825 words spelled with the reference AM's chars, '|'
               optional: 1.14M states, 3.8M arcs; gzip: ~16 MB), words.txt, tokens.txt,
               graph.json, pronunciations.txt. The device unpacks HCLG.fst next to it.
  speech.npz   the bundled reference AM's emissions (log-probs, float16, frames concatenated)
               of real speech: corpus/work/audio's test, test_voice, dev and train utterances when
               corpus/work exists, else the nine bundled demo WAVs, each augmented many times
               (speed, tempo, reverberation, noise: corpus/synthesize.py's augment()).
  synthetic.npz  simulated char-CTC emissions (pywfst.synthetic) of the project's 750 medical
               and legal sentences: many distinct words for a WER comparison.
  test_graphs/ the graphs and char_setup that tests/test_cuda_{decoder,gpu}.py build, recorded
               (graph_cache.py replays them where pynini is missing).
  wheels/      riva-asrlib-decoder 0.4.4 (cp312, manylinux) for the side-by-side benchmark.
  manifest.json  sets (references, frames, audio seconds, source), graph counts, frame shift,
               git commit, sizes.
It stops with an error when the tree that a device call sends (tracked and untracked files,
plus the carried work/device/) would pass 60 MiB of the 64 MiB limit.
"""
from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # the AM's BLAS: one thread (more only contend)

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WORK = HERE / "work"
DEVICE = WORK / "device"
DEMO = REPO / "pywfst" / "data" / "demo"
CORPUS_AUDIO = REPO / "corpus" / "work" / "audio"
SENTENCES = [REPO / "corpus" / "sentences" / f"{d}.txt" for d in ("medical", "legal")]
RIVA_WHEEL = "riva-asrlib-decoder==0.4.4"
# pip download of cp312 manylinux wheels for the GPU machine (its Python is 3.12).
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64"]
CARRY_LIMIT_MIB = 60
# Simulated emissions: a token peak over Gaussian logits, 22 % of token frames confused: greedy
# CTC reads them about as badly as the reference AM's on the demo WAVs (CER ~45 %).
SYNTHETIC = {"peak": 5.0, "noise": 1.1, "confusion": 0.22}

sys.path.insert(0, str(REPO / "corpus"))  # corpus/synthesize.py's augment()


def log(message: str) -> None:
    print(f"[gpu-prepare {time.strftime('%H:%M:%S')}] {message}", flush=True)


def mib(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def download_wheels(target: Path) -> list:
    target.mkdir(parents=True, exist_ok=True)
    if not list(target.glob("riva_asrlib_decoder-0.4.4-cp312-*.whl")):
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--python-version", "3.12", "--implementation", "cp", "-d", str(target),
                   RIVA_WHEEL]
        for platform in PLATFORMS:
            command[4:4] = ["--platform", platform]
        subprocess.run(command, check=True)
    return sorted(p.name for p in target.glob("*.whl"))


def build_graph(lm: Path, tokens: Path, frame_shift: float, out: Path) -> dict:
    """The benchmark graph (cached in work/graph_full while the LM and tokens are unchanged),
    copied to `out` with HCLG.fst gzipped and the files decoding does not read left out."""
    import pywfst
    from pywfst.graph.build import file_sha256

    full = WORK / "graph_full"
    info_path = full / "graph.json"
    inputs = {"lm": file_sha256(lm), "tokens": file_sha256(tokens)}
    if not (info_path.is_file() and {k: v["sha256"] for k, v in json.loads(
            info_path.read_text())["inputs"].items()} == inputs):
        log(f"building the graph from {lm} (spelled words, '|' optional)...")
        pywfst.build_graph(tokens, full, spell=True, word_boundary="|", boundary_mandatory=False,
                           lm=lm, frame_shift=frame_shift, force=True, progress=False)
    info = json.loads(info_path.read_text())
    if out.exists():  # (with anything an older bench.py unpacked into it)
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in ("words.txt", "tokens.txt", "graph.json", "pronunciations.txt"):
        shutil.copyfile(full / name, out / name)
    with open(full / "HCLG.fst", "rb") as source, gzip.open(out / "HCLG.fst.gz", "wb", 6) as gz:
        shutil.copyfileobj(source, gz, 1 << 20)
    counts = info["fst_counts"]["HCLG"]
    log(f"graph: {counts['states']} states, {counts['arcs']} arcs, HCLG.fst "
        f"{mib(full / 'HCLG.fst'):.1f} MiB, gzipped {mib(out / 'HCLG.fst.gz'):.1f} MiB")
    return {"lm": str(lm.relative_to(REPO) if lm.is_relative_to(REPO) else lm),
            "words": info["num_words"], "states": counts["states"], "arcs": counts["arcs"],
            "hclg_mib": round(mib(full / "HCLG.fst"), 1),
            "hclg_gz_mib": round(mib(out / "HCLG.fst.gz"), 1)}


def speech_items(count: int, seed: int):
    """(id, text, samples, rate) of real speech: corpus/work's synthesized test sets when there,
    else the bundled demo WAVs augmented (the same nine sentences, many renditions)."""
    from pywfst.am import read_wav, resample

    manifests = [CORPUS_AUDIO / f"{s}.jsonl" for s in ("test", "test_voice", "dev", "train")]
    if all(m.is_file() for m in manifests[:2]):
        made = 0
        for manifest in manifests:
            if not manifest.is_file():
                continue
            for line in manifest.read_text().splitlines():
                entry = json.loads(line)
                samples, rate = read_wav(manifest.parent / entry["audio"])
                yield entry["id"], entry["text"], samples, rate
                made += 1
                if made == count:
                    return
        return
    from synthesize import RATE, augment  # corpus/synthesize.py

    rows = [line.split("\t") for line in (DEMO / "utterances.tsv").read_text().splitlines()]
    originals = []
    for name, text in rows:
        samples, rate = read_wav(DEMO / "wav" / name)
        originals.append((Path(name).stem, text, resample(samples, rate, RATE)))
    rng = random.Random(seed)
    for index in range(count):
        stem, text, samples = originals[index % len(originals)]
        if index >= len(originals):  # the originals once, then augmented renditions
            samples, _ = augment(samples, rng)
            tempo = 1.0 + rng.randint(-7, 7) / 100  # rates 160 Hz apart keep polyphase cheap
            samples = resample(samples, round(RATE * tempo), RATE) * rng.uniform(0.3, 1.0)
        yield f"{stem}-{index:04d}", text, samples, RATE


def speech_set(count: int, seed: int) -> tuple:
    from pywfst.am import AcousticModel

    model = AcousticModel.load()
    emissions, ids, refs = [], [], []
    started = time.perf_counter()
    for utterance_id, text, samples, rate in speech_items(count, seed):
        emissions.append(model.emissions(samples, rate))
        ids.append(utterance_id)
        refs.append(text)
    source = ("corpus/work/audio (synthesized speech: test, test_voice, dev, train)"
              if (CORPUS_AUDIO / "test.jsonl").is_file() else
              "the 9 bundled demo WAVs (pywfst/data/demo), then augmented renditions of them "
              "(corpus/synthesize.py's augment: speed 0.9/1.0/1.1, reverberation, noise; tempo "
              "0.93-1.07, level): 9 distinct sentences")
    log(f"speech: {len(ids)} utterances through the reference AM in "
        f"{time.perf_counter() - started:.1f} s")
    return emissions, ids, refs, source, model


def synthetic_set(token_ids: dict, seed: int) -> tuple:
    from pywfst.synthetic import simulate_ctc_emissions

    rng = np.random.default_rng(seed)
    emissions, ids, refs = [], [], []
    for path in SENTENCES:
        for index, line in enumerate(path.read_text().splitlines()):
            words = [w for w in line.split() if all(c in token_ids for c in w)]
            if not words:
                continue
            tokens = [t for w in words for t in [token_ids[c] for c in w] + [token_ids["|"]]]
            emissions.append(simulate_ctc_emissions(tokens, len(token_ids), rng, **SYNTHETIC))
            ids.append(f"{path.stem}-{index:04d}")
            refs.append(" ".join(words))
    source = (f"pywfst.synthetic.simulate_ctc_emissions {SYNTHETIC} over the "
              f"{len(ids)} sentences of corpus/sentences/medical.txt and legal.txt (simulated, "
              "not an acoustic model)")
    return emissions, ids, refs, source


def save_set(name: str, emissions: list, ids: list, refs: list, source: str, tokens: list,
             frame_shift: float) -> dict:
    from pywfst.metrics import error_rate
    from pywfst.synthetic import greedy_text

    lengths = np.array([len(e) for e in emissions], dtype=np.int32)
    path = DEVICE / f"{name}.npz"
    np.savez_compressed(path, logp=np.concatenate(emissions).astype(np.float16), lengths=lengths)
    greedy = [greedy_text(e, tokens) for e in emissions]
    entry = {"file": path.name, "source": source, "utterances": len(ids),
             "frames": int(lengths.sum()), "max_frames": int(lengths.max()),
             "audio_seconds": round(float(lengths.sum()) * frame_shift, 1),
             "greedy_wer": round(error_rate(list(zip(refs, greedy))), 2),
             "greedy_cer": round(error_rate(list(zip(refs, greedy)), unit="char"), 2),
             "mib": round(mib(path), 1), "ids": ids, "refs": refs}
    log(f"{name}: {entry['utterances']} utterances, {entry['audio_seconds']} s of audio, "
        f"{entry['max_frames']} frames at most, greedy WER {entry['greedy_wer']} % "
        f"(CER {entry['greedy_cer']} %), "
        f"{entry['mib']} MiB")
    return entry


def record_test_graphs(target: Path) -> None:
    """Runs one cuda-sim test with graph_cache.py recording: the `graphs` fixture of
    tests/test_cuda_decoder.py (used by test_cuda_gpu.py too) builds the three test graphs."""
    if target.exists():
        shutil.rmtree(target)
    env = dict(os.environ, PYWFST_GRAPH_CACHE=str(target), PYWFST_GRAPH_CACHE_MODE="record",
               PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "graph_cache", "-p",
                    "no:cacheprovider", "tests/test_cuda_decoder.py", "-k", "bad_inputs"],
                   cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
    log(f"test graphs: {len(list((target / 'graphs').iterdir()))} recorded, "
        f"{mib(target):.1f} MiB")


def traveling_mib() -> float:
    """What a device call sends besides the carried paths: tracked and untracked-not-ignored
    files (its README: the working tree that travels)."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True, check=True).stdout.split(b"\0")
    return sum((REPO / p.decode()).stat().st_size for p in listed
               if p and (REPO / p.decode()).is_file()) / 2**20


def git_state() -> str:
    def run(*args):
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout
    dirty = run("status", "--porcelain", "--", "csrc", "pywfst", "CMakeLists.txt").strip()
    return run("rev-parse", "--short", "HEAD").strip() + (" + uncommitted csrc/pywfst changes"
                                                          if dirty else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lm", type=Path, default=DEMO / "lm.arpa.gz",
                        help="ARPA LM of the benchmark graph (default: the demo's)")
    parser.add_argument("--utterances", type=int, default=1000, help="speech utterances")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    from pywfst.am import AcousticModel

    started = time.perf_counter()
    DEVICE.mkdir(parents=True, exist_ok=True)
    wheels = download_wheels(DEVICE / "wheels")
    model = AcousticModel.load()
    tokens = model.write_tokens(WORK / "tokens.txt")
    graph = build_graph(args.lm.resolve(), tokens, model.frame_shift, DEVICE / "graph")
    token_ids = {t: i for i, t in enumerate(model.tokens)}
    emissions, ids, refs, source, _ = speech_set(args.utterances, args.seed)
    sets = {"speech": save_set("speech", emissions, ids, refs, source, model.tokens,
                               model.frame_shift)}
    emissions, ids, refs, source = synthetic_set(token_ids, args.seed)
    sets["synthetic"] = save_set("synthetic", emissions, ids, refs, source, model.tokens,
                                 model.frame_shift)
    record_test_graphs(DEVICE / "test_graphs")
    manifest = {"created": time.strftime("%Y-%m-%d %H:%M:%S"), "git": git_state(),
                "frame_shift": model.frame_shift, "tokens": model.tokens, "graph": graph,
                "sets": sets, "wheels": wheels}
    (DEVICE / "manifest.json").write_text(json.dumps(manifest, indent=1))
    carried, tree = mib(DEVICE), traveling_mib()
    sizes = {p.name: round(mib(p), 1) for p in sorted(DEVICE.iterdir())}
    log(f"carried {carried:.1f} MiB ({sizes}) + working tree {tree:.1f} MiB = "
        f"{carried + tree:.1f} MiB of the 64 MiB a device call takes; "
        f"prepared in {time.perf_counter() - started:.0f} s")
    if carried + tree > CARRY_LIMIT_MIB:
        raise SystemExit(f"too large: {carried + tree:.1f} MiB > {CARRY_LIMIT_MIB} MiB "
                         "(fewer --utterances, a smaller LM)")


if __name__ == "__main__":
    main()
