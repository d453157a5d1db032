#!/usr/bin/env python3
"""What writing no standard node for layers with sequence lengths costs on ONNX Runtime (docs/portable.md).

onnx.reference ignores a standard LSTM/GRU/RNN node's ``sequence_lens`` and OpenVINO does with symbolic shapes,
so with lengths onnx-rnn writes LSTM layers as its ``LSTMP`` op (plugin kernel; Scan body without the plugin) and
GRU/RNN layers as Scan. This measures, on the same weights and inputs, ONNX Runtime's own standard node (what
was written before, right on ONNX Runtime only) against what is written now, with and without the plugin.
Round-robin, one warm-up each, then --runs rounds; min (median) in ms; 2 threads by default.

  .venv/bin/python tools/bench_lengths.py [--runs 7] [--threads 2] [--T 200 --N 8 --I 256 --H 512]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import onnx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from onnx_rnn.bench import Timing, round_robin
from onnx_rnn.export import export_spec
from onnx_rnn.export import rnn as rnn_module
from onnx_rnn.export.layers import emit_standard_layer
from onnx_rnn.runtime import library_path, plugin_available
from onnx_rnn.spec import RNNSpec


def standard_node_model(spec: RNNSpec, params: np.ndarray) -> onnx.ModelProto:
    """The model with ONNX Runtime's own node per layer, sequence_lens included (no longer written)."""
    chosen = rnn_module.choose_layer_emitter
    rnn_module.choose_layer_emitter = lambda *args, **kwargs: emit_standard_layer  # type: ignore[assignment]
    try:
        return export_spec(spec, params, zero_initial_state=True)
    finally:
        rnn_module.choose_layer_emitter = chosen


def session(model: onnx.ModelProto, threads: int, plugin: bool) -> Callable[[dict], object]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    if plugin:
        options.register_custom_ops_library(library_path())
    s = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return lambda feeds: s.run(None, feeds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    for dim, default in (("T", 200), ("N", 8), ("I", 256), ("H", 512)):
        parser.add_argument(f"--{dim}", type=int, default=default)
    args = parser.parse_args()
    print(
        f"T={args.T} N={args.N} I={args.I} H={args.H}, 2 bidirectional layers, lengths T..T/2, {args.threads} threads"
    )
    print("| mode | ORT's standard node (old) | written now, plugin | written now, no plugin | now / old (plugin) |")
    print("|---|---:|---:|---:|---:|")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.T, args.N, args.I)).astype(np.float32)
    lengths = np.linspace(args.T, args.T // 2, args.N).astype(np.int32)
    for mode in ("lstm", "gru", "rnn_tanh"):
        spec = RNNSpec(mode=mode, state_size=args.H, num_layers=2, bidirectional=True, use_sequence_length=True)
        scale = 1.0 / np.sqrt(args.H)
        params = rng.uniform(-scale, scale, spec.param_count(args.I)).astype(np.float32)
        now = export_spec(spec, params, zero_initial_state=True)
        runners = {"old": session(standard_node_model(spec, params), args.threads, False)}
        if plugin_available():
            runners["plugin"] = session(now, args.threads, True)
        runners["no plugin"] = session(now, args.threads, False)
        feeds = {"data": x, "sequence_length": lengths}
        want = runners["old"](feeds)[0]
        for run in runners.values():
            np.testing.assert_allclose(run(feeds)[0], want, rtol=1e-4, atol=1e-4)
        timings = {t.name: t for t in round_robin({n: partial(r, feeds) for n, r in runners.items()}, args.runs)}
        ratio = timings.get("plugin", timings["no plugin"]).best / timings["old"].best
        cells = " | ".join(cell(timings.get(name)) for name in ("old", "plugin", "no plugin"))
        print(f"| {mode} | {cells} | {ratio:.2f} |")


def cell(timing: Timing | None) -> str:
    """min (median) ms of one runner, or n/a where it did not run."""
    return f"{timing.best:.1f} ({timing.median:.1f})" if timing else "n/a"


if __name__ == "__main__":
    main()
