"""Shared helpers: the committed MXNet 1.9.1 fixtures, and feeding a converted model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from onnx_rnn.runtime import plugin_available
from onnx_rnn.spec import RNNSpec

FIXTURES = Path(__file__).parent / "fixtures"
RNN_FIXTURES = sorted((FIXTURES / "rnn").glob("*.npz"))
QUIRK_FIXTURES = sorted((FIXTURES / "mxnet_cpu_quirks").glob("*.npz"))

needs_plugin = pytest.mark.skipif(not plugin_available(), reason="the onnx-rnn plugin library is not built")


def load_fixture(path: Path) -> tuple[RNNSpec, dict[str, np.ndarray]]:
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    spec = RNNSpec.from_mxnet_attrs(json.loads(str(arrays.pop("attrs"))))
    return spec, arrays


def feeds_for(spec: RNNSpec, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The converted model's inputs from a fixture's arrays (names are the same as MXNet's)."""
    names = ["data", "state"] + (["state_cell"] if spec.mode == "lstm" else [])
    if spec.use_sequence_length:
        names.append("sequence_length")
    return {n: arrays[n] for n in names}


def expected_outputs(spec: RNNSpec, arrays: dict[str, np.ndarray]) -> list[np.ndarray]:
    """MXNet's outputs in the converted model's output order (output, state_output, state_cell_output)."""
    keys = ["out"] + (["hy"] + (["cy"] if spec.mode == "lstm" else []) if spec.state_outputs else [])
    return [arrays[k] for k in keys]


def random_case(spec: RNNSpec, T: int, N: int, I: int, dtype=np.float32, seed: int = 0):
    """Random parameters, data and states of moderate scale for ``spec``."""
    rng = np.random.default_rng(seed)
    scale = 1.0 / np.sqrt(spec.state_size)
    params = rng.uniform(-scale, scale, spec.param_count(I)).astype(dtype)
    LD = spec.num_layers * spec.directions
    data = rng.standard_normal((T, N, I)).astype(dtype)
    state = (0.5 * rng.standard_normal((LD, N, spec.output_size))).astype(dtype)
    cell = (0.5 * rng.standard_normal((LD, N, spec.state_size))).astype(dtype)
    return params, data, state, cell
