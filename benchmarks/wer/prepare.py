#!/usr/bin/env python3
"""The acoustic model's emissions on the corpus's dev and test sets, computed once, in the format
that benchmarks/decode/worker.py reads (`--data DIR`).

Writes into --out (default benchmarks/wer/work/data):
  tokens.txt          the model's tokens (`<blk> 0`, `| 1`, a-z, `'`)
  lm.arpa             a symbolic link to --lm (checked: no n-gram with log10 probability -99)
  lexicon_fl.txt      flashlight lexicon, `word w o r d |`, one line per word of the ARPA: the
                      words pywfst's `build-graph --spell` spells and pyctcdecode takes as its
                      unigrams, so every decoder knows the same vocabulary
  {split}.npz         emissions [sum of T, V] float32 (utterances concatenated), lengths [N]
  {split}.json        reference texts
  {split}_meta.json   per utterance: id, domain, voice, duration (s), frames, am_seconds
  data.json           model, LM, lexicon and, per split, utterances, audio seconds, frames,
                      out-of-vocabulary words, AM time and x-realtime
Each split is reordered to interleave its domains (general, medical, legal, general, ...), so the
first N utterances (worker.py --limit N, as tuning uses) cover every domain.

AM timing: wall time of AcousticModel.emissions(wav) per utterance (read, resample, log-mel,
forward pass; after one untimed warm-up call), in one process; BLAS is held to one thread
(OPENBLAS_NUM_THREADS etc., unless set by the caller), as every decoder here decodes on one
thread. Nothing is redone while data.json records the same model, LM, manifests and options.

    python benchmarks/wer/prepare.py --model recipes/reference_am/work/m.npz --per-domain 3
"""
from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before numpy is imported

import argparse  # noqa: E402
import collections  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "benchmarks" / "decode"))
sys.path.insert(0, str(REPO))
from prepare_data import arpa_counts, check_arpa  # noqa: E402  (benchmarks/decode)

from pywfst.am import AcousticModel, bundled_model_path  # noqa: E402
from pywfst.graph.build import file_sha256  # noqa: E402

SPLITS = ("dev", "test", "test_voice")
DOMAINS = ("general", "medical", "legal")
FORMAT = 2  # bump when the written files change


def log(message: str) -> None:
    print(f"[wer-prepare {time.strftime('%H:%M:%S')}] {message}", flush=True)


def arpa_words(path: Path) -> list[str]:
    """The unigrams of an ARPA file, without <s>, </s> and <unk>."""
    words, inside = [], False
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("\\1-grams:"):
                inside = True
            elif inside and line.startswith("\\"):
                break
            elif inside and line.strip():
                word = line.split("\t")[1].strip() if "\t" in line else line.split()[1]
                if word not in ("<s>", "</s>", "<unk>"):
                    words.append(word)
    return words


def interleave_domains(entries: list[dict]) -> list[dict]:
    """general, medical, legal, general, ... (manifest order within a domain)."""
    queues = collections.OrderedDict()
    for entry in entries:
        queues.setdefault(entry.get("domain", "general"), []).append(entry)
    out = []
    while any(queues.values()):
        for queue in queues.values():
            if queue:
                out.append(queue.pop(0))
    return out


def select(entries: list[dict], per_domain: int | None) -> list[dict]:
    if per_domain is None:
        return entries
    counts: collections.Counter = collections.Counter()
    chosen = []
    for entry in entries:
        domain = entry.get("domain", "general")
        if counts[domain] < per_domain:
            counts[domain] += 1
            chosen.append(entry)
    return chosen


def oov_stats(entries: list[dict], vocabulary: set[str]) -> dict:
    """Reference words outside the lexicon (no lexicon-bound decoder can output them)."""
    stats = {}
    for domain in ("all",) + DOMAINS:
        words = [w for e in entries if domain in ("all", e.get("domain", "general"))
                 for w in e["text"].split()]
        if words:
            oov = sum(w not in vocabulary for w in words)
            stats[domain] = {"words": len(words), "oov": oov,
                             "oov_pct": round(100.0 * oov / len(words), 2)}
    return stats


def compute_split(model: AcousticModel, manifest: Path, entries: list[dict], out: Path,
                  name: str) -> dict:
    arrays, meta = [], []
    if entries:  # warm-up (imports, filterbank cache), untimed
        model.emissions(manifest.parent / entries[0]["audio"])
    started = time.perf_counter()
    for index, entry in enumerate(entries):
        wav = manifest.parent / entry["audio"]
        t0 = time.perf_counter()
        emissions = model.emissions(wav)
        seconds = time.perf_counter() - t0
        arrays.append(np.ascontiguousarray(emissions, dtype=np.float32))
        meta.append({"id": entry["id"], "domain": entry.get("domain", "general"),
                     "voice": entry.get("voice"), "duration": entry["duration"],
                     "frames": len(emissions), "am_seconds": round(seconds, 5)})
        if (index + 1) % 100 == 0:
            log(f"  {name}: {index + 1}/{len(entries)} utterances "
                f"({time.perf_counter() - started:.0f} s)")
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    # frame_shift: the emissions' seconds per frame (the entry `pywfst decode` reads too)
    np.savez(out / f"{name}.npz", emissions=np.concatenate(arrays), lengths=lengths,
             frame_shift=model.frame_shift)
    (out / f"{name}.json").write_text(json.dumps([e["text"] for e in entries], indent=0) + "\n")
    (out / f"{name}_meta.json").write_text(json.dumps(meta, indent=0) + "\n")
    audio = sum(m["duration"] for m in meta)
    am_seconds = sum(m["am_seconds"] for m in meta)
    return {"manifest": str(manifest), "utterances": len(entries),
            "domains": dict(collections.Counter(m["domain"] for m in meta)),
            "voices": len({m["voice"] for m in meta}),
            "audio_seconds": round(audio, 2), "frames": int(lengths.sum()),
            "am_seconds": round(am_seconds, 3), "am_x_realtime": round(audio / am_seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None,
                        help="acoustic model .npz (default: the bundled reference model)")
    parser.add_argument("--audio", type=Path, default=REPO / "corpus" / "work" / "audio",
                        help="folder of the {split}.jsonl manifests")
    parser.add_argument("--lm", type=Path, default=REPO / "corpus" / "work" / "lm" / "lm.arpa")
    parser.add_argument("--splits", default=",".join(SPLITS))
    parser.add_argument("--per-domain", type=int, default=None,
                        help="only the first N utterances of each domain per split (smoke runs)")
    parser.add_argument("--out", type=Path, default=HERE / "work" / "data")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    model_path = (args.model or bundled_model_path()).resolve()
    if not model_path.exists():
        raise SystemExit(f"{model_path}: no such model file (train one with "
                         "recipes/reference_am/train.py, or pass --model)")
    lm_path = args.lm.resolve()
    splits = [s for s in args.splits.split(",") if s]
    manifests = {s: args.audio.resolve() / f"{s}.jsonl" for s in splits}
    for manifest in manifests.values():
        if not manifest.exists():
            raise SystemExit(f"{manifest}: missing (corpus/synthesize.py writes it)")
    stamp = {"format": FORMAT, "model_sha256": file_sha256(model_path),
             "lm_sha256": file_sha256(lm_path), "per_domain": args.per_domain,
             "manifests": {s: file_sha256(m) for s, m in manifests.items()},
             "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS")}
    out: Path = args.out
    summary_path = out / "data.json"
    if not args.force and summary_path.exists() \
            and json.loads(summary_path.read_text()).get("stamp") == stamp:
        log(f"{out} is up to date (same model, LM, manifests and options)")
        return
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    check_arpa(lm_path)
    (out / "lm.arpa").symlink_to(lm_path)
    model = AcousticModel.load(model_path)
    model.write_tokens(out / "tokens.txt")
    spellable = set(model.tokens) - {model.tokens[0], "|"}
    words = arpa_words(lm_path)
    lexicon = [w for w in words if set(w) <= spellable]
    (out / "lexicon_fl.txt").write_text("".join(f"{w} {' '.join(w)} |\n" for w in lexicon))
    vocabulary = set(lexicon)
    log(f"model {model_path.name} ({model.info.get('parameters', '?')} parameters), LM "
        f"{lm_path} ({len(words)} words, {len(words) - len(lexicon)} not spellable)")

    summary = {"stamp": stamp,
               "model": {"path": str(model_path), "shape": model.network.shape.to_dict(),
                         "frame_shift": model.frame_shift, "info": model.info},
               "lm": {"path": str(lm_path), "ngrams": arpa_counts(lm_path), "words": len(words)},
               "lexicon_words": len(lexicon), "unspellable_lm_words": len(words) - len(lexicon),
               "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"), "splits": {}}
    for split, manifest in manifests.items():
        entries = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
        entries = interleave_domains(select(entries, args.per_domain))
        log(f"{split}: emissions of {len(entries)} utterances")
        info = compute_split(model, manifest, entries, out, split)
        info["oov"] = oov_stats(entries, vocabulary)
        summary["splits"][split] = info
        log(f"{split}: {info['audio_seconds']:.0f} s of audio, {info['frames']} frames, AM "
            f"{info['am_seconds']:.1f} s ({info['am_x_realtime']:.0f}x realtime), OOV "
            f"{info['oov']['all']['oov_pct']} %")
    summary_path.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
