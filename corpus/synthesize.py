#!/usr/bin/env python3
"""Speak the corpus sentences with espeak-ng, flite and festival voices, augment, write WAVs and
manifests.

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

Needs `apt-get install espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k`. Never
install festival's slt voice (festvox-us-slt-hts) for training: slt is the held-out speaker.
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
FLITE_TRAIN_VOICES = ("kal", "kal16", "awb", "rms")
FESTIVAL_TRAIN_VOICES = ("kal_diphone", "ked_diphone")
# Engine shares of the training voices: espeak-ng's accents x variants give the most variety,
# festival (a process start of ~0.25 s per sentence) the least.
ENGINE_SHARES = (("espeak", 0.6), ("flite", 0.25), ("festival", 0.15))
HELD_OUT_VOICE = "flite:slt"
SPEEDS = (0.9, 1.0, 1.1)
SNRS_DB = (20, 10, 5)
NOISE_PROBABILITY = 0.5
REVERB_PROBABILITY = 0.3


def espeak_variants() -> tuple[str, ...]:
    """Every voice variant espeak-ng has (its `--voices=variant` list: 100 in 1.51; a file name
    with a space cannot be named in -v), plus the plain voice ("")."""
    listing = subprocess.run(["espeak-ng", "--voices=variant"], check=True, capture_output=True,
                             text=True).stdout.splitlines()[1:]
    names = (line.split("!v/", 1)[1].strip() for line in listing if "!v/" in line)
    return ("",) + tuple(sorted(name for name in names if " " not in name))


def random_voice(rng: random.Random, variants: tuple[str, ...]) -> str:
    engine = rng.choices([e for e, _ in ENGINE_SHARES], [w for _, w in ENGINE_SHARES])[0]
    if engine == "espeak":
        variant = rng.choice(variants)
        return f"espeak:{rng.choice(ESPEAK_VOICES)}" + (f"+{variant}" if variant else "")
    voices = FLITE_TRAIN_VOICES if engine == "flite" else FESTIVAL_TRAIN_VOICES
    return f"{engine}:{rng.choice(voices)}"


def speak(text: str, voice: str, rng: random.Random) -> np.ndarray:
    """16 kHz float samples of ``text`` spoken by ``voice`` at a random rate and pitch."""
    engine, name = voice.split(":")
    with tempfile.NamedTemporaryFile(suffix=".wav") as out:
        if engine == "espeak":
            command = ["espeak-ng", "-v", name, "-s", str(rng.randint(130, 200)),
                       "-p", str(rng.randint(30, 70)), "-w", out.name, text]
        elif engine == "festival":
            command = ["text2wave", "-eval", f"(voice_{name})", "-eval",
                       f"(Parameter.set 'Duration_Stretch {rng.uniform(0.85, 1.2):.2f})",
                       "-o", out.name]
        elif voice == HELD_OUT_VOICE:
            command = ["flite", "-voice", name, "-t", text, "-o", out.name]
        else:
            command = ["flite", "-voice", name,
                       "--setf", f"duration_stretch={rng.uniform(0.85, 1.2):.2f}",
                       "--setf", f"int_f0_target_mean={rng.randint(90, 170)}",
                       "-t", text, "-o", out.name]
        subprocess.run(command, check=True, capture_output=True,
                       input=text.encode() if engine == "festival" else None)
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


def jobs_for(split: str, rows: list[list[str]], copies: int, out: Path, rng: random.Random,
             variants: tuple[str, ...]):
    for utterance_id, domain, text in rows:
        for copy in range(copies):
            voice = HELD_OUT_VOICE if split == "test_voice" else random_voice(rng, variants)
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
                        help="the sets to render")
    args = parser.parse_args()
    wanted = set(args.splits.split(","))
    (args.out / "wav").mkdir(parents=True, exist_ok=True)
    variants = espeak_variants()
    plan = (("train", "train", args.train_copies), ("dev", "dev", 1), ("test", "test", 1),
            ("test_voice", "test", 1))
    with multiprocessing.Pool(args.jobs) as pool:
        for split, source, copies in plan:
            rows = [line.split("\t") for line in
                    (args.text / f"{source}.tsv").read_text().splitlines()]
            if split not in wanted:
                continue
            # One random stream per set: a set's voices and augmentation do not depend on the
            # size of the others.
            rng = random.Random(f"{args.seed}-{split}")
            jobs = list(jobs_for(split, rows, copies, args.out, rng, variants))
            entries = pool.map(render, jobs, chunksize=16)
            with open(args.out / f"{split}.jsonl", "w") as f:
                f.writelines(json.dumps(entry) + "\n" for entry in entries)
            hours = sum(e["duration"] for e in entries) / 3600
            print(f"{split}: {len(entries)} utterances, {hours:.2f} h")


if __name__ == "__main__":
    main()
