"""``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN`` -> RNNSpec + MXNet's flat parameter vector.

PyTorch stores each layer direction's weights exactly as MXNet does (``weight_ih`` = ``i2h_weight``,
``weight_hh`` = ``h2h_weight``, ``weight_hr`` = ``h2r_weight``, same gate orders: LSTM [i, f, g, o], GRU
[r, z, n]), and PyTorch's GRU applies the reset gate after the recurrent product, which is MXNet's (ONNX's
``linear_before_reset=1``) form. So a module converts by concatenating its parameters in MXNet's flat order;
``bias=False`` modules get zero biases. Nothing here builds a graph: export.py hands the result to export/.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import OnnxRnnError
from ..params import DirectionWeights, join_parameters
from ..spec import RNNSpec

_FLOAT_DTYPES = ("float16", "float32", "float64")


@dataclass(frozen=True)
class TorchRNN:
    """What onnx-rnn needs of one PyTorch RNN module: its spec, its weights, its input layout."""

    spec: RNNSpec  # state_outputs=True: PyTorch always returns the final states
    parameters: np.ndarray  # MXNet's flat vector, in the module's dtype
    input_size: int
    batch_first: bool

    @property
    def dtype(self) -> np.dtype:
        return self.parameters.dtype


def is_rnn_module(module: Any) -> bool:
    """True for ``nn.LSTM``, ``nn.GRU`` and ``nn.RNN`` (and subclasses that keep their forward)."""
    import torch  # noqa: PLC0415 (optional dependency, imported when used)

    return isinstance(module, (torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN))


def module_mode(module: Any) -> str:
    """MXNet's mode name for an RNN module."""
    import torch  # noqa: PLC0415 (optional dependency, imported when used)

    if isinstance(module, torch.nn.LSTM):
        return "lstm"
    if isinstance(module, torch.nn.GRU):
        return "gru"
    if isinstance(module, torch.nn.RNN):
        nonlinearity = module.nonlinearity
        if nonlinearity not in ("tanh", "relu"):
            raise OnnxRnnError(f"nn.RNN nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        return f"rnn_{nonlinearity}"
    raise OnnxRnnError(f"expected an nn.LSTM, nn.GRU or nn.RNN module, got {type(module).__name__}")


def module_spec(module: Any) -> RNNSpec:
    """The RNNSpec of an RNN module (dropout kept for the record: it has no effect at inference)."""
    mode = module_mode(module)
    proj = int(getattr(module, "proj_size", 0) or 0)
    return RNNSpec(
        mode=mode,
        state_size=int(module.hidden_size),
        num_layers=int(module.num_layers),
        bidirectional=bool(module.bidirectional),
        p=float(module.dropout),
        state_outputs=True,
        projection_size=proj or None,
    )


def from_module(module: Any) -> TorchRNN:
    """Read an RNN module's spec and weights (copied out of torch, on the CPU, in the module's dtype)."""
    spec = module_spec(module)
    d = spec.directions
    directions = [_direction_weights(module, spec, layer, k) for layer in range(spec.num_layers) for k in range(d)]
    dtypes = {w.i2h_weight.dtype for w in directions}
    if len(dtypes) != 1 or next(iter(dtypes)).name not in _FLOAT_DTYPES:
        raise OnnxRnnError(
            f"{type(module).__name__} parameters must all be float16, float32 or float64, got {sorted(map(str, dtypes))}"
        )
    layers = [directions[layer * d : (layer + 1) * d] for layer in range(spec.num_layers)]
    return TorchRNN(spec, join_parameters(spec, layers), int(module.input_size), bool(module.batch_first))


def _direction_weights(module: Any, spec: RNNSpec, layer: int, direction: int) -> DirectionWeights:
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    i2h = _array(module, "weight_ih" + suffix)
    h2h = _array(module, "weight_hh" + suffix)
    if module.bias:
        i2h_bias, h2h_bias = _array(module, "bias_ih" + suffix), _array(module, "bias_hh" + suffix)
    else:
        i2h_bias = h2h_bias = np.zeros(spec.gates * spec.state_size, dtype=i2h.dtype)
    h2r = _array(module, "weight_hr" + suffix) if spec.projection_size else None
    return DirectionWeights(i2h, h2h, i2h_bias, h2h_bias, h2r)


def _array(module: Any, name: str) -> np.ndarray:
    tensor = getattr(module, name, None)
    if tensor is None:
        raise OnnxRnnError(f"{type(module).__name__} has no parameter {name!r}; expected PyTorch's RNN parameter names")
    return np.array(tensor.detach().cpu().numpy())  # a copy: the model must not alias the module's storage
