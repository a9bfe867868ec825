"""Where a Decoder searches: "cpu" (the threaded CPU search), "cuda" / "cuda:N" (the batched
GPU search) or "cuda-sim" (the GPU search's algorithm run on the CPU, one step at a time: for
testing and debugging, never fast). This module names devices and hands scores to the GPU search:
CUDA tensors (or any array with ``__cuda_array_interface__``) by pointer, without a copy."""

from __future__ import annotations

import re
from typing import List, Optional, Tuple

import numpy as np

from . import _core

CPU = "cpu"
CUDA_SIM = "cuda-sim"
_CUDA = re.compile(r"^cuda(?::(\d{1,5}))?$")


def parse_device(device) -> str:
    """The canonical name: "cpu", "cuda-sim" or "cuda:N" ("cuda" is "cuda:0"; a torch.device
    works too). A CUDA device without a usable GPU is a RuntimeError that says why."""
    name = str(device)
    if name in (CPU, CUDA_SIM):
        return name
    match = _CUDA.match(name)
    if match is None:
        raise ValueError(f"device: expected 'cpu', 'cuda', 'cuda:N' or 'cuda-sim', got {device!r}")
    index = int(match.group(1) or 0)
    reason = _core.cuda_unavailable_reason(index)
    if reason:
        raise RuntimeError(f"device {name!r}: {reason}")
    return f"cuda:{index}"


def is_cuda_tensor(value) -> bool:
    return type(value).__module__.split(".")[0] == "torch" and value.device.type == "cuda"


def check_strided(tensor, what: str) -> None:
    """Refuses a sparse (or other non-strided) torch tensor: its missing entries would read as
    scores of 0, the log-probability of certainty."""
    if str(tensor.layout) != "torch.strided":
        raise TypeError(f"{what}: a {tensor.layout} tensor; give dense scores (.to_dense())")


def device_scores(value, what: str, device: str, as_host_array) -> Tuple[object, object]:
    """(what the native search takes, what must stay alive meanwhile) for one [T, V] utterance:
    a GPU tensor as (pointer, T, V, frame stride, column stride), anything else as the float32
    host array ``as_host_array`` makes (copied up by the search)."""
    if not is_cuda_tensor(value):
        array = as_host_array(value, what)
        return array, array
    if device == CUDA_SIM:
        raise ValueError(f"{what}: tensor is on {value.device}; device='cuda-sim' decodes CPU "
                         "arrays (call .cpu())")
    if value.device.index != int(device.split(":")[1]):
        raise ValueError(f"{what}: tensor is on {value.device}, the decoder on {device}")
    check_strided(value, what)
    if value.ndim != 2:
        raise ValueError(f"{what}: expected 2 dimensions [frames, columns], got shape "
                         f"{tuple(value.shape)}")
    if value.numel() == 0:
        raise ValueError(f"{what}: empty (shape {tuple(value.shape)})")
    if not value.is_floating_point():
        raise TypeError(f"{what}: dtype must be float32 (float16/bfloat16/float64 are converted), "
                        f"got {value.dtype}")
    tensor = value.detach()
    if str(tensor.dtype) != "torch.float32":
        tensor = tensor.float()  # one conversion on the GPU
    interface = tensor.__cuda_array_interface__
    item = np.dtype(interface["typestr"]).itemsize
    frames, columns = interface["shape"]
    strides = interface.get("strides") or (columns * item, item)
    pointer = interface["data"][0]
    return (pointer, frames, columns, strides[0] // item, strides[1] // item), tensor


def check_device_features(device: str, nbest: int, boost, classes: Optional[List]) -> None:
    """What only the CPU search has: a clear error instead of a silently ignored option."""
    if device == CPU:
        return
    if nbest != 1:
        raise ValueError(f"nbest: the {device} decoder returns the 1-best only; use device='cpu'")
    if boost is not None:
        raise ValueError("boost: phrase boosting runs in the CPU search; use device='cpu'")
    if classes and any(c is not None for c in classes):
        raise ValueError("set_class: class slots are filled in the CPU search; use device='cpu'")
