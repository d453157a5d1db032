"""``onnx-rnn bench``: time converted models on ONNX Runtime against their peers, in one run.

Peers, all with the same weights and thread count: PyTorch (``nn.LSTM``/``nn.GRU``, the main peer),
our portable (standard-ONNX) form where projection is involved, and MXNet 1.9.1 on CPU when its venv
(``.venv-mxnet``, made by tools/mxnet_env.sh) exists. Reported as min-of-N milliseconds and as ratios
against PyTorch (below 1.0: onnx-rnn is faster). A benchmark, not a test: nothing here asserts speed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import OnnxRnnError
from .spec import RNNSpec

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Workload:
    name: str
    spec: RNNSpec
    T: int
    N: int
    I: int
    streaming: bool = False  # T steps of one time step each, states carried between calls

    def describe(self) -> str:
        s = self.spec
        proj = (f" P={s.projection_size}" if s.projection_size else "") + (
            f" clip=[{s.lstm_state_clip_min}, {s.lstm_state_clip_max}]" if s.clips else ""
        )
        kind = (
            f"streaming: {self.T} calls of one step, states carried, ms for all" if self.streaming else "whole sequence"
        )
        return (
            f"{s.mode}{' bi' if s.bidirectional else ''} T={self.T} N={self.N} I={self.I} "
            f"H={s.state_size}{proj} L={s.num_layers} ({kind})"
        )


def _lstm(
    H: int, P: int | None = None, bidirectional: bool = False, mode: str = "lstm", clip: float | None = None
) -> RNNSpec:
    return RNNSpec(
        mode=mode,
        state_size=H,
        num_layers=2,
        bidirectional=bidirectional,
        state_outputs=True,
        projection_size=P,
        lstm_state_clip_min=None if clip is None else -clip,
        lstm_state_clip_max=clip,
    )


WORKLOADS = {
    "lstmp": Workload("lstmp", _lstm(1024, 256), 200, 8, 256),
    "lstm": Workload("lstm", _lstm(512), 200, 8, 256),
    "lstm-clip": Workload("lstm-clip", _lstm(512, clip=3.0), 200, 8, 256),
    "bigru": Workload("bigru", _lstm(512, bidirectional=True, mode="gru"), 200, 8, 256),
    "lstmp-stream": Workload("lstmp-stream", _lstm(1024, 256), 50, 1, 256, streaming=True),
    "lstm-stream": Workload("lstm-stream", _lstm(512), 50, 1, 256, streaming=True),
}

# Workloads that bring their own runner: name -> "module:function"; function(threads, repeat, provider) -> [Result].
EXTERNAL_WORKLOADS = {"torch-lstmp": "onnx_rnn.torch.bench:bench_torch_lstmp"}


@dataclass
class Result:
    workload: str
    peer: str
    ms: float | None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "model",
        nargs="?",
        help="time this .onnx model on random inputs instead of the built-in workloads (prints p50/p90/p99)",
    )
    p.add_argument(
        "--shape",
        action="append",
        default=[],
        metavar="NAME=SIZE",
        help="with MODEL: the size of a symbolic dimension, e.g. time=200 (repeat for each)",
    )
    p.add_argument(
        "--workload",
        action="append",
        choices=sorted(WORKLOADS) + sorted(EXTERNAL_WORKLOADS),
        help="which workloads (repeat; default: all)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="threads for every peer (ORT intra-op, torch, OMP for MXNet); default 2",
    )
    p.add_argument(
        "--repeat", type=int, help="timed runs (default: 5 per workload, the minimum reported; 100 for MODEL)"
    )
    p.add_argument("--provider", choices=["cpu", "cuda"], default="cpu", help="execution provider (default cpu)")
    p.add_argument("--no-mxnet", action="store_true", help="skip MXNet even if its venv exists")
    p.add_argument(
        "--mxnet-venv",
        default=os.environ.get("ONNX_RNN_MXNET_VENV"),
        help="the MXNet 1.9.1 venv tools/mxnet_env.sh makes, in a checkout (default: $ONNX_RNN_MXNET_VENV, else "
        "the .venv-mxnet of the checkout this package runs from)",
    )
    p.add_argument("--json", help="also write the results to this JSON file")


def run(args: argparse.Namespace) -> int:
    if getattr(args, "model", None) is not None:
        return run_model_bench(args)
    if getattr(args, "shape", None):
        raise OnnxRnnError("--shape applies to a MODEL given to bench")
    repeat = 5 if args.repeat is None else args.repeat
    if repeat < 1 or args.threads < 1:
        raise OnnxRnnError("--repeat and --threads must be at least 1")
    names = args.workload or list(WORKLOADS) + list(EXTERNAL_WORKLOADS)
    results: list[Result] = []
    mxnet_venv = Path(args.mxnet_venv) if getattr(args, "mxnet_venv", None) else None
    for name in names:
        if name in EXTERNAL_WORKLOADS:
            results += _external_workload(name, args, repeat)
            continue
        w = WORKLOADS[name]
        print(f"# {name}: {w.describe()}", flush=True)
        results += bench_workload(w, args.threads, repeat, args.provider, not args.no_mxnet, mxnet_venv)
    print()
    print(format_table(results))
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in results], indent=1))
    return 0


def _external_workload(name: str, args: argparse.Namespace, repeat: int) -> list[Result]:
    import importlib  # noqa: PLC0415

    module, function = EXTERNAL_WORKLOADS[name].split(":")
    print(f"# {name}", flush=True)
    run: Callable[[int, int, str], list[Result]] = getattr(importlib.import_module(module), function)
    return run(args.threads, repeat, args.provider)


def workload_params(w: Workload) -> np.ndarray:
    """The workload's flat float32 parameter vector, uniform in +-1/sqrt(state size), seeded: every peer and
    every tool (roofline, bench_stream_cache) times the same weights."""
    scale = 1.0 / np.sqrt(w.spec.state_size)
    return np.random.default_rng(0).uniform(-scale, scale, w.spec.param_count(w.I)).astype(np.float32)


def bench_workload(
    w: Workload,
    threads: int,
    repeat: int,
    provider: str,
    mxnet: bool = True,
    mxnet_venv: Path | None = None,
) -> list[Result]:
    params = workload_params(w)
    results = [Result(w.name, "onnx-rnn", min_ms(_ort_runner(w, params, threads, provider), repeat))]
    if w.spec.needs_custom_lstm:
        try:
            results.append(
                Result(
                    w.name,
                    "onnx-rnn portable",
                    min_ms(_ort_runner(w, params, threads, provider, portable=True), repeat),
                )
            )
        except (OnnxRnnError, ImportError) as error:
            results.append(Result(w.name, "onnx-rnn portable", None, str(error)))
    if w.spec.clips and not w.spec.projection_size:
        # The speed to match: ONNX Runtime's own LSTM on the same weights, which cannot clip.
        native = Workload(
            w.name,
            dataclasses.replace(w.spec, lstm_state_clip_min=None, lstm_state_clip_max=None),
            w.T,
            w.N,
            w.I,
            w.streaming,
        )
        results.append(
            Result(w.name, "ort LSTM (no clip)", min_ms(_ort_runner(native, params, threads, provider), repeat))
        )
    results.append(_torch_result(w, params, threads, repeat, provider))
    if mxnet and provider == "cpu":
        results.append(_mxnet_result(w, threads, repeat, mxnet_venv))
    for r in results:
        print(f"  {r.peer:<18} {'-' if r.ms is None else f'{r.ms:9.3f} ms'}  {r.note}", flush=True)
    return results


def run_model_bench(args: argparse.Namespace) -> int:
    """``onnx-rnn bench MODEL.onnx``: random inputs from the declared shapes, p50/p90/p99 of ``--repeat`` runs."""
    import onnxruntime as ort  # noqa: PLC0415

    from .runtime import InferenceSession  # noqa: PLC0415

    repeat = 100 if args.repeat is None else args.repeat
    if repeat < 1 or args.threads < 1:
        raise OnnxRnnError("--repeat and --threads must be at least 1")
    sizes = parse_dim_sizes(args.shape)
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    providers = ["CUDAExecutionProvider"] if args.provider == "cuda" else ["CPUExecutionProvider"]
    session = InferenceSession(args.model, options, providers=providers)
    feeds = random_feeds(session.get_inputs(), sizes)
    for name, value in feeds.items():
        print(f"input {name}: {value.dtype} {tuple(value.shape)}")
    times = timed_ms(lambda: session.run(None, feeds), repeat)
    p50, p90, p99 = np.percentile(times, [50, 90, 99])
    print(
        f"{args.model}: {repeat} runs, {args.threads} threads, {args.provider}: p50 {p50:.3f} ms, "
        f"p90 {p90:.3f} ms, p99 {p99:.3f} ms, min {min(times):.3f} ms"
    )
    return 0


def parse_dim_sizes(items: list[str]) -> dict[str, int]:
    """``["time=200", "batch=8"]`` -> {"time": 200, "batch": 8}."""
    sizes = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip() or not text.strip().isdigit() or int(text) < 1:
            raise OnnxRnnError(f"--shape takes NAME=SIZE with a positive SIZE (e.g. time=200), got {item!r}")
        sizes[name.strip()] = int(text)
    return sizes


def random_feeds(inputs: Sequence[Any], sizes: dict[str, int]) -> dict[str, np.ndarray]:
    """Standard-normal floats (integers: 1; they are lengths or indices) shaped as each input declares, symbolic
    dimensions taken from ``sizes``."""
    from .session import ORT_TYPES  # noqa: PLC0415  (onnx loads only when a model is timed)

    rng = np.random.default_rng(0)
    feeds: dict[str, np.ndarray] = {}
    for info in inputs:
        dtype = ORT_TYPES.get(info.type)
        if dtype is None:
            raise OnnxRnnError(f"input {info.name!r} has type {info.type}; bench makes only numeric tensors")
        shape = []
        for dim in info.shape:
            if isinstance(dim, int) and dim >= 0:
                shape.append(dim)
            elif isinstance(dim, str) and dim in sizes:
                shape.append(sizes[dim])
            else:
                raise OnnxRnnError(
                    f"input {info.name!r} has symbolic dimension {dim!r}: give its size with --shape {dim}=SIZE"
                )
        if np.issubdtype(dtype, np.floating):
            feeds[info.name] = rng.standard_normal(shape).astype(dtype)
        else:
            feeds[info.name] = np.ones(shape, dtype)
    return feeds


def timed_ms(step: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds of each of ``repeat`` calls of ``step``, after one warm-up call."""
    step()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def min_ms(step: Callable[[], object], repeat: int) -> float:
    """Milliseconds of the fastest of ``repeat`` calls of ``step``, after one warm-up call."""
    step()  # warm-up: allocations, ORT's first-run optimisations, torch's oneDNN primitive creation
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


@dataclass
class Timing:
    """One candidate's times from ``round_robin``: its minimum and its median (the spread says how noisy the
    machine was)."""

    name: str
    times_ms: list[float]

    @property
    def best(self) -> float:
        return min(self.times_ms)

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)


def round_robin(runners: dict[str, Callable[[], object]], runs: int) -> list[Timing]:
    """Each runner once (warm-up), then ``runs`` rounds calling each in turn, so that a burst of load from
    elsewhere hits every candidate alike (the tools' side-by-side ratios: roofline, bench_lengths, ...)."""
    for run in runners.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(runs):
        for name, run in runners.items():
            start = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - start) * 1e3)
    return [Timing(name, ms) for name, ms in times.items()]


def _inputs(w: Workload, dtype: type[np.floating[Any]] = np.float32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    s = w.spec
    LD = s.num_layers * s.directions
    x = rng.standard_normal((w.T, w.N, w.I)).astype(dtype)
    return x, np.zeros((LD, w.N, s.output_size), dtype), np.zeros((LD, w.N, s.state_size), dtype)


def _ort_runner(
    w: Workload, params: np.ndarray, threads: int, provider: str, portable: bool = False
) -> Callable[[], object]:
    import onnxruntime as ort  # noqa: PLC0415

    from .export import export_spec  # noqa: PLC0415
    from .runtime import InferenceSession  # noqa: PLC0415

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    model = export_spec(w.spec, params, portable=portable) if portable else export_spec(w.spec, params)
    providers = ["CUDAExecutionProvider"] if provider == "cuda" else ["CPUExecutionProvider"]
    session = InferenceSession(model, options, providers=providers)
    x, h, c = _inputs(w)
    lstm = w.spec.mode == "lstm"
    if not w.streaming:
        feeds = {"data": x, "state": h} | ({"state_cell": c} if lstm else {})
        return lambda: session.run(None, feeds)

    def stream() -> None:
        hs: np.ndarray = h
        cs: np.ndarray | None = c
        for t in range(w.T):
            feeds = {"data": x[t : t + 1], "state": hs} | ({"state_cell": cs} if lstm else {})
            outs = session.run(None, feeds)
            hs, cs = outs[1], (outs[2] if lstm else None)

    return stream


def _torch_result(w: Workload, params: np.ndarray, threads: int, repeat: int, provider: str) -> Result:
    try:
        import torch  # noqa: PLC0415
    except ImportError:
        return Result(w.name, "pytorch", None, "torch not installed")
    torch.set_num_threads(threads)
    device = "cuda" if provider == "cuda" else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        return Result(w.name, "pytorch", None, "torch has no CUDA here")
    module = _torch_module(w, params).to(device)
    x, h, c = (torch.from_numpy(a).to(device) for a in _inputs(w))
    lstm = w.spec.mode == "lstm"
    state = (h, c) if lstm else h

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    def step() -> None:
        with torch.inference_mode():
            if w.streaming:
                s = state
                for t in range(w.T):
                    _, s = module(x[t : t + 1], s)
            else:
                module(x, state)
        sync()

    return Result(w.name, "pytorch", min_ms(step, repeat), f"torch {torch.__version__}, {threads} threads")


def _torch_module(w: Workload, params: np.ndarray) -> torch.nn.RNNBase:
    import torch  # noqa: PLC0415

    from .params import split_parameters  # noqa: PLC0415

    s = w.spec
    kwargs = dict(input_size=w.I, hidden_size=s.state_size, num_layers=s.num_layers, bidirectional=s.bidirectional)
    module = (
        torch.nn.LSTM(proj_size=s.projection_size or 0, **kwargs)
        if s.mode == "lstm"
        else torch.nn.GRU(**kwargs)
        if s.mode == "gru"
        else torch.nn.RNN(nonlinearity="tanh" if s.mode == "rnn_tanh" else "relu", **kwargs)
    )
    state: dict[str, np.ndarray] = {}
    for layer, directions in enumerate(split_parameters(s, params, w.I)):
        for d, wt in enumerate(directions):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            state |= {
                f"weight_ih{sfx}": wt.i2h_weight,
                f"weight_hh{sfx}": wt.h2h_weight,
                f"bias_ih{sfx}": wt.i2h_bias,
                f"bias_hh{sfx}": wt.h2h_bias,
            }
            if wt.h2r_weight is not None:
                state[f"weight_hr{sfx}"] = wt.h2r_weight
    module.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})
    return module.eval()


def torch_lstm_runner(w: Workload, params: np.ndarray, threads: int) -> Callable[[], None]:
    """PyTorch's ``nn.LSTM`` (``proj_size`` with projection) on the same weights, on the CPU, as one callable:
    the whole sequence, or with ``w.streaming`` one call per step with the states carried."""
    import torch  # noqa: PLC0415

    torch.set_num_threads(threads)
    module = _torch_module(w, params)
    x, h, c = (torch.from_numpy(a) for a in _inputs(w))

    def run() -> None:
        with torch.inference_mode():
            if w.streaming:
                state = (h, c)
                for t in range(w.T):
                    _, state = module(x[t : t + 1], state)
            else:
                module(x, (h, c))

    return run


def _mxnet_result(w: Workload, threads: int, repeat: int, venv: Path | None = None) -> Result:
    """MXNet's time, from tools/mxnet_bench.py run by the MXNet venv's Python. ``venv`` (``--mxnet-venv``, which
    ``make bench`` passes: an installed onnx_rnn is not inside the checkout) defaults to the checkout's
    .venv-mxnet beside this package; the script is the checkout's, beside the venv."""
    venv = Path(__file__).resolve().parent.parent / ".venv-mxnet" if venv is None else venv.resolve()
    python, script = venv / "bin" / "python", venv.parent / "tools" / "mxnet_bench.py"
    if not python.exists() or not script.exists():
        return Result(w.name, "mxnet 1.9.1", None, f"no MXNet venv at {venv} (tools/mxnet_env.sh makes it)")
    s = w.spec
    T, N = (1, w.N) if w.streaming else (w.T, w.N)
    cmd = [
        str(python),
        str(script),
        "--mode",
        s.mode,
        "--T",
        str(T),
        "--N",
        str(N),
        "--I",
        str(w.I),
        "--H",
        str(s.state_size),
        "--P",
        str(s.projection_size or 0),
        "--L",
        str(s.num_layers),
        "--repeat",
        str(repeat),
    ] + (["--bidirectional"] if s.bidirectional else [])
    env = os.environ | {"OMP_NUM_THREADS": str(threads), "MXNET_ENGINE_TYPE": "NaiveEngine"}
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env, timeout=600)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines or "ms_min" not in lines[-1]:
        return Result(w.name, "mxnet 1.9.1", None, (lines[-1].get("error") if lines else done.stderr[-200:]) or "")
    ms = lines[-1]["ms_min"] * (w.T if w.streaming else 1)
    note = "T=1 calls (no state carried) x T" if w.streaming else ""
    return Result(w.name, "mxnet 1.9.1", ms, note)


def format_table(results: list[Result]) -> str:
    """Markdown table: ms per workload and peer, and each ratio onnx-rnn / peer."""
    rows = ["| workload | peer | ms (min) | onnx-rnn / peer |", "|---|---|---:|---:|"]
    ours = {r.workload: r.ms for r in results if r.peer == "onnx-rnn"}
    for r in results:
        our_ms = ours.get(r.workload)
        ratio = "" if r.ms is None or our_ms is None or r.peer == "onnx-rnn" else f"{our_ms / r.ms:.2f}"
        ms = "n/a" if r.ms is None else f"{r.ms:.2f}"
        rows.append(f"| {r.workload} | {r.peer} | {ms} | {ratio} |")
    return "\n".join(rows)
