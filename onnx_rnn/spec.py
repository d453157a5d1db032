"""RNNSpec: MXNet ``RNN`` operator arguments, validated once, with the sizes derived from them.

Everything downstream (parameter splitting, the reference, graph emission) takes an RNNSpec, so argument
checking lives here and nowhere else.
"""

from __future__ import annotations

import ast
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import limits
from .errors import OnnxRnnError

MODES = ("lstm", "gru", "rnn_tanh", "rnn_relu")
GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


@dataclass(frozen=True)
class RNNSpec:
    """The MXNet ``RNN`` operator's arguments (names as in MXNet)."""

    mode: str
    state_size: int
    num_layers: int = 1
    bidirectional: bool = False
    p: float = 0.0
    state_outputs: bool = False
    projection_size: int | None = None
    lstm_state_clip_min: float | None = None
    lstm_state_clip_max: float | None = None
    lstm_state_clip_nan: bool = False
    use_sequence_length: bool = False

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def gates(self) -> int:
        """G: gate blocks per weight matrix (4 LSTM, 3 GRU, 1 vanilla)."""
        return GATES[self.mode]

    @property
    def directions(self) -> int:
        """D: 2 when bidirectional, else 1."""
        return 2 if self.bidirectional else 1

    @property
    def output_size(self) -> int:
        """R: the width of h (the projection size when projecting, else the state size)."""
        return self.projection_size if self.projection_size else self.state_size

    @property
    def clips(self) -> bool:
        return self.lstm_state_clip_min is not None

    @property
    def needs_custom_lstm(self) -> bool:
        """True where standard ONNX LSTM is not exact: projection or MXNet's cell-state clipping."""
        return self.mode == "lstm" and (self.projection_size is not None or self.clips)

    def layer_input_size(self, layer: int, input_size: int) -> int:
        """Input width of ``layer``: I for the first layer, D*R after."""
        return input_size if layer == 0 else self.directions * self.output_size

    def direction_param_count(self, in_size: int) -> int:
        """Number of parameters of one layer direction with input width ``in_size``."""
        gh = self.gates * self.state_size
        count = gh * in_size + gh * self.output_size + 2 * gh
        if self.projection_size:
            count += self.projection_size * self.state_size
        return count

    def param_count(self, input_size: int) -> int:
        """Length of MXNet's flat parameter vector for input width ``input_size``."""
        return sum(
            self.directions * self.direction_param_count(self.layer_input_size(layer, input_size))
            for layer in range(self.num_layers)
        )

    def input_size_from_count(self, count: int) -> int:
        """Solve param_count(I) == count for I; the vector's length is how MXNet encodes I."""
        fixed = self.param_count(0)
        per_input = self.directions * self.gates * self.state_size
        size, rest = divmod(count - fixed, per_input)
        if count <= fixed or rest:
            raise OnnxRnnError(
                f"parameter vector of length {count} fits no input size for {self.describe()}: "
                f"expected {fixed} + {per_input} * I elements for some integer I >= 1"
            )
        return size

    def describe(self) -> str:
        """A short human description used in error messages."""
        parts = [f"mode={self.mode}", f"state_size={self.state_size}", f"num_layers={self.num_layers}"]
        if self.bidirectional:
            parts.append("bidirectional")
        if self.projection_size:
            parts.append(f"projection_size={self.projection_size}")
        return "RNN(" + ", ".join(parts) + ")"

    @classmethod
    def from_mxnet_attrs(cls, attrs: Mapping[str, Any]) -> RNNSpec:
        """Build a spec from the attribute dictionary as MXNet's symbol JSON writes it (all strings)."""
        known = {
            "mode",
            "state_size",
            "num_layers",
            "bidirectional",
            "p",
            "state_outputs",
            "projection_size",
            "lstm_state_clip_min",
            "lstm_state_clip_max",
            "lstm_state_clip_nan",
            "use_sequence_length",
        }
        unknown = sorted(
            k
            for k in attrs
            if k not in known and not k.startswith("__") and k != "cudnn_algo_verbose" and k != "cudnn_algo"
        )
        if unknown:
            raise OnnxRnnError(f"unknown RNN attribute(s) {unknown}; expected some of {sorted(known)}")
        if "mode" not in attrs or "state_size" not in attrs:
            raise OnnxRnnError("RNN attributes need 'mode' and 'state_size'")
        values = {key: parse_mxnet_value(attrs[key], key) for key in known if key in attrs}
        return cls(**values)


def python_literal(text: str) -> Any:
    """``ast.literal_eval`` without its SyntaxWarnings: text such as "0x1fand" makes Python warn on stderr
    before it raises, which would add a line to the CLI's one-line error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        return ast.literal_eval(text)


def parse_mxnet_value(value: Any, key: str = "value") -> Any:
    """Parse one MXNet attribute string ("True", "None", "0.5", "(4, 0, 8)", "lstm") into a Python value."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text in ("True", "true"):
        return True
    if text in ("False", "false"):
        return False
    if text in ("None", "none", ""):
        return None
    try:
        return python_literal(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):  # e.g. "{[]}", "((((...))))"
        if key == "mode" or text.replace("_", "").isalnum():
            return text
        raise OnnxRnnError(f"cannot parse attribute {key}={value!r}") from None


def _require_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise OnnxRnnError(f"{name} must be an integer >= {minimum}, got {limits.show(value)}")


def _validate(spec: RNNSpec) -> None:
    if spec.mode not in MODES:
        raise OnnxRnnError(f"unknown mode {limits.show(spec.mode)}; expected one of {', '.join(MODES)}")
    _require_int("state_size", spec.state_size, 1)
    _require_int("num_layers", spec.num_layers, 1)
    limits.check(limits.LAYERS, spec.num_layers, "num_layers")
    limits.check(limits.STATE_SIZE, spec.state_size, "state_size")
    for flag in ("bidirectional", "state_outputs", "lstm_state_clip_nan", "use_sequence_length"):
        value = getattr(spec, flag)
        if not isinstance(value, (bool, np.bool_)):
            raise OnnxRnnError(f"{flag} must be True or False, got {limits.show(value)}")
    if isinstance(spec.p, bool) or not isinstance(spec.p, (int, float)) or not 0.0 <= spec.p < 1.0:
        raise OnnxRnnError(f"p (dropout) must be in [0, 1), got {limits.show(spec.p)}")
    if spec.projection_size is not None:
        if spec.mode != "lstm":
            raise OnnxRnnError(f"projection_size is only valid for mode lstm, got mode {limits.show(spec.mode)}")
        _require_int("projection_size", spec.projection_size, 1)
        if spec.projection_size >= spec.state_size:
            raise OnnxRnnError(
                f"projection_size must be smaller than state_size ({spec.state_size}), got {limits.show(spec.projection_size)}"
            )
    _validate_clip(spec)


def _validate_clip(spec: RNNSpec) -> None:
    lo, hi = spec.lstm_state_clip_min, spec.lstm_state_clip_max
    if lo is None and hi is None:
        return
    if spec.mode != "lstm":
        raise OnnxRnnError(f"lstm_state_clip_min/max are only valid for mode lstm, got mode {limits.show(spec.mode)}")
    if lo is None or hi is None:
        raise OnnxRnnError("lstm_state_clip_min and lstm_state_clip_max must be given together")
    for name, value in (("lstm_state_clip_min", lo), ("lstm_state_clip_max", hi)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (isinstance(value, float) and math.isnan(value))
        ):
            raise OnnxRnnError(f"{name} must be a number, got {limits.show(value)}")
        if isinstance(value, int) and not -(2**1023) < value < 2**1023:
            raise OnnxRnnError(f"{name} must be a number within float64's range, got {limits.show(value)}")
    if lo > hi:
        raise OnnxRnnError(
            f"lstm_state_clip_min ({limits.show(lo)}) must not exceed lstm_state_clip_max ({limits.show(hi)})"
        )
