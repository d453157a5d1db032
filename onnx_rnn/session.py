"""Run a model with user-supplied arrays, checking names, dtypes and shapes first for clear errors."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import onnx

from .errors import OnnxRnnError
from .runtime import InferenceSession


def run_model(
    model: onnx.ModelProto | str | os.PathLike[str],
    feeds: Mapping[str, np.ndarray],
    providers: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """Run ``model`` on ``feeds``; returns outputs by name."""
    session = InferenceSession(model, providers=providers)
    inputs = session.get_inputs()
    unshaped = _unshaped_inputs(model, [i.name for i in inputs if i.shape == []])
    prepared = check_feeds(inputs, feeds, unshaped)
    try:
        values = session.run(None, prepared)
    except Exception as error:  # onnxruntime's own exception types
        raise OnnxRnnError(f"ONNX Runtime failed to run the model: {' '.join(str(error).split())}") from error
    return {out.name: value for out, value in zip(session.get_outputs(), values)}


def _unshaped_inputs(model: onnx.ModelProto | str | os.PathLike[str], candidates: list[str]) -> set[str]:
    """Inputs declared without any shape (ONNX Runtime shows them, like scalars, as shape [])."""
    if not candidates:
        return set()
    proto = model if isinstance(model, onnx.ModelProto) else onnx.load(os.fspath(model), load_external_data=False)
    return {
        i.name
        for i in proto.graph.input
        if i.name in candidates and i.type.HasField("tensor_type") and not i.type.tensor_type.HasField("shape")
    }


def check_feeds(
    inputs: Sequence[Any], feeds: Mapping[str, np.ndarray], unshaped: frozenset[str] | set[str] = frozenset()
) -> dict[str, np.ndarray]:
    """Every graph input given, nothing extra, dtypes equal, fixed dimensions equal, symbolic ones consistent.

    ``inputs`` are onnxruntime's ``NodeArg``s (``name``, ``type``, ``shape``; onnxruntime ships no types);
    ``unshaped`` names inputs declared without a shape, which take any shape.
    """
    expected = {i.name: i for i in inputs}
    unknown = sorted(set(feeds) - set(expected))
    missing = [name for name in expected if name not in feeds]
    if unknown or missing:
        raise OnnxRnnError(
            f"model inputs are {list(expected)}; "
            + (f"missing {missing}" if missing else "")
            + ("; " if missing and unknown else "")
            + (f"unknown {unknown}" if unknown else "")
        )
    symbols: dict[str, tuple[str, int, int]] = {}
    prepared = {}
    for name, info in expected.items():
        value = np.asarray(feeds[name])
        want_type = ORT_TYPES.get(info.type)
        want_dtype = None if want_type is None else np.dtype(want_type)
        if want_dtype is not None and value.dtype != want_dtype:
            raise OnnxRnnError(f"input {name!r} must be {want_dtype}, got {value.dtype}")
        _check_shape(name, value.shape, None if name in unshaped else info.shape, symbols)
        prepared[name] = value
    return prepared


def _check_shape(
    name: str,
    shape: tuple[int, ...],
    declared: list[int | str | None] | None,
    symbols: dict[str, tuple[str, int, int]],
) -> None:
    if declared is None:  # no declared shape: any shape is accepted (ONNX Runtime runs it)
        return
    if len(shape) != len(declared):
        raise OnnxRnnError(f"input {name!r} must have shape {_show(declared)}, got {shape}")
    for axis, (got, want) in enumerate(zip(shape, declared)):
        if isinstance(want, int) and got != want:
            raise OnnxRnnError(f"input {name!r} must have shape {_show(declared)}, got {shape}")
        if isinstance(want, str):
            seen = symbols.setdefault(want, (name, axis, got))
            if seen[2] != got:
                raise OnnxRnnError(
                    f"dimension {want} is {seen[2]} in input {seen[0]!r} but {got} in input {name!r} "
                    f"(shape {_show(declared)} got {shape})"
                )


def _show(declared: list[int | str | None]) -> str:
    return "(" + ", ".join(str(d) for d in declared) + ")"


ORT_TYPES = {  # ONNX Runtime's input type names -> NumPy (bench.py makes random inputs from it too)
    "tensor(float16)": np.float16,
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
    "tensor(bool)": np.bool_,
}
