"""Portable (standard ONNX) vs plugin on the LSTMP workload, and the one-file default with and without the plugin.

    PYTHONPATH=. python tools/bench_portable.py [--threads 2] [--repeat 5] [--T 200 --N 8 ...]

Workload (the plugin issue's): LSTMP T=200 N=8 I=256 H=1024 P=256, 2 layers, unidirectional, float32, CPU,
ONNX Runtime intra_op_num_threads=2, torch.set_num_threads(2); min of --repeat runs after one warm-up.
Rows:
  plugin          --plugin-only model, plugin registered (the custom kernel)
  default+plugin  default model (custom node + model-local function), plugin registered
  default         default model, no plugin: ONNX Runtime inlines the function (standard operators)
  portable        --portable model, no plugin (Scan over the cell, input projection hoisted)
  pytorch         torch.nn.LSTM(proj_size=P), same weights
The plugin rows are left out (with a note) when the library is not built.
"""

from __future__ import annotations

import argparse

import numpy as np
import onnxruntime as ort

from onnx_rnn.bench import min_ms
from onnx_rnn.export import export_spec
from onnx_rnn.runtime import library_path, plugin_available
from onnx_rnn.spec import RNNSpec


def ort_step(model, feeds, threads: int, library: str | None):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if library:
        options.register_custom_ops_library(library)
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return lambda: session.run(None, feeds)


def torch_step(spec: RNNSpec, params: np.ndarray, I: int, feeds: dict, threads: int):
    import torch

    from onnx_rnn.bench import WORKLOADS, _torch_module

    torch.set_num_threads(threads)
    workload = WORKLOADS["lstmp"].__class__("custom", spec, 0, 0, I)
    module = _torch_module(workload, params)
    x, h, c = (torch.from_numpy(feeds[k]) for k in ("data", "state", "state_cell"))

    def step():
        with torch.inference_mode():
            module(x, (h, c))

    return step, torch.__version__


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--T", type=int, default=200)
    p.add_argument("--N", type=int, default=8)
    p.add_argument("--I", type=int, default=256)
    p.add_argument("--H", type=int, default=1024)
    p.add_argument("--P", type=int, default=256)
    p.add_argument("--L", type=int, default=2)
    p.add_argument("--bidirectional", action="store_true")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()

    spec = RNNSpec(
        mode="lstm",
        state_size=args.H,
        num_layers=args.L,
        bidirectional=args.bidirectional,
        state_outputs=True,
        projection_size=args.P,
    )
    rng = np.random.default_rng(0)
    scale = 1.0 / np.sqrt(args.H)
    params = rng.uniform(-scale, scale, spec.param_count(args.I)).astype(np.float32)
    LD = spec.num_layers * spec.directions
    feeds = {
        "data": rng.standard_normal((args.T, args.N, args.I)).astype(np.float32),
        "state": np.zeros((LD, args.N, args.P), np.float32),
        "state_cell": np.zeros((LD, args.N, args.H), np.float32),
    }
    print(
        f"# LSTMP T={args.T} N={args.N} I={args.I} H={args.H} P={args.P} L={args.L}"
        f"{' bi' if args.bidirectional else ''}, float32, CPU, {args.threads} threads, min of {args.repeat}"
    )

    rows: dict[str, float | None] = {}
    notes: dict[str, str] = {}
    library = library_path() if plugin_available() else None
    default, portable = export_spec(spec, params), export_spec(spec, params, portable=True)
    if library:
        rows["plugin"] = min_ms(
            ort_step(export_spec(spec, params, plugin_only=True), feeds, args.threads, library), args.repeat
        )
        rows["default+plugin"] = min_ms(ort_step(default, feeds, args.threads, library), args.repeat)
    else:
        rows["plugin"] = rows["default+plugin"] = None
        notes["plugin"] = notes["default+plugin"] = "plugin library not built"
    rows["default"] = min_ms(ort_step(default, feeds, args.threads, None), args.repeat)
    rows["portable"] = min_ms(ort_step(portable, feeds, args.threads, None), args.repeat)
    try:
        step, version = torch_step(spec, params, args.I, feeds, args.threads)
        rows["pytorch"] = min_ms(step, args.repeat)
        notes["pytorch"] = f"torch {version} nn.LSTM(proj_size)"
    except ImportError:
        rows["pytorch"], notes["pytorch"] = None, "torch not installed"

    print("| path | ms (min) | portable / path |")
    print("|---|---:|---:|")
    for name, ms in rows.items():
        ratio = "" if ms is None or name == "portable" else f"{rows['portable'] / ms:.2f}"
        print(f"| {name} | {'n/a' if ms is None else f'{ms:.1f}'} | {ratio} | {notes.get(name, '')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
