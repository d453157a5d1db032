"""``onnx-rnn check``: run a model on a golden file's inputs and compare with its expected outputs."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import OnnxRnnError
from .providers import provider_names

if TYPE_CHECKING:
    import onnx

DEFAULT_TOLERANCE = {np.dtype(np.float16): 1e-2, np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-5}


@dataclass(frozen=True)
class Agreement:
    name: str
    max_abs: float
    max_rel: float
    within: bool


def load_golden(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """A golden ``.npz``'s arrays by name; the model decides which of them are inputs."""
    try:
        with np.load(path, allow_pickle=False) as golden:
            return {k: golden[k] for k in golden.files}
    except (OSError, ValueError, EOFError) as error:
        raise OnnxRnnError(f"cannot read golden file {path}: {' '.join(str(error).split())}") from error


def compare(name: str, got: np.ndarray, want: np.ndarray, rtol: float, atol: float) -> Agreement:
    """Largest absolute and relative error; within when |got - want| <= atol + rtol * |want| everywhere."""
    if got.shape != want.shape:
        raise OnnxRnnError(f"output {name!r} has shape {got.shape}, the golden file says {want.shape}")
    g, w = got.astype(np.float64), want.astype(np.float64)
    diff = np.abs(g - w)
    nan_mismatch = bool(np.any(np.isnan(g) != np.isnan(w)))
    diff = np.where(np.isnan(g) & np.isnan(w), 0.0, diff)
    max_abs = float(np.max(diff, initial=0.0))
    max_rel = float(np.max(diff / np.maximum(np.abs(w), np.finfo(np.float64).tiny), initial=0.0))
    within = not nan_mismatch and bool(np.all(diff <= atol + rtol * np.abs(w)))
    return Agreement(name, max_abs, max_rel, within)


def check_model(
    model: onnx.ModelProto | str | os.PathLike[str],
    golden_path: str | os.PathLike[str],
    *,
    rtol: float | None = None,
    atol: float | None = None,
    providers: Sequence[str] | None = None,
) -> list[Agreement]:
    """Run ``model`` on the golden inputs; compare every graph output with ``<name>`` or ``output<i>``."""
    import onnx  # noqa: PLC0415

    from .session import run_model  # noqa: PLC0415 (onnxruntime loads only when a check runs)

    arrays = load_golden(golden_path)
    proto = model if isinstance(model, onnx.ModelProto) else _load(model)
    input_names = [i.name for i in proto.graph.input if i.name not in {t.name for t in proto.graph.initializer}]
    missing = [n for n in input_names if n not in arrays]
    if missing:
        raise OnnxRnnError(f"golden file {golden_path} lacks model input(s) {missing}; it holds {sorted(arrays)}")
    outputs = run_model(model, {n: arrays[n] for n in input_names}, providers=providers)
    results = []
    for index, (name, got) in enumerate(outputs.items()):
        key = name if name in arrays else f"output{index}"
        if key not in arrays:
            raise OnnxRnnError(
                f"golden file {golden_path} has no expected value for output {name!r} (key {name!r} or {key!r})"
            )
        tol = DEFAULT_TOLERANCE.get(got.dtype, 1e-5)
        results.append(compare(name, got, arrays[key], tol if rtol is None else rtol, tol if atol is None else atol))
    return results


def _load(path: str | os.PathLike[str]) -> onnx.ModelProto:
    import onnx  # noqa: PLC0415

    try:
        return onnx.load(os.fspath(path), load_external_data=False)
    except Exception as error:  # onnx raises DecodeError and OSError
        raise OnnxRnnError(f"cannot read ONNX model {path}: {' '.join(str(error).split())}") from error


def implementations(model: onnx.ModelProto | str | os.PathLike[str]) -> list[str]:
    """One line per custom node saying what runs it in :func:`onnx_rnn.InferenceSession`: the plugin's kernel
    (the plugin is registered, and ONNX Runtime then prefers its kernel to the model-local function), else the
    node's fallback function of standard operators. A model without custom nodes: one line saying so."""
    from .export.builder import CUSTOM_DOMAIN  # noqa: PLC0415
    from .runtime import plugin_serves  # noqa: PLC0415

    proto = _load(model) if isinstance(model, (str, os.PathLike)) else model
    custom = [n for n in proto.graph.node if n.domain == CUSTOM_DOMAIN]
    if not custom:
        return ["standard ONNX nodes only: ONNX Runtime's kernels run everything (the plugin is not loaded)"]
    serves = plugin_serves(proto)
    local = {(f.domain, f.name) for f in proto.functions}
    lines = []
    for node in custom:
        what = f"{node.domain}.{node.op_type} node {node.name or '(unnamed)'}"
        if serves:
            lines.append(f"{what}: plugin kernel")
        elif (node.domain, node.op_type) in local:
            lines.append(f"{what}: fallback function (standard ONNX operators; the plugin is not built)")
        else:
            lines.append(f"{what}: nothing (needs the plugin)")
    return lines


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="the .onnx model")
    p.add_argument(
        "--golden",
        required=True,
        help=".npz with every model input by name and expected outputs by name or as output0, ...",
    )
    p.add_argument("--rtol", type=float, help="relative tolerance (default 1e-5; 1e-2 for float16)")
    p.add_argument("--atol", type=float, help="absolute tolerance (default as --rtol)")
    p.add_argument(
        "--provider",
        choices=["cpu", "cuda"],
        action="append",
        help="execution provider, in order of preference (repeat to allow a fallback)",
    )


def run(args: argparse.Namespace) -> int:
    results = check_model(
        args.model, args.golden, rtol=args.rtol, atol=args.atol, providers=provider_names(args.provider)
    )
    arrays = load_golden(args.golden)
    if "source" in arrays:
        print(f"expected outputs from: {arrays['source']}")
    for line in implementations(args.model):
        print(f"ran: {line}")
    for r in results:
        print(
            f"{r.name}: max abs error {r.max_abs:.3e}, max rel error {r.max_rel:.3e} "
            f"{'ok' if r.within else 'BEYOND TOLERANCE'}"
        )
    return 0 if all(r.within for r in results) else 1
