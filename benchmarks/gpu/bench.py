#!/usr/bin/env python3
"""Issue 11's GPU benchmark: pywfst's batched GPU search against riva-asrlib-decoder's
BatchedMappedDecoderCuda on the same graph (benchmarks/gpu/prepare.py's HCLG.fst: the demo LM,
1.14M states) and the same emissions, side by side in one run on the GPU machine.

  python benchmarks/gpu/bench.py run --out $OUT          # run_on_device.sh calls this
  python benchmarks/gpu/bench.py run --device cuda-sim --dry-run --out /tmp/x   # here: the flow
  python benchmarks/gpu/bench.py sanitize                # one small batch (compute-sanitizer)

Each system runs in its own process (a worker, driven over a pipe), holding its decoder and the
emissions, already on the GPU as one padded float32 tensor [N, T, V] (lengths on the host): the
timed call is the decoder alone, from GPU log-probs to host results. For each beam, each system
makes its decoder and decodes the smallest batch once untimed (riva's kernels are compiled from
PTX for sm_90 then), then the timed runs alternate between the systems, batch size by batch size,
for --reps rounds (fewer when the beam's share of --budget runs out); tables give medians, and
the first round's largest batch gives the WER. pywfst's CPU search decodes a subset with all
cores for the GPU/CPU ratio; riva's MBR output (decode_mbr) is timed once per beam on the
largest batch.

- RTFx: audio seconds (frames x the AM's 30 ms frame shift) / decode wall seconds.
- Peak GPU memory: NVML's per-process figure (device-wide used memory when the process is not
  listed), sampled every 5 ms by the driver while a worker works, minus the worker's memory once
  it holds the emissions: the decoder's graph, lanes and transient memory, native allocations
  included (torch.cuda.max_memory_allocated would see none of them).
- Same settings for both: beam, max_active 7000, lanes = riva's max_batch_size (riva's channels:
  twice that), acoustic scale 1 (log-probs as they are). riva makes a lattice for every utterance
  (lattice_beam, its library default 10), determinizes it and reads the 1-best (decode_nbest,
  nbest 1) or the MBR words (decode_mbr) from it; it has no lattice-free 1-best.

Writes results.json (every run) and results.md (tables) to --out, after every step.
"""
from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import select
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DATA = HERE / "work" / "device"
DECODE_BENCHMARK = REPO / "benchmarks" / "decode" / "run_benchmark.py"
SAMPLE_SECONDS = 0.005


def log(message: str) -> None:
    print(f"[gpu-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- data


def load_manifest(data: Path) -> dict:
    return json.loads((data / "manifest.json").read_text())


def graph_dir(data: Path) -> Path:
    """The carried graph unpacked beside the carried folder (`data`/../graph-unpacked: never
    inside it, or the next call would carry HCLG.fst's 71 MiB), once per HCLG.fst.gz."""
    packed = data / "graph"
    graph = data.parent / "graph-unpacked"
    stamp = f"{(packed / 'HCLG.fst.gz').stat().st_size} {(packed / 'HCLG.fst.gz').stat().st_mtime}"
    if not (graph / "source").is_file() or (graph / "source").read_text() != stamp:
        shutil.rmtree(graph, ignore_errors=True)
        shutil.copytree(packed, graph, ignore=shutil.ignore_patterns("HCLG.fst.gz"))
        with gzip.open(packed / "HCLG.fst.gz", "rb") as gz, open(graph / "HCLG.fst", "wb") as out:
            shutil.copyfileobj(gz, out, 1 << 20)
        (graph / "source").write_text(stamp)
    return graph


def load_emissions(data: Path, entry: dict, limit: int = 0) -> list:
    """One set's utterances (the first `limit`; 0: all) as float32 [T, V] arrays."""
    with np.load(data / entry["file"]) as z:
        logp, lengths = z["logp"], z["lengths"]
    ends = np.cumsum(lengths)
    arrays = [logp[end - n:end].astype(np.float32) for n, end in zip(lengths, ends)]
    return arrays[:limit] if limit else arrays


def set_size(manifest: dict, name: str, limit: int) -> int:
    size = manifest["sets"][name]["utterances"]
    return min(size, limit) if limit else size


def words_table(graph: Path) -> dict:
    table = {}
    for line in (graph / "words.txt").read_text(encoding="utf-8").splitlines():
        word, index = line.split()
        table[int(index)] = word
    return table


# --------------------------------------------------------------------------- workers


class PywfstSystem:
    """pywfst's GPU search (kind "gpu") and its CPU search (kind "cpu", all cores)."""

    def __init__(self, args, graph: Path, sets: dict):
        import pywfst

        self.pywfst = pywfst
        self.args = args
        self.graph = pywfst.Graph.load(graph)
        self.sets = sets
        self.decoders = {}
        self.inputs = {name: to_device(arrays, args.device) for name, arrays in sets.items()}

    def prepare(self, beam: float, kind: str) -> None:
        device = "cpu" if kind == "cpu" else self.args.device
        lanes = None if kind == "cpu" else self.args.lanes
        self.decoders[kind] = self.pywfst.Decoder(
            self.graph, beam=beam, max_active=self.args.max_active, device=device, lanes=lanes)

    def decode(self, set_name: str, batch: int, kind: str) -> tuple:
        decoder = self.decoders[kind]
        if kind == "cpu":
            data = self.sets[set_name][:batch]
            started = time.perf_counter()
            results = decoder.decode_batch(data)
        else:
            padded, rows = self.inputs[set_name]
            synchronize(self.args.device)
            started = time.perf_counter()
            if padded is None:  # cuda-sim: host arrays
                results = decoder.decode_batch(rows[:batch])
            else:
                results = decoder.decode_batch(padded[:batch], lengths=rows[:batch])
        return time.perf_counter() - started, [r.text for r in results]

    def release(self) -> None:
        """Drops the decoders and the graph (with its GPU copy): each beam's figures include
        the graph's upload and memory, as riva's include its graph."""
        self.decoders.clear()
        self.graph = self.pywfst.Graph.load(self.graph.path)


class RivaSystem:
    """riva-asrlib-decoder 0.4.4's BatchedMappedDecoderCuda (kinds "nbest": its 1-best through
    decode_nbest with nbest 1; "mbr": decode_mbr)."""

    def __init__(self, args, graph: Path, sets: dict):
        from riva.asrlib.decoder import python_decoder

        self.riva = python_decoder
        self.args = args
        self.graph = graph
        self.words = words_table(graph)
        self.columns = next(iter(sets.values()))[0].shape[1]
        self.inputs = {name: to_device(arrays, args.device) for name, arrays in sets.items()}
        self.decoder = None
        self.config(16.0)  # every option name checked, GPU or not

    def config(self, beam: float):
        config = self.riva.BatchedMappedDecoderCudaConfig()
        online = config.online_opts
        online.max_batch_size = self.args.lanes
        online.num_channels = 2 * self.args.lanes
        online.frame_shift_seconds = self.args.frame_shift
        online.determinize_lattice = True
        online.num_decoder_copy_threads = 2
        online.num_post_processing_worker_threads = max(1, (os.cpu_count() or 4) - 2)
        online.use_final_probs = True
        options = online.decoder_opts
        options.default_beam = beam
        options.lattice_beam = self.args.lattice_beam
        options.max_active = self.args.max_active
        options.blank_penalty = 0.0
        options.length_penalty = 0.0
        post = online.lattice_postprocessor_opts
        post.acoustic_scale = 1.0
        post.lm_scale = 1.0
        post.word_ins_penalty = 0.0
        post.nbest = 1
        return config

    def prepare(self, beam: float, kind: str) -> None:
        self.decoder = None  # frees the previous beam's decoder first
        self.decoder = self.riva.BatchedMappedDecoderCuda(
            self.config(beam), str(self.graph / "HCLG.fst"), str(self.graph / "words.txt"),
            self.columns)

    def decode(self, set_name: str, batch: int, kind: str) -> tuple:
        import torch

        padded, lengths = self.inputs[set_name]
        lengths = torch.tensor(lengths[:batch], dtype=torch.int64)
        torch.cuda.synchronize()
        started = time.perf_counter()
        if kind == "mbr":
            results = self.decoder.decode_mbr(padded[:batch], lengths)
        else:
            results = self.decoder.decode_nbest(padded[:batch], lengths)
        seconds = time.perf_counter() - started
        if kind == "mbr":
            texts = [" ".join(w[0] for w in r if w[0] != "<eps>") for r in results]
        else:
            texts = [" ".join(self.words[w] for w in r[0].words if w > 0) if r else ""
                     for r in results]
        return seconds, texts

    def release(self) -> None:
        self.decoder = None


SYSTEMS = {"pywfst": PywfstSystem, "riva": RivaSystem}


def to_device(arrays: list, device: str) -> tuple:
    """(padded float32 [N, T, V] tensor on the GPU, lengths), or (None, the arrays) for
    cuda-sim."""
    if not device.startswith("cuda:"):
        return None, arrays
    import torch

    lengths = [len(a) for a in arrays]
    padded = np.zeros((len(arrays), max(lengths), arrays[0].shape[1]), np.float32)
    for i, a in enumerate(arrays):
        padded[i, :len(a)] = a
    return torch.from_numpy(padded).to(device), lengths


def synchronize(device: str) -> None:
    if device.startswith("cuda:"):
        import torch

        torch.cuda.synchronize()


def worker(args) -> None:
    """Answers the driver's JSON requests, one line each, on the original stdout (native
    libraries' prints go to stderr)."""
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    started = time.perf_counter()
    manifest = load_manifest(args.data)
    graph = graph_dir(args.data)
    sets = {name: load_emissions(args.data, manifest["sets"][name], args.limit)
            for name in args.sets}
    if args.device.startswith("cuda:"):
        import torch

        torch.cuda.init()
    try:
        system = SYSTEMS[args.system](args, graph, sets)
    except Exception as error:  # noqa: BLE001  (reported to the driver, which goes on)
        replies.write(json.dumps({"error": f"{type(error).__name__}: {error}"}) + "\n")
        return
    synchronize(args.device)
    replies.write(json.dumps({"ready": round(time.perf_counter() - started, 2),
                              "pid": os.getpid()}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["op"] == "prepare":
                begin = time.perf_counter()
                system.prepare(request["beam"], request["kind"])
                reply = {"seconds": time.perf_counter() - begin}
            elif request["op"] == "decode":
                seconds, texts = system.decode(request["set"], request["batch"], request["kind"])
                reply = {"seconds": seconds, "texts": texts if request.get("texts") else None}
            elif request["op"] == "release":
                system.release()
                reply = {}
            else:
                break
        except Exception as error:  # noqa: BLE001
            reply = {"error": f"{type(error).__name__}: {error}"}
        replies.write(json.dumps(reply) + "\n")


# --------------------------------------------------------------------------- GPU memory


class MemorySampler:
    """Device memory in use (NVML), per process when NVML lists it, sampled in a thread; the
    driver opens a window around each request and reads the peak seen in it."""

    def __init__(self, enabled: bool):
        self.nvml = None
        if not enabled:
            return
        try:
            import pynvml

            pynvml.nvmlInit()
            self.nvml = pynvml
            self.handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        except Exception as error:  # noqa: BLE001
            log(f"no GPU memory figures: NVML unavailable ({error})")
            return
        self.lock = threading.Lock()
        self.window = None
        self.stop = False
        threading.Thread(target=self._run, daemon=True).start()

    def read(self) -> tuple:
        used = self.nvml.nvmlDeviceGetMemoryInfo(self.handle).used
        try:
            procs = {p.pid: p.usedGpuMemory or 0 for p in
                     self.nvml.nvmlDeviceGetComputeRunningProcesses(self.handle)}
        except self.nvml.NVMLError:
            procs = {}
        return used, procs

    def _run(self) -> None:
        while not self.stop:
            used, procs = self.read()
            with self.lock:
                if self.window is not None:
                    self.window["device"] = max(self.window["device"], used)
                    pid = self.window["pid"]
                    if pid in procs:
                        self.window["process"] = max(self.window["process"] or 0, procs[pid])
            time.sleep(SAMPLE_SECONDS)

    def open(self, pid: int) -> dict:
        """Starts a window for a request to worker `pid`: device and process memory before."""
        if self.nvml is None:
            return {}
        used, procs = self.read()
        window = {"pid": pid, "device_before": used, "device": used,
                  "process_before": procs.get(pid), "process": procs.get(pid)}
        with self.lock:
            self.window = window
        return window

    def close(self) -> dict:
        if self.nvml is None:
            return {}
        used, procs = self.read()
        with self.lock:
            window, self.window = self.window, None
        window["device"] = max(window["device"], used)
        window["device_after"] = used
        if window["pid"] in procs:
            window["process"] = max(window["process"] or 0, procs[window["pid"]])
        window["process_after"] = procs.get(window["pid"])
        return window

    def gpu(self) -> dict:
        if self.nvml is None:
            return {}
        name = self.nvml.nvmlDeviceGetName(self.handle)
        memory = self.nvml.nvmlDeviceGetMemoryInfo(self.handle)
        return {"name": name.decode() if isinstance(name, bytes) else name,
                "memory_total_mib": memory.total // 2**20,
                "driver": _text(self.nvml.nvmlSystemGetDriverVersion())}


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# --------------------------------------------------------------------------- driver


class Worker:
    def __init__(self, name: str, args, sampler: MemorySampler, deadline: float):
        self.name = name
        self.sampler = sampler
        self.deadline = deadline
        command = [sys.executable, str(Path(__file__).resolve()), "worker", "--system", name,
                   "--data", str(args.data), "--device", args.device, "--lanes", str(args.lanes),
                   "--max-active", str(args.max_active), "--lattice-beam", str(args.lattice_beam),
                   "--frame-shift", str(args.frame_shift), "--limit", str(args.limit),
                   "--sets", *args.sets]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, bufsize=1)
        self.error = None
        self.baseline = None

    def wait_ready(self) -> None:
        """Waits for the worker's first line; then its GPU memory is the baseline."""
        ready = self._reply()
        if "error" in ready:
            self.error = ready["error"]
        else:
            self.baseline = self.sampler.open(self.process.pid)
            self.sampler.close()
            log(f"{self.name}: ready in {ready['ready']} s")

    def _reply(self) -> dict:
        remaining = self.deadline - time.monotonic()
        readable, _, _ = select.select([self.process.stdout], [], [], max(remaining, 1.0))
        line = self.process.stdout.readline() if readable else ""
        if not line:
            self.stop()
            return {"error": "no reply in time" if not readable else "the worker died"}
        return json.loads(line)

    def request(self, **request) -> dict:
        if self.error:
            return {"error": self.error}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        self.sampler.open(self.process.pid)
        reply = self._reply()
        reply["memory"] = self.sampler.close()
        if "error" in reply and reply["error"] in ("no reply in time", "the worker died"):
            self.error = reply["error"]
        return reply

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def memory_mib(baseline: dict, windows: list) -> tuple:
    """Peak GPU memory of a system at one beam above its ready baseline: per process when NVML
    listed the worker, else device-wide (what its decoder took when made, plus the largest rise
    during one request)."""
    if not baseline or not windows:
        return None, None
    if baseline.get("process_before") is not None and all(w.get("process") for w in windows):
        return round((max(w["process"] for w in windows) - baseline["process_before"]) / 2**20), \
            "process"
    made = windows[0]["device_after"] - windows[0]["device_before"]
    rise = max(w["device"] - w["device_before"] for w in windows[1:] or windows)
    return round((made + rise) / 2**20), "device"


class Run:
    """The benchmark's state: requests, timings and outputs; written after every step."""

    def __init__(self, args, manifest: dict, sampler: MemorySampler):
        self.args = args
        self.manifest = manifest
        self.sampler = sampler
        self.started = time.monotonic()
        self.deadline = self.started + args.budget
        self.rows = {}  # (system, set, beam, batch) -> seconds of each timed run
        self.outputs = {}  # (system, set, beam) -> texts of every utterance
        self.windows = {}  # (system, beam) -> memory windows of its requests (MemorySampler)
        self.prepared = {}  # (system, beam) -> seconds
        self.warm_ups = {}  # (system, set, beam) -> seconds
        self.notes = []
        self.workers = {}

    def time_left(self) -> float:
        return self.deadline - time.monotonic()

    def ask(self, system: str, **request) -> dict:
        worker = self.workers[WORKER_OF[system]]
        if worker.error:  # already noted
            return {"error": worker.error}
        reply = worker.request(**request)
        window = reply.pop("memory", None)
        if window and MEMORY_OF[system]:
            self.windows.setdefault((MEMORY_OF[system], request["beam"]), []).append(window)
        if "error" in reply:
            note = f"{system} {request}: {reply['error']}"
            log(note)
            self.notes.append(note)
        return reply

    def prepare(self, system: str, beam: float) -> bool:
        reply = self.ask(system, op="prepare", beam=beam, kind=KIND_OF[system])
        self.prepared[(system, beam)] = round(reply.get("seconds", 0.0), 2)
        return "error" not in reply

    def decode(self, system: str, set_name: str, beam: float, batch: int, keep=False,
               warm_up=False) -> None:
        """A timed run (`keep`: its outputs give the WER), or an untimed warm-up."""
        reply = self.ask(system, op="decode", beam=beam, set=set_name, batch=batch,
                         kind=KIND_OF[system], texts=keep)
        if "error" in reply:
            return
        if warm_up:
            self.warm_ups[(system, set_name, beam)] = round(reply["seconds"], 2)
        else:
            self.rows.setdefault((system, set_name, beam, batch), []).append(reply["seconds"])
        if keep:
            self.outputs[(system, set_name, beam)] = reply["texts"]
        log(f"{system:11s} {set_name:9s} beam {beam:g} batch {batch:5d}: "
            f"{reply['seconds']:.3f} s{' (warm-up)' if warm_up else ''}")


WORKER_OF = {"pywfst-gpu": "pywfst", "pywfst-cpu": "pywfst", "riva": "riva", "riva-mbr": "riva"}
MEMORY_OF = {"pywfst-gpu": "pywfst-gpu", "pywfst-cpu": None, "riva": "riva", "riva-mbr": "riva"}
KIND_OF = {"pywfst-gpu": "gpu", "pywfst-cpu": "cpu", "riva": "nbest", "riva-mbr": "mbr"}
LABELS = {"pywfst-gpu": "pywfst GPU (1-best)",
          "pywfst-cpu": "pywfst CPU search (1-best, all cores)",
          "riva": "riva BatchedMappedDecoderCuda (1-best: decode_nbest, nbest 1)",
          "riva-mbr": "riva BatchedMappedDecoderCuda (MBR: decode_mbr)"}


def plan(args) -> list:
    """Beam phases: [(beam, [(set, [batch sizes]), ...]), ...]."""
    phases = []
    for beam in args.beams:
        sets = [("speech", args.batches)]
        if "synthetic" in args.sets and beam == args.beams[0]:
            sets.append(("synthetic", [args.synthetic_batch]))
        phases.append((beam, sets))
    return phases


def benchmark(run: Run) -> None:
    """Beam by beam (each gets an equal share of the time left; a round that would start past
    it does not, but the first always runs): decoders made, an untimed warm-up batch, timed
    rounds alternating the systems (the first round's largest batch gives the WER), then the
    CPU search on a subset and riva's MBR output on the largest batch."""
    args = run.args
    sizes = {name: set_size(run.manifest, name, args.limit) for name in args.sets}
    gpu_systems = [s for s in ("pywfst-gpu", "riva") if WORKER_OF[s] in run.workers
                   and not run.workers[WORKER_OF[s]].error]
    phases = plan(args)
    for index, (beam, sets) in enumerate(phases):
        if run.time_left() < 10:
            run.notes.append(f"beam {beam}: not run (time budget spent)")
            break
        phase_end = time.monotonic() + run.time_left() / (len(phases) - index)
        systems = [s for s in gpu_systems if run.prepare(s, beam)]
        for set_name, batches in sets:
            batches = [min(b, sizes[set_name]) for b in batches]
            for system in systems:
                run.decode(system, set_name, beam, min(batches), warm_up=True)
            for rep in range(args.reps):
                if rep > 0 and time.monotonic() > phase_end - 15:
                    run.notes.append(f"beam {beam:g} {set_name}: {rep} of {args.reps} timed "
                                     "rounds (time budget)")
                    break
                order = systems if rep % 2 == 0 else systems[::-1]
                for batch in batches:
                    for system in order:
                        run.decode(system, set_name, beam, batch,
                                   keep=rep == 0 and batch == max(batches))
                write_results(run)
        if "pywfst-gpu" in systems and run.time_left() > 10:
            cpu = min(args.cpu_subset, sizes["speech"])
            if run.prepare("pywfst-cpu", beam):
                run.decode("pywfst-cpu", "speech", beam, cpu, keep=True)
                if time.monotonic() < phase_end:
                    run.decode("pywfst-cpu", "speech", beam, cpu)
        if "riva" in systems and run.time_left() > 20:
            run.decode("riva-mbr", "speech", beam, min(max(args.batches), sizes["speech"]),
                       keep=True)
        for name, worker in run.workers.items():
            if not worker.error:
                worker.request(op="release")
        write_results(run)


def summarize(run: Run) -> dict:
    from pywfst.metrics import error_rate

    args, manifest = run.args, run.manifest
    shift = manifest["frame_shift"]
    rows = []
    for (system, set_name, beam, batch), seconds in sorted(run.rows.items()):
        frames = sum(frame_counts(run, set_name)[:batch])
        median = statistics.median(seconds)
        rows.append({"system": system, "set": set_name, "beam": beam, "batch": batch,
                     "runs": len(seconds), "seconds": [round(s, 4) for s in seconds],
                     "median_s": round(median, 4), "audio_s": round(frames * shift, 1),
                     "rtfx": round(frames * shift / median, 1), "utterances": batch,
                     "set_utterances": set_size(manifest, set_name, args.limit)})
    quality = []
    for (system, set_name, beam), texts in sorted(run.outputs.items()):
        refs = manifest["sets"][set_name]["refs"][:len(texts)]
        peak, how = memory_mib(run.workers[WORKER_OF[system]].baseline,
                               run.windows.get((MEMORY_OF[system], beam), []))
        wer = round(error_rate(list(zip(refs, texts))), 2)
        quality.append({"system": system, "set": set_name, "beam": beam,
                        "utterances": len(texts), "wer": wer,
                        "peak_gpu_mib": peak,
                        "memory_from": how, "prepare_s": run.prepared.get((system, beam)),
                        "warm_up_s": run.warm_ups.get((system, set_name, beam))})
    agreement = []
    for (system, set_name, beam), texts in sorted(run.outputs.items()):
        if system == "pywfst-gpu":
            continue
        ours = run.outputs.get(("pywfst-gpu", set_name, beam))
        if ours:
            same = sum(a == b for a, b in zip(ours, texts))
            agreement.append({"with": system, "set": set_name, "beam": beam,
                              "utterances": len(texts),
                              "same_words_pct": round(100.0 * same / len(texts), 2)})
    return {"rows": rows, "quality": quality, "agreement": agreement}


def frame_counts(run: Run, set_name: str) -> list:
    cache = run.__dict__.setdefault("_frames", {})
    if set_name not in cache:
        with np.load(run.args.data / run.manifest["sets"][set_name]["file"]) as z:
            cache[set_name] = z["lengths"].tolist()
    return cache[set_name]


def write_results(run: Run) -> None:
    args = run.args
    summary = summarize(run)
    minutes = round((time.monotonic() - run.started) / 60, 2)
    result = {"started": run.args.started, "minutes": minutes,
              "dry_run": args.dry_run, "device": args.device,
              "settings": {"beams": args.beams, "batches": args.batches, "reps": args.reps,
                           "lanes": args.lanes, "max_active": args.max_active,
                           "riva_lattice_beam": args.lattice_beam, "acoustic_scale": 1.0,
                           "frame_shift": args.frame_shift, "cpu_subset": args.cpu_subset},
              "data": {"git": run.manifest["git"], "graph": run.manifest["graph"],
                       "sets": {k: {f: v for f, v in s.items() if f not in ("ids", "refs")}
                                for k, s in run.manifest["sets"].items()}},
              "gpu": run.sampler.gpu(), "machine": run.machine, "notes": run.notes,
              "loadavg_before": run.loadavg_before,
              "loadavg_after": [round(x, 2) for x in os.getloadavg()],
              **summary}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=1))
    (args.out / "results.md").write_text(markdown(result))


def markdown(result: dict) -> str:
    s = result["settings"]
    data = result["data"]
    gpu = result["gpu"] or {"name": f"none ({result['device']})"}
    lines = ["# GPU benchmark: pywfst vs riva-asrlib-decoder", "",
             f"{'DRY RUN on the CPU (cuda-sim): no GPU figures. ' if result['dry_run'] else ''}"
             f"{result['started']}, {result['minutes']} min. GPU: {gpu['name']}"
             f"{', driver ' + gpu['driver'] if 'driver' in gpu else ''}. Graph "
             f"{data['graph']['states']} states / {data['graph']['arcs']} arcs "
             f"({data['graph']['words']} words, LM {data['graph']['lm']}); pywfst {data['git']}. "
             f"Lanes {s['lanes']} (riva: max_batch_size, channels twice that), max_active "
             f"{s['max_active']}, riva lattice_beam {s['riva_lattice_beam']}, {s['reps']} timed "
             f"rounds (median), frame shift {s['frame_shift'] * 1000:g} ms.", ""]
    for name, entry in data["sets"].items():
        lines.append(f"- `{name}`: {entry['utterances']} utterances, {entry['audio_seconds']} s "
                     f"of audio, greedy WER {entry['greedy_wer']} %: {entry['source']}.")
    lines += ["", "## Throughput", "",
              "| system | set | beam | batch | median s | RTFx | runs |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in result["rows"]:
        lines.append(f"| {LABELS[r['system']]} | {r['set']} | {r['beam']:g} | {r['batch']} | "
                     f"{r['median_s']:.3f} | {r['rtfx']:.0f} | {r['runs']} |")
    by = {(r["system"], r["set"], r["beam"], r["batch"]): r for r in result["rows"]}
    for other, title in (("riva", "pywfst GPU RTFx / riva 1-best RTFx"),
                         ("pywfst-cpu", "pywfst GPU RTFx / pywfst CPU search RTFx")):
        ratios = [f"{set_name} beam {beam:g} batch {batch}: "
                  f"{r['rtfx'] / by[(other, set_name, beam, batch)]['rtfx']:.2f}x"
                  for (system, set_name, beam, batch), r in sorted(by.items())
                  if system == "pywfst-gpu" and (other, set_name, beam, batch) in by]
        if ratios:
            lines += ["", f"{title}: " + "; ".join(ratios) + "."]
    lines += ["", "## Accuracy and memory", "",
              "WER on the largest batch's utterances (first timed round; the CPU search: its "
              "subset). Peak GPU memory: above the worker's baseline with the emissions loaded. "
              "Made in: decoder construction (riva: graph read and set up); warm-up: the first "
              "batch (riva: its kernels compiled from PTX for sm_90).", "",
              "| system | set | beam | utterances | WER % | peak GPU MiB | made in s | warm-up s |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for q in result["quality"]:
        memory = "" if q["peak_gpu_mib"] is None else (
            f"{q['peak_gpu_mib']}{'' if q['memory_from'] == 'process' else ' (device-wide)'}")
        lines.append(f"| {LABELS[q['system']]} | {q['set']} | {q['beam']:g} | {q['utterances']} | "
                     f"{q['wer']:.2f} | {memory} | {q['prepare_s']} | {q['warm_up_s'] or ''} |")
    if result["agreement"]:
        lines += ["", "Same words as pywfst GPU: " + "; ".join(
            f"{a['with']} {a['set']} beam {a['beam']:g}: {a['same_words_pct']} % of "
            f"{a['utterances']}" for a in result["agreement"]) + "."]
    if result["notes"]:
        lines += ["", "Notes:", *[f"- {n}" for n in result["notes"]]]
    m = result["machine"]
    lines += ["", f"Machine: {m.get('nproc')} CPUs, {m.get('mem_total_gib')} GiB, kernel "
              f"{m.get('kernel')}, Python {m.get('python')}; load average before/after "
              f"{result['loadavg_before']} / {result['loadavg_after']}.", ""]
    return "\n".join(lines)


def machine_info() -> dict:
    """benchmarks/decode's description of the machine (loaded by path, as benchmarks/wer does)."""
    try:
        spec = importlib.util.spec_from_file_location("decode_benchmark", DECODE_BENCHMARK)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.machine_info()
    except Exception as error:  # noqa: BLE001  (a description, not worth failing the run)
        return {"error": f"{type(error).__name__}: {error}"}


def run_command(args) -> None:
    import pywfst  # before benchmarks/decode puts the source checkout on sys.path

    log(f"pywfst from {pywfst.__file__}")
    args.started = time.strftime("%Y-%m-%d %H:%M:%S")
    manifest = load_manifest(args.data)
    args.frame_shift = manifest["frame_shift"]
    graph_dir(args.data)
    sampler = MemorySampler(enabled=args.device.startswith("cuda:"))
    run = Run(args, manifest, sampler)
    run.loadavg_before = [round(x, 2) for x in os.getloadavg()]
    run.machine = machine_info()
    for name in args.systems:  # started together: they load their data side by side
        run.workers[name] = Worker(name, args, sampler, run.deadline)
    for name, worker in run.workers.items():
        worker.wait_ready()
        if worker.error:
            run.notes.append(f"{name}: not run: {worker.error}")
            log(run.notes[-1])
    if args.device == "cuda-sim" and "riva" in run.workers:
        run.workers["riva"].error = "riva needs a GPU (dry run: its config was checked)"
        run.notes.append(f"riva: not run: {run.workers['riva'].error}")
    try:
        benchmark(run)
    finally:
        for worker in run.workers.values():
            worker.stop()
        write_results(run)
    print((args.out / "results.md").read_text())


def sanitize_command(args) -> None:
    """One small batch on the GPU for compute-sanitizer: the shortest speech utterances through
    few lanes (so lanes are reused), from host arrays (no torch in the process), compared with
    the CPU search."""
    import pywfst

    manifest = load_manifest(args.data)
    graph = pywfst.Graph.load(graph_dir(args.data))
    arrays = load_emissions(args.data, manifest["sets"]["speech"])
    batch = sorted(arrays, key=len)[:args.utterances]
    options = {"beam": 12.0, "max_active": 2000}
    got = pywfst.Decoder(graph, device=args.device, lanes=args.lanes, **options).decode_batch(batch)
    expected = pywfst.Decoder(graph, **options).decode_batch(batch)
    same = sum(a.words == b.words and abs(a.cost - b.cost) < 1e-3 for a, b in zip(expected, got))
    print(f"sanitize: {len(batch)} utterances ({sum(map(len, batch))} frames) through "
          f"{args.lanes} lanes on {args.device}: {same} equal the CPU search")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data", type=Path, default=DATA)
    common.add_argument("--device", default="cuda:0", help="cuda:N, or cuda-sim for a dry run")
    common.add_argument("--lanes", type=int, default=500)
    common.add_argument("--max-active", type=int, default=7000)
    common.add_argument("--lattice-beam", type=float, default=10.0, help="riva's")
    common.add_argument("--sets", nargs="+", default=["speech", "synthetic"])
    common.add_argument("--limit", type=int, default=0, help="first N utterances of each set")
    run = sub.add_parser("run", parents=[common], help="the benchmark")
    run.add_argument("--out", type=Path, default=HERE / "work" / "out")
    run.add_argument("--systems", nargs="+", default=["pywfst", "riva"])
    run.add_argument("--beams", type=float, nargs="+", default=[16.0, 12.0])
    run.add_argument("--batches", type=int, nargs="+", default=[100, 500, 1000])
    run.add_argument("--synthetic-batch", type=int, default=750)
    run.add_argument("--reps", type=int, default=3)
    run.add_argument("--cpu-subset", type=int, default=100)
    run.add_argument("--budget", type=float, default=240.0, help="seconds for the whole run")
    run.add_argument("--dry-run", action="store_true", help="label the results as a dry run")
    work = sub.add_parser("worker", parents=[common])
    work.add_argument("--system", choices=sorted(SYSTEMS), required=True)
    work.add_argument("--frame-shift", type=float, required=True)
    check = sub.add_parser("sanitize", parents=[common])
    check.add_argument("--utterances", type=int, default=6)
    args = parser.parse_args()
    if args.command == "sanitize":
        args.lanes = min(args.lanes, 4)
    {"run": run_command, "worker": worker, "sanitize": sanitize_command}[args.command](args)


if __name__ == "__main__":
    main()
