#!/usr/bin/env python3
"""Pick the demo recordings and write the demo LM into pywfst/data/demo/ (what `pywfst demo` reads).

Recordings: from the test sets (never trained on), for each domain the first --per-domain
utterances, in manifest order, whose words are all in the LM vocabulary (the demo shows what the
decoder does with known words; benchmarks/wer measures everything): a third from the held-out
voice (test_voice), the rest from training voices with noise/reverb augmentation (test).
LM: the corpus LM (corpus/make_lm.py) pruned harder so the demo graph builds in seconds.

    python corpus/make_demo.py
"""
from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEMO = HERE.parent / "pywfst" / "data" / "demo"
DOMAINS = ("general", "medical", "legal")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--audio", type=Path, default=HERE / "work" / "audio")
    parser.add_argument("--lm", type=Path, default=HERE / "work" / "lm" / "lm.arpa")
    parser.add_argument("--prune", type=float, default=1e-6)
    parser.add_argument("--per-domain", type=int, default=3)
    args = parser.parse_args()
    vocabulary = set((args.lm.parent / "vocab.txt").read_text().split())

    shutil.rmtree(DEMO / "wav", ignore_errors=True)
    (DEMO / "wav").mkdir(parents=True)
    rows, texts = [], set()
    for domain in DOMAINS:
        picked = 0
        for split in ("test_voice", "test"):
            entries = [json.loads(line) for line in (args.audio / f"{split}.jsonl").open()]
            wanted = max(1, args.per_domain // 3) if split == "test_voice" else args.per_domain - picked
            for entry in entries:
                if wanted == 0:
                    break
                if (entry["domain"] == domain and set(entry["text"].split()) <= vocabulary
                        and entry["text"] not in texts):
                    texts.add(entry["text"])
                    shutil.copy(args.audio / entry["audio"], DEMO / "wav" / f"{entry['id']}.wav")
                    rows.append(f"{entry['id']}.wav\t{entry['text']}")
                    wanted -= 1
                    picked += 1
    (DEMO / "utterances.tsv").write_text("\n".join(rows) + "\n")

    kaldingram = shutil.which("kaldingram") or str(Path(sys.executable).parent / "kaldingram")
    pruned = DEMO / "lm.arpa"
    subprocess.run([kaldingram, "prune", "--threshold", str(args.prune), "--lm", str(args.lm),
                    "--write-lm", str(pruned)], check=True, capture_output=True)
    with open(pruned, "rb") as plain, gzip.GzipFile(DEMO / "lm.arpa.gz", "wb", mtime=0) as packed:
        shutil.copyfileobj(plain, packed)
    pruned.unlink()
    print(f"{len(rows)} recordings, LM {(DEMO / 'lm.arpa.gz').stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
