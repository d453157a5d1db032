"""PyTorch front end: ``nn.LSTM`` (with ``proj_size``), ``nn.GRU``, ``nn.RNN`` -> ONNX through onnx-rnn.

``pip install onnx-rnn[torch]``. Importing ``onnx_rnn`` never imports torch; this package imports it only
when one of its functions is called.
"""

from .export import export, export_rnn_module
from .modules import TorchRNN, from_module

__all__ = ["TorchRNN", "export", "export_rnn_module", "from_module"]
