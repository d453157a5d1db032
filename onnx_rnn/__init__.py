"""onnx-rnn: MXNet RNN/LSTM/GRU layers and checkpoints -> ONNX, served exactly on ONNX Runtime."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import OnnxRnnError

__version__ = "0.1.0"

__all__ = ["InferenceSession", "OnnxRnnError", "RNNSpec", "__version__", "export_rnn", "library_path"]

# The public names below import onnx (and onnxruntime): they load on first use, so `onnx-rnn --help` and
# `import onnx_rnn.cli` stay fast.
_LAZY = {
    "InferenceSession": "runtime",
    "library_path": "runtime",
    "export_rnn": "export",
    "RNNSpec": "spec",
}

if TYPE_CHECKING:
    from .export import export_rnn
    from .runtime import InferenceSession, library_path
    from .spec import RNNSpec


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'onnx_rnn' has no attribute {name!r}")
    import importlib  # noqa: PLC0415

    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value
