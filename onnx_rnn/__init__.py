"""onnx-rnn: MXNet RNN/LSTM/GRU layers and checkpoints -> ONNX, served exactly on ONNX Runtime."""

from .errors import OnnxRnnError
from .export import export_rnn
from .runtime import InferenceSession, library_path
from .spec import RNNSpec

__version__ = "0.1.0"

__all__ = ["InferenceSession", "OnnxRnnError", "RNNSpec", "__version__", "export_rnn", "library_path"]
