"""The PyTorch front end's configuration matrix and its oracle (PyTorch's own module), shared by its tests.

A configuration is one nn.LSTM/GRU/RNN (mode, layers, directions, batch_first, proj_size, bias) in one dtype,
called with or without initial states. ``sampled_configs`` covers every value of every factor in a few dozen
cases (the default suite); ``ONNX_RNN_TORCH_MATRIX=full`` (``make test-torch-matrix``) takes the whole product.
"""

from __future__ import annotations

import io
import itertools
import os
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort
import torch

import onnx_rnn
import onnx_rnn.torch as ort_torch
from onnx_rnn.runtime import plugin_available

MODES = ("lstm", "lstmp", "gru", "rnn_tanh", "rnn_relu")
DTYPES = ("float32", "float64", "float16")
SHAPES = ((3, 5), (1, 1), (2, 9))  # (N, T), all served by one file
# atol = rtol per dtype: float32 is the 1e-5; float64 standard nodes compute in float32 on ORT's CPU
# provider (README, Types); float16 is PyTorch's float16 CPU kernel against ORT's, two different roundings.
TOLERANCE = {"float32": 1e-5, "float64": 1e-5, "float16": 4e-3}
I, H, P = 5, 6, 4


@dataclass(frozen=True)
class Config:
    mode: str
    layers: int
    bidirectional: bool
    batch_first: bool
    bias: bool
    initial_state: bool
    dtype: str

    @property
    def lstm(self) -> bool:
        return self.mode in ("lstm", "lstmp")

    def id(self) -> str:
        flags = [self.mode, f"L{self.layers}", "bi" if self.bidirectional else "uni", self.dtype]
        flags += ["bf"] * self.batch_first + ["nobias"] * (not self.bias) + ["h0"] * self.initial_state
        return "-".join(flags)

    def module(self, seed: int = 0) -> torch.nn.Module:
        torch.manual_seed(seed)
        kwargs = {
            "input_size": I,
            "hidden_size": H,
            "num_layers": self.layers,
            "bidirectional": self.bidirectional,
            "batch_first": self.batch_first,
            "bias": self.bias,
        }
        if self.lstm:
            module = torch.nn.LSTM(proj_size=P if self.mode == "lstmp" else 0, **kwargs)
        elif self.mode == "gru":
            module = torch.nn.GRU(**kwargs)
        else:
            module = torch.nn.RNN(nonlinearity=self.mode[4:], **kwargs)
        return module.to(getattr(torch, self.dtype)).eval()


def all_configs() -> list[Config]:
    product = itertools.product(MODES, (1, 2, 3), (False, True), (False, True), (True, False), (False, True), DTYPES)
    return [Config(*values) for values in product]


def sampled_configs() -> list[Config]:
    """Two configurations per (mode, dtype), rotating the other factors so each of their values appears for
    every mode and every dtype."""
    configs = []
    for m, mode in enumerate(MODES):
        for d, dtype in enumerate(DTYPES):
            for k in range(2):
                s = m + d + k
                configs.append(
                    Config(
                        mode,
                        layers=1 + (m + 2 * d + k) % 3,
                        bidirectional=bool(s % 2),
                        batch_first=bool((m + k) % 2),
                        bias=bool((d + k + 1) % 2),
                        initial_state=bool((s // 2 + k) % 2),
                        dtype=dtype,
                    )
                )
    return configs


def matrix() -> list[Config]:
    return all_configs() if os.environ.get("ONNX_RNN_TORCH_MATRIX") == "full" else sampled_configs()


class Wrapper(torch.nn.Module):
    """The module inside a model, with or without initial states, returning every output."""

    def __init__(self, rnn: torch.nn.Module, config: Config) -> None:
        super().__init__()
        self.rnn, self.config = rnn, config

    def forward(self, x: torch.Tensor, *states: torch.Tensor) -> tuple[torch.Tensor, ...]:
        hx = None if not states else (states if self.config.lstm else states[0])
        y, s = self.rnn(x, hx)
        return (y, *s) if self.config.lstm else (y, s)


def inputs(config: Config, N: int, T: int, seed: int) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(seed)
    dtype = getattr(torch, config.dtype)
    x = torch.randn((N, T, I) if config.batch_first else (T, N, I), generator=gen).to(dtype)
    if not config.initial_state:
        return (x,)
    LD = config.layers * (2 if config.bidirectional else 1)
    h0 = (0.5 * torch.randn(LD, N, P if config.mode == "lstmp" else H, generator=gen)).to(dtype)
    c0 = (0.5 * torch.randn(LD, N, H, generator=gen)).to(dtype)
    return (x, h0, c0) if config.lstm else (x, h0)


def input_names(config: Config) -> list[str]:
    return ["x"] + (["h0"] + ["c0"] * config.lstm) * config.initial_state


def output_names(config: Config) -> list[str]:
    return ["y", "hn"] + ["cn"] * config.lstm


def dynamic_axes(config: Config) -> dict[str, dict[int, str]]:
    axes = {"x": {0: "N", 1: "T"} if config.batch_first else {0: "T", 1: "N"}}
    axes |= {"y": dict(axes["x"]), "hn": {1: "N"}, "cn": {1: "N"}, "h0": {1: "N"}, "c0": {1: "N"}}
    return {k: v for k, v in axes.items() if k in input_names(config) + output_names(config)}


def export_config(config: Config, **options: object) -> tuple[torch.nn.Module, bytes]:
    """The wrapped module and its ONNX file (exported at the first shape; serves all of SHAPES)."""
    model = Wrapper(config.module(), config).eval()
    buffer = io.BytesIO()
    ort_torch.export(
        model,
        inputs(config, *SHAPES[0], seed=0),
        buffer,
        input_names=input_names(config),
        output_names=output_names(config),
        dynamic_axes=dynamic_axes(config),
        **options,
    )
    return model, buffer.getvalue()


def sessions(
    model_bytes: bytes, *, plain: bool = True, plugin: bool = True, float16: bool = False
) -> dict[str, ort.InferenceSession]:
    """A plain onnxruntime session (the fallback runs) and one with the plugin registered (when built)."""
    found = {}
    if plain:
        options = plain_options() if float16 else ort.SessionOptions()
        found["plain"] = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    if plugin and plugin_available():
        found["plugin"] = onnx_rnn.InferenceSession(model_bytes)
    return found


def plain_options() -> ort.SessionOptions:
    """ONNX Runtime 1.32's FuseFp16InitializerToFp32NodeTransformer segfaults at session creation on float16
    models whose projection layers run the fallback function behind a batch_first Transpose with dynamic axes
    (README, PyTorch section); the documented workaround is to disable that one optimizer."""
    options = ort.SessionOptions()
    options.add_session_config_entry(
        "optimization.disable_specified_optimizers", "FuseFp16InitializerToFp32NodeTransformer"
    )
    return options


def max_error(model: torch.nn.Module, session: ort.InferenceSession, config: Config) -> float:
    """The largest |ORT - PyTorch| over all outputs and SHAPES, after checking it against the tolerance."""
    worst = 0.0
    tol = TOLERANCE[config.dtype]
    for k, (N, T) in enumerate(SHAPES):
        args = inputs(config, N, T, seed=k + 1)
        with torch.no_grad():
            want = [t.numpy() for t in model(*args)]
        got = session.run(None, {name: a.numpy() for name, a in zip(input_names(config), args)})
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol)
            worst = max(worst, float(np.max(np.abs(g.astype(np.float64) - w.astype(np.float64)))))
    return worst
