"""``onnx-rnn bench --workload torch-lstmp``: a PyTorch LSTMP encoder exported by onnx_rnn.torch.export,
timed on ONNX Runtime (with the plugin) against the same PyTorch module, whole sequence and streaming.

The encoder is Linear(80 -> 256) -> 2-layer LSTM H=1024 P=256 -> Linear(256 -> 256), float32: the shape of an
LSTM transducer's encoder. Whole sequence: T=200, N=8. Streaming: 50 calls of one frame, N=1, the states carried
from call to call (the model is exported once with states in and out; one file serves both).
"""

from __future__ import annotations

import io
from functools import partial
from typing import Any

import numpy as np

from ..bench import Result, min_ms

FEATURES, HIDDEN, PROJ, LAYERS, OUT = 80, 1024, 256, 2, 256
WHOLE = (200, 8)  # (T, N)
STREAM = (50, 1)  # (calls of one frame, N)
NAMES = ("torch-lstmp", "torch-lstmp-stream")


def bench_torch_lstmp(threads: int, repeat: int, provider: str = "cpu") -> list[Result]:
    """Both workloads; each a Result for onnx-rnn and one for PyTorch (notes say why one is missing)."""
    try:
        import torch  # noqa: PLC0415 (optional dependency, imported when used)
    except ImportError:
        return [Result(name, peer, None, "torch not installed") for name in NAMES for peer in ("onnx-rnn", "pytorch")]
    if provider != "cpu":
        return [Result(name, "onnx-rnn", None, "CPU only") for name in NAMES]
    torch.set_num_threads(threads)
    encoder = _encoder()
    session = _session(_export(torch, encoder), threads)
    results = []
    for name, streaming in zip(NAMES, (False, True)):
        feeds = _feeds(streaming)
        results.append(Result(name, "onnx-rnn", min_ms(partial(_run_ort, session, feeds, streaming), repeat)))
        tensors = {k: torch.from_numpy(v) for k, v in feeds.items()}
        results.append(
            Result(
                name,
                "pytorch",
                min_ms(partial(_run_torch, torch, encoder, tensors, streaming), repeat),
                f"torch {torch.__version__}, {threads} threads",
            )
        )
    for r in results:
        print(f"  {r.workload:<18} {r.peer:<10} {'-' if r.ms is None else f'{r.ms:9.3f} ms'}  {r.note}", flush=True)
    return results


def describe() -> str:
    return (
        f"PyTorch encoder Linear({FEATURES}) -> LSTM H={HIDDEN} P={PROJ} L={LAYERS} -> Linear({OUT}) via "
        f"onnx_rnn.torch.export; whole T={WHOLE[0]} N={WHOLE[1]}, streaming {STREAM[0]} calls of one frame N=1"
    )


def _encoder() -> Any:
    import torch  # noqa: PLC0415 (optional dependency, imported when used)

    torch.manual_seed(0)

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inp = torch.nn.Linear(FEATURES, PROJ)
            self.lstm = torch.nn.LSTM(PROJ, HIDDEN, num_layers=LAYERS, proj_size=PROJ)
            self.out = torch.nn.Linear(PROJ, OUT)

        def forward(self, x: Any, h: Any, c: Any) -> Any:
            y, (h, c) = self.lstm(self.inp(x), (h, c))
            return self.out(y), h, c

    return Encoder().eval()


def _export(torch: Any, encoder: Any) -> bytes:
    from .export import export  # noqa: PLC0415 (optional dependency, imported when used)

    T, N = WHOLE
    args = (torch.zeros(T, N, FEATURES), torch.zeros(LAYERS, N, PROJ), torch.zeros(LAYERS, N, HIDDEN))
    buffer = io.BytesIO()
    export(
        encoder,
        args,
        buffer,
        input_names=["x", "h", "c"],
        output_names=["y", "h_out", "c_out"],
        dynamic_axes={"x": {0: "T", 1: "N"}, "h": {1: "N"}, "c": {1: "N"}, "y": {0: "T", 1: "N"}},
    )
    return buffer.getvalue()


def _session(model: bytes, threads: int) -> Any:
    import onnxruntime as ort  # noqa: PLC0415 (optional dependency, imported when used)

    from ..runtime import InferenceSession  # noqa: PLC0415 (optional dependency, imported when used)

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return InferenceSession(model, options)


def _feeds(streaming: bool) -> dict[str, np.ndarray]:
    T, N = STREAM if streaming else WHOLE
    rng = np.random.default_rng(1)
    return {
        "x": rng.standard_normal((T, N, FEATURES)).astype(np.float32),
        "h": np.zeros((LAYERS, N, PROJ), np.float32),
        "c": np.zeros((LAYERS, N, HIDDEN), np.float32),
    }


def _run_ort(session: Any, feeds: dict[str, np.ndarray], streaming: bool) -> None:
    if not streaming:
        session.run(None, feeds)
        return
    h, c = feeds["h"], feeds["c"]
    for t in range(feeds["x"].shape[0]):
        _, h, c = session.run(None, {"x": feeds["x"][t : t + 1], "h": h, "c": c})


def _run_torch(torch: Any, encoder: Any, tensors: dict[str, Any], streaming: bool) -> None:
    with torch.inference_mode():
        if not streaming:
            encoder(tensors["x"], tensors["h"], tensors["c"])
            return
        h, c = tensors["h"], tensors["c"]
        for t in range(tensors["x"].shape[0]):
            _, h, c = encoder(tensors["x"][t : t + 1], h, c)
