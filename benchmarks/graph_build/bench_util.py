"""Shared helpers of the graph_build benchmark: run a stage (one command or a shell-style pipe of
commands) and measure its wall time and the peak resident memory of each process.

Peak RSS per process comes from the kernel's ru_maxrss, through GNU time (`/usr/bin/time -f %M`)
wrapped around each command. Not wait4 on our own children: a child forked from this Python
process inherits its RSS high-water mark until exec, so small tools would report our size.
(Without /usr/bin/time the wait4 figure is used.) For a pipe, whose processes overlap in time,
the stage's peak is also sampled: the sum of VmRSS over the stage's live process trees, read from
/proc every `SAMPLE_SECONDS` (a lower bound of the true concurrent peak; the sum of the
per-process peaks is the upper bound).
"""

from __future__ import annotations

import glob
import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, List, Optional, Sequence

HERE = Path(__file__).resolve().parent
SAMPLE_SECONDS = 0.05
GNU_TIME = "/usr/bin/time"


def kaldi_bin_dir(explicit: Optional[str] = None) -> Path:
    """The directory of Kaldi's command-line tools shipped in the riva-asrlib-decoder wheel,
    installed by setup.sh into benchmarks/graph_build/venv (or $KALDI_BIN / an explicit path)."""
    candidates = [explicit, os.environ.get("KALDI_BIN")]
    candidates += glob.glob(str(HERE / "venv/lib/python3*/site-packages/riva/asrlib/decoder/"
                                       "scripts/prepare_TLG_fst/bin"))
    for c in candidates:
        if c and (Path(c) / "fsttablecompose").is_file():
            return Path(c)
    raise SystemExit("Kaldi binaries not found: run benchmarks/graph_build/setup.sh "
                     "(or set KALDI_BIN to a directory with arpa2fst, fsttablecompose, ...)")


def _name(cmd: Sequence[str]) -> str:
    """A process's short name: the tool, or the script an interpreter runs."""
    name = Path(cmd[0]).name
    if name in ("perl", "python", "python3") and len(cmd) > 1 and not cmd[1].startswith("-"):
        return Path(cmd[1]).name
    if name.startswith("python") and "-c" in cmd and "pywfst" in " ".join(cmd):
        return "pywfst"
    return name


def _tree(pid: int) -> List[int]:
    """pid and its descendants (through /proc/PID/task/TID/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
    return out


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def run_stage(name: str, commands: Sequence[Sequence[str]], stdin: Optional[Path] = None,
              stdout: Optional[Path] = None, log: Optional[IO[str]] = None,
              env: Optional[dict] = None, echo: bool = True, cwd: Optional[Path] = None) -> dict:
    """Runs `commands` as a pipe (cmd1 | cmd2 | ...), stdin/stdout from/to files if given.
    stderr of every process goes to `log` (or ours). Raises on any non-zero exit status."""
    commands = [[str(a) for a in c] for c in commands]
    if echo:
        text = " | ".join(shlex.join([Path(c[0]).name, *("<code>" if "\n" in a else a for a in c[1:])])
                          for c in commands)
        if stdin:
            text += f" < {stdin}"
        if stdout:
            text += f" > {stdout}"
        print(f"[{name}] {text}", file=sys.stderr, flush=True)
    err = log if log is not None else sys.stderr
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
    fout = open(stdout, "wb") if stdout else None
    procs: List[subprocess.Popen] = []
    use_time = os.access(GNU_TIME, os.X_OK)
    time_files: List[Optional[str]] = []
    t0 = time.perf_counter()
    try:
        prev = fin
        for i, cmd in enumerate(commands):
            last = i == len(commands) - 1
            argv = cmd
            if use_time:
                fd, tf = tempfile.mkstemp(prefix="rss_", suffix=".txt")
                os.close(fd)
                time_files.append(tf)
                argv = [GNU_TIME, "-q", "-f", "%M %U %S", "-o", tf, *cmd]
            p = subprocess.Popen(argv, stdin=prev,
                                 stdout=(fout if fout else None) if last else subprocess.PIPE,
                                 stderr=err, env=env, cwd=cwd)
            if prev not in (fin, subprocess.DEVNULL) and prev is not None:
                prev.close()  # only the child holds the read end now
            prev = p.stdout
            procs.append(p)
            p.bench_cmd = cmd  # type: ignore[attr-defined]
        results: List[dict] = [{} for _ in procs]
        alive = {p.pid for p in procs}
        lock = threading.Lock()

        def reap(i: int, p: subprocess.Popen) -> None:
            _, status, ru = os.wait4(p.pid, 0)
            t = time.perf_counter() - t0
            p.returncode = os.waitstatus_to_exitcode(status)
            with lock:
                alive.discard(p.pid)
            results[i] = {
                "cmd": _name(p.bench_cmd),  # type: ignore[attr-defined]
                "args": p.bench_cmd[1:],  # type: ignore[attr-defined]
                "exit_s": round(t, 3),
                "user_s": round(ru.ru_utime, 3),
                "sys_s": round(ru.ru_stime, 3),
                "max_rss_mb": round(ru.ru_maxrss / 1024.0, 1),
                "returncode": p.returncode,
            }

        threads = [threading.Thread(target=reap, args=(i, p)) for i, p in enumerate(procs)]
        for t in threads:
            t.start()
        sampled_peak = 0
        while True:
            with lock:
                pids = list(alive)
            if not pids:
                break
            sampled_peak = max(sampled_peak, sum(_rss_kib(q) for pid in pids for q in _tree(pid)))
            time.sleep(SAMPLE_SECONDS)
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        for r, tf in zip(results, time_files):
            fields = Path(tf).read_text().split("\n")
            last = [ln for ln in fields if ln.strip()][-1].split()
            r["max_rss_mb"] = round(int(last[0]) / 1024.0, 1)
            r["user_s"] = float(last[1])
            r["sys_s"] = float(last[2])
            r["rss_source"] = "gnu-time"
    finally:
        for tf in time_files:
            try:
                os.unlink(tf)
            except OSError:
                pass
        if fin not in (subprocess.DEVNULL, None):
            fin.close()
        if fout:
            fout.close()
    bad = [r for r in results if r["returncode"] != 0]
    if bad:
        raise RuntimeError(f"stage {name}: {bad[0]['cmd']} exited with {bad[0]['returncode']}")
    return {
        "stage": name,
        "wall_s": round(wall, 3),
        "cpu_s": round(sum(r["user_s"] + r["sys_s"] for r in results), 3),
        "max_rss_mb": max(r["max_rss_mb"] for r in results),
        "sum_max_rss_mb": round(sum(r["max_rss_mb"] for r in results), 1),
        "sampled_peak_rss_mb": round(sampled_peak / 1024.0, 1),
        "processes": results,
    }


def fst_counts(path: Path) -> dict:
    """States and arcs of an OpenFst binary file (loaded with pywrapfst; not timed)."""
    import pywrapfst as fst

    f = fst.Fst.read(str(path))
    n = f.num_states()
    return {"states": n, "arcs": sum(f.num_arcs(s) for s in range(n)),
            "bytes": os.path.getsize(path)}


def machine_info() -> dict:
    info = {"nproc": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            info["mem_total_gb"] = round(int(f.readline().split()[1]) / 1024 ** 2, 1)
    except OSError:
        pass
    info["python"] = sys.version.split()[0]
    return info
