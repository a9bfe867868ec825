#!/usr/bin/env python3
"""Build the decode benchmark's inputs into benchmarks/decode/work/data/.

From Debian's wordnet-base (the same WordNet glosses benchmarks/graph_build uses) it writes:
  tokens.txt        `<blk> 0`, `| 1`, a-z 2..27, `' 28` (k2 style; wav2vec2-like char set)
  vocab.txt         LM vocabulary: words seen at least --min-count times in the LM text
  lm_text.txt       LM training text: every WordNet sentence except the held-out ones (exact
                    duplicates of held-out sentences removed too), split at out-of-vocabulary words
  lm.arpa           kaldingram 3-gram (Kneser-Ney, no count cut-offs), entropy-pruned (--prune)
  lexicon_fl.txt    flashlight lexicon: `word w o r d |` (spelling + word separator)
  dev.json/test.json  held-out sentences (5-20 words, every word in the vocabulary)
  {dev,test}.npz    simulated CTC log-probabilities for them (see --confusion etc.)
  data.json         counts and settings (copied to results/data.json by run_benchmark.py)

Only the graph of pywfst is built elsewhere (run_benchmark.py). Run with the main venv:
  . .venv/bin/activate && python benchmarks/decode/prepare_data.py
"""
from __future__ import annotations

import argparse
import collections
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "corpus"))
from make_text import wordnet_sentences  # noqa: E402  (corpus/make_text.py)
CHARS = "abcdefghijklmnopqrstuvwxyz'"
# Simulated-emission settings (pywfst.synthetic.simulate_ctc_emissions).
EMISSION_DEFAULTS = {"peak": 5.0, "noise": 1.5, "confusion": 0.2}


def log(message: str) -> None:
    print(f"[prepare_data] {message}", flush=True)


def read_wordnet() -> list[tuple[str, ...]]:
    """WordNet glosses as word tuples, read and normalised by the corpus's own reader."""
    return [tuple(sentence.split()) for sentence in wordnet_sentences()]


def token_ids() -> dict[str, int]:
    ids = {"<blk>": 0, "|": 1}
    for char in CHARS:
        ids[char] = len(ids)
    return ids


def spell(sentence, ids) -> list[int]:
    """Chars of each word, each word followed by '|' (fairseq/wav2vec2 letter targets:
    `w o r d | w o r d |`, which flashlight's lexicon `word w o r d |` expects)."""
    out: list[int] = []
    for word in sentence:
        out += [ids[c] for c in word] + [ids["|"]]
    return out


def arpa_counts(path: Path) -> dict[str, int]:
    counts = {}
    with open(path) as handle:
        for line in handle:
            match = re.match(r"ngram (\d+)=(\d+)", line)
            if match:
                counts[f"{match.group(1)}-grams"] = int(match.group(2))
            elif line.startswith("\\1-grams:"):
                break
    return counts


def check_arpa(path: Path) -> None:
    """No n-gram but <s> may have log10 probability -99. (kaldingram 0.1.x with --gt3min 2 wrote
    hundreds of thousands of such bigrams: kenlm then scores them as given, while an FST G
    backs off around them, so the decoders would see different LMs.)"""
    bad = 0
    with open(path) as handle:
        for line in handle:
            if line.startswith("-99") and line.split("\t")[1] != "<s>":
                bad += 1
    if bad:
        raise SystemExit(f"{path}: {bad} n-grams with log10 probability -99")


def perplexity(path: Path, sentences) -> float:
    import kenlm

    model = kenlm.Model(str(path))
    log10 = sum(model.score(" ".join(s), bos=True, eos=True) for s in sentences)
    return round(10 ** (-log10 / sum(len(s) + 1 for s in sentences)), 1)


def simulate(sentences, ids, seed: int, settings: dict):
    from pywfst.synthetic import simulate_ctc_emissions

    rng = np.random.default_rng(seed)
    arrays = [simulate_ctc_emissions(spell(s, ids), len(ids), rng, **settings) for s in sentences]
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    return np.concatenate(arrays).astype(np.float32), lengths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "work" / "data")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--format", default="2", help=argparse.SUPPRESS)  # bump to rebuild
    parser.add_argument("--min-count", type=int, default=2,
                        help="vocabulary: words seen at least this often in the LM text")
    parser.add_argument("--prune", type=float, default=1e-7,
                        help="kaldingram prune threshold (relative perplexity change)")
    parser.add_argument("--dev", type=int, default=200, help="held-out dev sentences (tuning)")
    parser.add_argument("--test", type=int, default=500, help="held-out test sentences")
    for key, value in EMISSION_DEFAULTS.items():
        parser.add_argument(f"--{key}", type=float, default=value)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    out: Path = args.out
    settings = {key: getattr(args, key) for key in EMISSION_DEFAULTS}
    stamp = json.dumps({k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                        if k != "force"}, sort_keys=True)
    if not args.force and (out / "data.json").exists() and (out / "args.json").exists() \
            and (out / "args.json").read_text() == stamp:
        log(f"{out} is up to date")
        return
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    started = time.perf_counter()

    sentences = read_wordnet()
    n_words = sum(len(s) for s in sentences)
    unique = sorted(set(sentences))
    rng = np.random.default_rng(args.seed)
    rng.shuffle(unique)
    # Held-out candidates: 5-20 words; their exact copies leave the LM text too.
    candidates = [s for s in unique if 5 <= len(s) <= 20][: 4 * (args.dev + args.test)]
    held = set(candidates)
    train = [s for s in sentences if s not in held]
    counts = collections.Counter(w for s in train for w in s)
    vocab = {w for w, c in counts.items() if c >= args.min_count}
    in_vocab = [s for s in candidates if all(w in vocab for w in s)]
    if len(in_vocab) < args.dev + args.test:
        raise SystemExit(f"only {len(in_vocab)} in-vocabulary held-out sentences")
    dev, test = in_vocab[: args.dev], in_vocab[args.dev: args.dev + args.test]

    n_lm_lines = n_lm_words = n_oov = 0
    with open(out / "lm_text.txt", "w") as handle:
        for sentence in train:
            segment: list[str] = []
            for word in list(sentence) + [None]:
                if word is not None and word in vocab:
                    segment.append(word)
                    continue
                if word is not None:
                    n_oov += 1
                if segment:
                    handle.write(" ".join(segment) + "\n")
                    n_lm_lines += 1
                    n_lm_words += len(segment)
                segment = []
    words = sorted(vocab)
    (out / "vocab.txt").write_text("\n".join(words) + "\n")
    ids = token_ids()
    (out / "tokens.txt").write_text("".join(f"{sym} {i}\n" for sym, i in ids.items()))
    (out / "lexicon_fl.txt").write_text("".join(f"{w} {' '.join(w)} |\n" for w in words))
    log(f"WordNet: {len(sentences)} sentences, {n_words} words; held out dev {len(dev)}, "
        f"test {len(test)}; LM text {n_lm_lines} lines / {n_lm_words} words; vocabulary "
        f"{len(words)} (min count {args.min_count}; {n_oov} OOV tokens split lines)")

    exe = shutil.which("kaldingram") or str(Path(sys.executable).parent / "kaldingram")
    t0 = time.perf_counter()
    full = out / "lm_full.arpa"
    for cmd in ([exe, "train", "--ngram-order", "3", "--text", str(out / "lm_text.txt"),
                 "--lm", str(full)],
                [exe, "prune", "--threshold", str(args.prune), "--lm", str(full),
                 "--write-lm", str(out / "lm.arpa"), "--verbose", "5"]):
        log(" ".join(cmd))
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lm_seconds = time.perf_counter() - t0
    full_ngrams = arpa_counts(full)
    full.unlink()
    ngrams = arpa_counts(out / "lm.arpa")
    check_arpa(out / "lm.arpa")
    log(f"lm.arpa: {ngrams} (before pruning {full_ngrams}; {lm_seconds:.1f} s)")

    summary = {"wordnet_sentences": len(sentences), "wordnet_words": n_words,
               "lm_text_lines": n_lm_lines, "lm_text_words": n_lm_words,
               "oov_tokens_split": n_oov, "vocabulary": len(words), "min_count": args.min_count,
               "lm": {"tool": "kaldingram train (order 3, Kneser-Ney, no count cut-offs) + "
                              "kaldingram prune (relative entropy)", "prune_threshold": args.prune,
                      "ngrams_before_pruning": full_ngrams, "ngrams": ngrams,
                      "arpa_bytes": (out / "lm.arpa").stat().st_size,
                      "train_seconds": round(lm_seconds, 1)},
               "tokens": len(ids), "emissions": dict(settings, seed=args.seed,
                                                     simulator="pywfst.synthetic.simulate_ctc_emissions")}
    for name, split, seed in (("dev", dev, args.seed + 1), ("test", test, args.seed + 2)):
        emissions, lengths = simulate(split, ids, seed, settings)
        np.savez(out / f"{name}.npz", emissions=emissions, lengths=lengths)
        (out / f"{name}.json").write_text(json.dumps([" ".join(s) for s in split], indent=0) + "\n")
        summary[name] = {"sentences": len(split), "words": sum(len(s) for s in split),
                         "lm_perplexity": perplexity(out / "lm.arpa", split),
                         "frames": int(lengths.sum()),
                         "audio_seconds_at_40ms": round(float(lengths.sum()) * 0.04, 1)}
        log(f"{name}: {len(split)} sentences, {int(lengths.sum())} frames")
    summary["prepare_seconds"] = round(time.perf_counter() - started, 1)
    (out / "data.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "args.json").write_text(stamp)


if __name__ == "__main__":
    main()
