#!/usr/bin/env python3
"""Train the reference char CTC model on the synthesized corpus and export it for numpy.

    python corpus/make_text.py && python corpus/synthesize.py      # the data (see corpus/)
    python recipes/reference_am/train.py --epochs 24               # from scratch
    python recipes/reference_am/train.py --init pywfst/data/am/reference_char_ctc.npz \
        --epochs 5 --lr 1.5e-3                                     # go on from a shipped model
    python recipes/reference_am/train.py --init pywfst/data/am/reference_char_ctc.npz \
        --blocks 16 --epochs 6                                     # ... made deeper
    python recipes/reference_am/train.py --resume                  # after an interruption
    python recipes/reference_am/train.py --resume --export-now     # export a run cut short

Features are computed once (pywfst.am.features.log_mel, the inference code) and cached in
--work. Each epoch ends with greedy CER/WER on dev and a checkpoint (--work/last.pt: model,
optimizer and schedule, so --resume goes on where it stopped); the best epoch is exported to
--export, and its greedy CER/WER on every test set (computed with the exported numpy model) go
to --work/metrics.json and into the model file's info. --epochs may be fractional: the last
epoch then stops early, and the learning-rate schedule spans exactly the steps taken.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import random
import time
from pathlib import Path

import numpy as np
import torch

from pywfst.am import AcousticModel, FeatureConfig, log_mel, read_wav, resample
from pywfst.am.model import ModelShape, output_frames
from pywfst.am.torch_model import ConvCtcModel, deepen, export_weights, load_exported
from pywfst.metrics import error_rate
from pywfst.synthetic import greedy_text

ROOT = Path(__file__).resolve().parents[2]
TOKENS = ["<blk>", "|"] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["'"]
TOKEN_IDS = {t: i for i, t in enumerate(TOKENS)}
FEATURES = FeatureConfig()


def text_to_ids(text: str) -> list[int]:
    return [TOKEN_IDS["|" if c == " " else c] for c in " ".join(text.split())]


def features_of(path: str) -> np.ndarray:
    samples, rate = read_wav(path)
    return log_mel(resample(samples, rate, FEATURES.sample_rate), FEATURES).astype(np.float16)


def load_split(audio_dir: Path, split: str, cache: Path) -> tuple[list[dict], list[np.ndarray]]:
    """Manifest entries and their cached features (computed on first use, in parallel)."""
    entries = [json.loads(line) for line in (audio_dir / f"{split}.jsonl").read_text().splitlines()]
    if cache.exists():
        with np.load(cache) as stored:
            flat, offsets = stored["features"], stored["offsets"]
    else:
        with multiprocessing.Pool() as pool:
            feats = pool.map(features_of, [str(audio_dir / e["audio"]) for e in entries],
                             chunksize=32)
        offsets = np.cumsum([0] + [len(f) for f in feats])
        flat = np.concatenate(feats)
        np.savez(cache, features=flat, offsets=offsets)
    return entries, [flat[offsets[i]:offsets[i + 1]] for i in range(len(entries))]


def batches(lengths: list[int], max_frames: int, rng: random.Random) -> list[list[int]]:
    """Index batches of similar length holding at most max_frames padded frames each, shuffled."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i] + rng.random())
    result, current = [], []
    for index in order:
        if current and lengths[index] * (len(current) + 1) > max_frames:
            result.append(current)
            current = []
        current.append(index)
    result.append(current)
    rng.shuffle(result)
    return result


def spec_augment(x: torch.Tensor, rng: random.Random) -> torch.Tensor:
    """Two frequency masks (up to 12 bins) and time masks (up to 30 frames, one per 3 s)."""
    x = x.clone()
    for row in x:
        for _ in range(2):
            width = rng.randint(0, 12)
            start = rng.randint(0, row.shape[1] - width)
            row[:, start:start + width] = 0
        for _ in range(max(1, row.shape[0] // 300)):
            width = rng.randint(0, 30)
            start = rng.randint(0, max(0, row.shape[0] - width))
            row[start:start + width] = 0
    return x


def pad(features: list[np.ndarray]) -> torch.Tensor:
    out = np.zeros((len(features), max(len(f) for f in features), FEATURES.num_mels), np.float32)
    for row, f in zip(out, features):
        row[:len(f)] = f
    return torch.from_numpy(out)


def greedy_scores(model, features: list[np.ndarray], texts: list[str]) -> dict:
    model.eval()
    pairs = []
    with torch.no_grad():
        for f, text in zip(features, texts):
            log_probs = model(torch.from_numpy(f.astype(np.float32))[None])[0].numpy()
            pairs.append((text, greedy_text(log_probs, TOKENS)))
    model.train()
    return error_rates(pairs)


def error_rates(pairs: list[tuple[str, str]]) -> dict:
    """WER and CER (%) of (reference, hypothesis) pairs."""
    return {"wer": error_rate(pairs), "cer": error_rate(pairs, unit="char")}


def greedy_metrics(model: AcousticModel, entries: list[dict], features: list[np.ndarray]) -> dict:
    """Greedy CER and WER (%) of an exported model on one set."""
    pairs = [(e["text"], greedy_text(model.network.log_probs(f.astype(np.float32)), model.tokens))
             for e, f in zip(entries, features)]
    rates = error_rates(pairs)
    return {"cer": round(rates["cer"], 2), "wer": round(rates["wer"], 2), "utterances": len(pairs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--audio", type=Path, default=ROOT / "corpus" / "work" / "audio")
    parser.add_argument("--work", type=Path, default=Path(__file__).resolve().parent / "work")
    parser.add_argument("--export", type=Path,
                        default=ROOT / "pywfst" / "data" / "am" / "reference_char_ctc.npz")
    parser.add_argument("--epochs", type=float, default=24)
    parser.add_argument("--init", type=Path,
                        help="an exported model (.npz) of the same shape to start from")
    parser.add_argument("--resume", action="store_true", help="go on from --work/last.pt")
    parser.add_argument("--export-now", action="store_true",
                        help="with --resume: export the best epoch so far instead of training on "
                             "(a run cut short)")
    parser.add_argument("--warmup", type=float, default=0.15,
                        help="share of the steps spent raising the learning rate")
    parser.add_argument("--max-batch-frames", type=int, default=24000)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--channels", type=int, help="width of a new model (default 256)")
    parser.add_argument("--blocks", type=int,
                        help="residual blocks (default 10); with --init, at least the model's: "
                             "blocks added to it start as the identity")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    if args.export_now and not args.resume:
        parser.error("--export-now goes with --resume")
    args.work.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # denormal activations slow CPU training many times over
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)

    started = time.time()
    data = {split: load_split(args.audio, split, args.work / f"features_{split}.npz")
            for split in ("train", "dev", "test", "test_voice")}
    print(f"features ready in {time.time() - started:.0f} s", flush=True)
    train_entries, train_feats = data["train"]
    train_targets = [torch.tensor(text_to_ids(e["text"])) for e in train_entries]
    dev_texts = [e["text"] for e in data["dev"][0]]

    lengths = [len(f) for f in train_feats]
    if args.init:
        initial = AcousticModel.load(args.init)
        if initial.tokens != TOKENS:
            raise SystemExit(f"{args.init}: tokens {initial.tokens} are not this recipe's")
        if args.channels not in (None, initial.network.shape.channels):
            raise SystemExit(f"{args.init} has {initial.network.shape.channels} channels; "
                             f"--init cannot change them")
        model = ConvCtcModel(initial.network.shape)
        sample = sorted(range(len(lengths)), key=lambda i: rng.random())[:64]
        load_exported(model, initial.network.weights,
                      pad([train_feats[i].astype(np.float32) for i in sample]))
        if args.blocks is not None:
            model = deepen(model, args.blocks)
    else:
        model = ConvCtcModel(ModelShape(channels=args.channels or 256,
                                        num_blocks=args.blocks or 10, num_tokens=len(TOKENS)))
    shape = model.shape
    steps_per_epoch = len(batches(lengths, args.max_batch_frames, random.Random(0)))
    total_steps = max(1, round(args.epochs * steps_per_epoch))
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-2)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, total_steps=total_steps + 1, pct_start=args.warmup)
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    best, first_epoch, step = (math.inf, None), 1, 0
    if args.resume:
        state = torch.load(args.work / "last.pt", weights_only=False)
        if state["total_steps"] != total_steps:
            raise SystemExit(f"{args.work / 'last.pt'} belongs to a run of {state['total_steps']}"
                             f" steps; resume it with the --epochs and data it was started with")
        for target, name in ((model, "model"), (optimizer, "optimizer"), (schedule, "schedule")):
            target.load_state_dict(state[name])
        rng.setstate(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        first_epoch, step = state["epoch"] + 1, state["step"]
        best = (state["best_cer"], torch.load(args.work / "best.pt"))
    log = open(args.work / "train_log.jsonl", "a" if args.resume else "w")
    train_started = time.time()
    last_epoch = first_epoch - 1 if args.export_now else math.ceil(total_steps / steps_per_epoch)
    for epoch in range(first_epoch, last_epoch + 1):
        total_loss, count = 0.0, 0
        for batch in batches(lengths, args.max_batch_frames, rng)[:total_steps - step]:
            x = spec_augment(pad([train_feats[i].astype(np.float32) for i in batch]), rng)
            out_lengths = torch.tensor([output_frames(lengths[i], shape) for i in batch])
            targets = [train_targets[i] for i in batch]
            log_probs = model(x).transpose(0, 1)  # [T, B, V] for CTCLoss
            loss = ctc(log_probs, torch.cat(targets), out_lengths,
                       torch.tensor([len(t) for t in targets]))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            schedule.step()
            total_loss += loss.item()
            count += 1
        step += count
        dev = greedy_scores(model, data["dev"][1], dev_texts)
        record = {"epoch": epoch, "steps": step, "loss": round(total_loss / count, 4),
                  "dev_cer": round(dev["cer"], 2), "dev_wer": round(dev["wer"], 2),
                  "minutes": round((time.time() - train_started) / 60, 1)}
        print(json.dumps(record), flush=True)
        log.write(json.dumps(record) + "\n")
        log.flush()
        if dev["cer"] < best[0]:
            best = (dev["cer"], {k: v.clone() for k, v in model.state_dict().items()})
            torch.save(best[1], args.work / "best.pt")
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "schedule": schedule.state_dict(), "rng": rng.getstate(),
                    "torch_rng": torch.get_rng_state(), "epoch": epoch, "step": step,
                    "total_steps": total_steps, "best_cer": best[0]}, args.work / "last.pt")

    model.load_state_dict(best[1])
    model.eval()
    train_hours = sum(e["duration"] for e in train_entries) / 3600
    minutes = None if args.export_now else round((time.time() - train_started) / 60, 1)
    info = {"trained_minutes": minutes, "epochs": args.epochs,
            "epochs_done": round(step / steps_per_epoch, 2),
            "initialised_from": args.init.name if args.init else None,
            "train_utterances": len(train_entries), "train_hours": round(train_hours, 2),
            "parameters": sum(p.numel() for p in model.parameters())}
    exported = AcousticModel(shape, export_weights(model), TOKENS, FEATURES, info)
    info["greedy"] = {split: greedy_metrics(exported, *data[split])
                      for split in ("dev", "test", "test_voice")}
    args.export.parent.mkdir(parents=True, exist_ok=True)
    exported.save(args.export)
    (args.work / "metrics.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
