#!/usr/bin/env python3
"""Speak the corpus sentences with espeak-ng and flite voices, augment, write WAVs and manifests.

Each train sentence is spoken --train-copies times, each time by a random training voice at a
random rate and pitch, then augmented: speed perturbation (0.9 / 1.0 / 1.1), additive noise
(white, pink or brown) at 20, 10 or 5 dB SNR and simulated room reverberation, each with the
probabilities below. Dev and test sentences are spoken once by a training voice with the same
augmentation, and test sentences once more by the held-out voice (flite's slt, never trained on),
without augmentation, for the cross-voice test set.

Manifests (JSON lines, one utterance a line), in --out:
  {"id": ..., "audio": "wav/<id>.wav" (relative to the manifest), "duration": seconds,
   "text": reference, "domain": general|medical|legal, "voice": "espeak:en-us+f3" ...,
   "augment": {"speed": 1.1, "noise": "pink", "snr_db": 10, "rt60": 0.4}}
Files: train.jsonl, dev.jsonl, test.jsonl, test_voice.jsonl. Audio: 16 kHz 16-bit mono.

Needs `apt-get install espeak-ng flite`.
    python corpus/synthesize.py            # reads corpus/work/text, writes corpus/work/audio
    python corpus/synthesize.py --splits dev,test,test_voice   # the evaluation sets only
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from scipy.io import wavfile
from scipy.signal import fftconvolve

from pywfst.am.audio import read_wav, resample

HERE = Path(__file__).resolve().parent
RATE = 16000
ESPEAK_VOICES = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc",
                 "en-gb-x-gbclan", "en-gb-x-gbcwmd")
ESPEAK_VARIANTS = ("", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
                   "klatt", "klatt2", "klatt3", "klatt4", "croak", "whisper", "Alicia", "Andy",
                   "Annie", "belinda", "david", "grandma", "linda", "max", "paul", "robert",
                   "steph", "travis")
FLITE_TRAIN_VOICES = ("kal", "kal16", "awb", "rms")
HELD_OUT_VOICE = "flite:slt"
SPEEDS = (0.9, 1.0, 1.1)
SNRS_DB = (20, 10, 5)
NOISE_PROBABILITY = 0.5
REVERB_PROBABILITY = 0.3


def random_voice(rng: random.Random) -> str:
    if rng.random() < 0.75:
        variant = rng.choice(ESPEAK_VARIANTS)
        return f"espeak:{rng.choice(ESPEAK_VOICES)}" + (f"+{variant}" if variant else "")
    return f"flite:{rng.choice(FLITE_TRAIN_VOICES)}"


def speak(text: str, voice: str, rng: random.Random) -> np.ndarray:
    """16 kHz float samples of ``text`` spoken by ``voice`` at a random rate and pitch."""
    engine, name = voice.split(":")
    with tempfile.NamedTemporaryFile(suffix=".wav") as out:
        if engine == "espeak":
            command = ["espeak-ng", "-v", name, "-s", str(rng.randint(130, 200)),
                       "-p", str(rng.randint(30, 70)), "-w", out.name, text]
        elif voice == HELD_OUT_VOICE:
            command = ["flite", "-voice", name, "-t", text, "-o", out.name]
        else:
            command = ["flite", "-voice", name,
                       "--setf", f"duration_stretch={rng.uniform(0.85, 1.2):.2f}",
                       "--setf", f"int_f0_target_mean={rng.randint(90, 170)}",
                       "-t", text, "-o", out.name]
        subprocess.run(command, check=True, capture_output=True)
        samples, rate = read_wav(out.name)
    return resample(samples, rate, RATE)


def coloured_noise(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    white = rng.standard_normal(size)
    if kind == "white":
        return white
    spectrum = np.fft.rfft(white)
    frequencies = np.maximum(np.fft.rfftfreq(size), 1.0 / size)
    exponent = 0.5 if kind == "pink" else 1.0  # amplitude ~ f^-1/2 (pink) or f^-1 (brown)
    return np.fft.irfft(spectrum / frequencies ** exponent, n=size)


def room_impulse_response(rt60: float, rng: np.random.Generator) -> np.ndarray:
    """Direct path plus exponentially decaying noise that falls by 60 dB in ``rt60`` seconds."""
    length = int(rt60 * RATE)
    decay = np.exp(-6.9078 * np.arange(length) / length)
    response = rng.standard_normal(length) * decay * 0.3
    response[0] = 1.0
    return response / np.sqrt(np.sum(response ** 2))


def augment(samples: np.ndarray, rng: random.Random) -> tuple[np.ndarray, dict]:
    np_rng = np.random.default_rng(rng.getrandbits(32))
    applied = {"speed": rng.choice(SPEEDS)}
    if applied["speed"] != 1.0:  # Kaldi-style speed perturbation: tempo and pitch change
        samples = resample(samples, round(RATE * applied["speed"]), RATE)
    if rng.random() < REVERB_PROBABILITY:
        applied["rt60"] = round(rng.uniform(0.2, 0.7), 2)
        reverberant = fftconvolve(samples, room_impulse_response(applied["rt60"], np_rng))
        samples = reverberant[:samples.size]
    if rng.random() < NOISE_PROBABILITY:
        applied["noise"] = rng.choice(("white", "pink", "brown"))
        applied["snr_db"] = rng.choice(SNRS_DB)
        noise = coloured_noise(applied["noise"], samples.size, np_rng)
        signal_power = np.mean(samples ** 2) + 1e-12
        noise *= np.sqrt(signal_power / (np.mean(noise ** 2) * 10 ** (applied["snr_db"] / 10)))
        samples = samples + noise
    return samples, applied


def render(job: dict) -> dict:
    rng = random.Random(job["seed"])
    samples = speak(job["text"], job["voice"], rng)
    applied = {}
    if job["augment"]:
        samples, applied = augment(samples, rng)
    peak = np.max(np.abs(samples)) + 1e-9
    scaled = samples * (rng.uniform(0.3, 0.9) / peak)
    wavfile.write(job["path"], RATE, (scaled * 32767).astype(np.int16))
    return {"id": job["id"], "audio": f"wav/{job['id']}.wav",
            "duration": round(samples.size / RATE, 3), "text": job["text"],
            "domain": job["domain"], "voice": job["voice"], "augment": applied}


def jobs_for(split: str, rows: list[list[str]], copies: int, out: Path, rng: random.Random):
    for utterance_id, domain, text in rows:
        for copy in range(copies):
            voice = HELD_OUT_VOICE if split == "test_voice" else random_voice(rng)
            name = f"{utterance_id}-{copy}" if copies > 1 else utterance_id
            if split == "test_voice":
                name = utterance_id.replace("test-", "testvoice-")
            yield {"id": name, "text": text, "domain": domain, "voice": voice,
                   "augment": split != "test_voice", "seed": rng.getrandbits(32),
                   "path": str(out / "wav" / f"{name}.wav")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--text", type=Path, default=HERE / "work" / "text")
    parser.add_argument("--out", type=Path, default=HERE / "work" / "audio")
    parser.add_argument("--train-copies", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--splits", default="train,dev,test,test_voice",
                        help="the sets to render (the others are planned but not spoken, so "
                             "each set's voices and augmentation are the same as in a full run)")
    args = parser.parse_args()
    wanted = set(args.splits.split(","))
    (args.out / "wav").mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    plan = (("train", "train", args.train_copies), ("dev", "dev", 1), ("test", "test", 1),
            ("test_voice", "test", 1))
    with multiprocessing.Pool(args.jobs) as pool:
        for split, source, copies in plan:
            rows = [line.split("\t") for line in
                    (args.text / f"{source}.tsv").read_text().splitlines()]
            jobs = list(jobs_for(split, rows, copies, args.out, rng))
            if split not in wanted:
                continue
            entries = pool.map(render, jobs, chunksize=16)
            with open(args.out / f"{split}.jsonl", "w") as f:
                f.writelines(json.dumps(entry) + "\n" for entry in entries)
            hours = sum(e["duration"] for e in entries) / 3600
            print(f"{split}: {len(entries)} utterances, {hours:.2f} h")


if __name__ == "__main__":
    main()
