"""Graph emission: standard ONNX nodes, our custom op, and the portable decomposition."""

from .builder import GraphBuilder
from .model import export_rnn, export_spec
from .rnn import RNNOutputNames, emit_rnn

__all__ = ["GraphBuilder", "RNNOutputNames", "emit_rnn", "export_rnn", "export_spec"]
