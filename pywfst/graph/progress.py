"""Stage-by-stage progress for long builds: a tqdm bar over stages plus timing and peak memory
per stage, kept for graph.json and the final summary."""

from __future__ import annotations

import ctypes
import gc
import resource
import sys
import time
from contextlib import contextmanager
from typing import Dict, Iterator, List

from tqdm import tqdm


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def release_freed_memory() -> None:
    """Frees Python's cyclic garbage and hands memory freed back to the OS (glibc's malloc keeps
    it otherwise), so that the next stage's peak does not come on top of the last one's."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


class StageLog:
    def __init__(self, num_stages: int, enabled: bool = True):
        self.records: List[Dict[str, float]] = []
        self._bar = tqdm(total=num_stages, desc="build-graph", unit="stage", file=sys.stderr,
                         disable=None if enabled else True, leave=False)  # None: bar on a TTY only
        self._enabled = enabled

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self._bar.set_postfix_str(name)
        start = time.perf_counter()
        yield
        seconds = time.perf_counter() - start
        record = {"stage": name, "seconds": round(seconds, 3), "peak_rss_mb": round(peak_rss_mb(), 1)}
        self.records.append(record)
        if self._enabled:
            self._bar.write(f"  {name:<28} {seconds:8.2f} s   peak RSS {record['peak_rss_mb']:8.1f} MiB",
                            file=sys.stderr)
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()

    @property
    def total_seconds(self) -> float:
        return round(sum(r["seconds"] for r in self.records), 3)
