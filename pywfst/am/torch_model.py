"""The reference acoustic model in torch, for training; ``export_weights`` folds it into the plain
arrays that :mod:`pywfst.am.model` runs with numpy. Needs the ``torch`` extra."""

from __future__ import annotations

from dataclasses import replace
from typing import Dict

import numpy as np
import torch
from torch import nn

from .model import ModelShape


class SeparableBlock(nn.Module):
    """Residual block: depthwise conv over time, then a pointwise (1x1) conv, each with BN+ReLU."""

    def __init__(self, channels: int, kernel: int, dropout: float):
        super().__init__()
        self.depthwise = nn.Conv1d(channels, channels, kernel, padding=kernel // 2, groups=channels)
        self.depthwise_norm = nn.BatchNorm1d(channels)
        self.pointwise = nn.Conv1d(channels, channels, 1)
        self.pointwise_norm = nn.BatchNorm1d(channels)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.depthwise_norm(self.depthwise(x)))
        y = torch.relu(self.pointwise_norm(self.pointwise(y)))
        return x + self.dropout(y)


class ConvCtcModel(nn.Module):
    """log-mel [B, T, mels] -> CTC log-probabilities [B, T', tokens] with T' = ceil(T / stride)."""

    def __init__(self, shape: ModelShape, dropout: float = 0.1):
        super().__init__()
        self.shape = shape
        self.dropout_rate = dropout
        self.input = nn.Conv1d(shape.num_mels, shape.channels, shape.input_kernel,
                               stride=shape.stride, padding=shape.input_kernel // 2)
        self.input_norm = nn.BatchNorm1d(shape.channels)
        self.blocks = nn.ModuleList(SeparableBlock(shape.channels, shape.block_kernel, dropout)
                                    for _ in range(shape.num_blocks))
        self.output = nn.Conv1d(shape.channels, shape.num_tokens, 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.input_norm(self.input(features.transpose(1, 2))))
        for block in self.blocks:
            x = block(x)
        return torch.log_softmax(self.output(x), dim=1).transpose(1, 2)


def fold_batch_norm(conv: nn.Conv1d, norm: nn.BatchNorm1d):
    """(weight, bias) of the conv followed by the eval-mode batch norm, as one conv."""
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    weight = conv.weight * scale[:, None, None]
    bias = (conv.bias - norm.running_mean) * scale + norm.bias
    return weight.detach().numpy(), bias.detach().numpy()


def conv_norm_pairs(model: ConvCtcModel):
    """(conv, batch norm, exported name) of every conv that export folds a batch norm into."""
    yield model.input, model.input_norm, "input"
    for index, block in enumerate(model.blocks):
        yield block.depthwise, block.depthwise_norm, f"block{index}.depthwise"
        yield block.pointwise, block.pointwise_norm, f"block{index}.pointwise"


def export_weights(model: ConvCtcModel) -> Dict[str, np.ndarray]:
    """Arrays in the layout :class:`pywfst.am.model.NumpyCtcModel` reads (float32)."""
    weights = {}
    for conv, norm, name in conv_norm_pairs(model):
        weight, weights[name + ".bias"] = fold_batch_norm(conv, norm)
        if name == "input":
            # [C, mels, k] -> [k * mels, C], matching the [frames, k, mels] windows of the
            # numpy forward
            weight = weight.transpose(2, 1, 0).reshape(-1, weight.shape[0])
        elif name.endswith("depthwise"):
            weight = weight[:, 0, :].T  # [k, C]
        else:
            weight = weight[:, :, 0].T  # [C_in, C_out]
        weights[name + ".weight"] = weight
    weights["output.weight"] = model.output.weight.detach().numpy()[:, :, 0].T
    weights["output.bias"] = model.output.bias.detach().numpy()
    return {name: np.ascontiguousarray(array, dtype=np.float32) for name, array in weights.items()}


def load_exported(model: ConvCtcModel, weights: Dict[str, np.ndarray],
                  features: torch.Tensor) -> None:
    """Make ``model`` compute what the exported ``weights`` compute, so training can go on from
    a shipped model. Export folded each batch norm into its conv; here the folded conv is put
    back and each norm is set to undo, on ``features`` ([B, T, mels], a sample of training
    data), the normalisation it applies: its statistics are those of its input on that sample
    and its affine part restores them. In eval mode the model then equals the exported one; in
    training mode it does on batches like the sample."""
    def tensor(array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))

    channels = model.shape.channels
    with torch.no_grad():
        for conv, norm, name in conv_norm_pairs(model):
            weight = weights[name + ".weight"]
            if name == "input":  # [k * mels, C] -> [C, mels, k]
                weight = weight.reshape(model.shape.input_kernel, -1, channels).transpose(2, 1, 0)
            elif name.endswith("depthwise"):  # [k, C] -> [C, 1, k]
                weight = weight.T[:, None, :]
            else:  # [C_in, C_out] -> [C_out, C_in, 1]
                weight = weight.T[:, :, None]
            conv.weight.copy_(tensor(weight))
            conv.bias.copy_(tensor(weights[name + ".bias"]))
            norm.reset_parameters()
            norm.running_var.fill_(1.0 - norm.eps)  # identity in eval mode
        model.output.weight.copy_(tensor(weights["output.weight"]).T[:, :, None])
        model.output.bias.copy_(tensor(weights["output.bias"]))

        inputs = {}
        hooks = [norm.register_forward_hook(
                     lambda module, args, _out: inputs.__setitem__(module, args[0]))
                 for _, norm, _ in conv_norm_pairs(model)]
        was_training = model.training
        model.eval()
        model(features)  # the exported function, every norm an identity
        for hook in hooks:
            hook.remove()
        for _, norm, _ in conv_norm_pairs(model):
            mean = inputs[norm].mean(dim=(0, 2))
            var = inputs[norm].var(dim=(0, 2), unbiased=False)
            norm.running_mean.copy_(mean)
            norm.running_var.copy_(var)
            norm.weight.copy_(torch.sqrt(var + norm.eps))
            norm.bias.copy_(mean)
        model.train(was_training)


def deepen(model: ConvCtcModel, num_blocks: int) -> ConvCtcModel:
    """A copy of ``model`` with blocks appended up to ``num_blocks``, each starting as (nearly) the
    identity, so a trained model grows deeper without forgetting (Net2DeeperNet). The new blocks'
    last norm starts with scale 0, which cuts the block's path; its shift starts at a tiny positive
    value rather than 0 so that the ReLU after it passes gradients to that scale."""
    if num_blocks < model.shape.num_blocks:
        raise ValueError(f"num_blocks {num_blocks} is fewer than the model's "
                         f"{model.shape.num_blocks}")
    deeper = ConvCtcModel(replace(model.shape, num_blocks=num_blocks), model.dropout_rate)
    deeper.load_state_dict(model.state_dict(), strict=False)
    with torch.no_grad():
        for block in deeper.blocks[model.shape.num_blocks:]:
            block.pointwise_norm.weight.zero_()
            block.pointwise_norm.bias.fill_(1e-4)
    deeper.train(model.training)
    return deeper
