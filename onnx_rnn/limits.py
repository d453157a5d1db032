"""Every limit onnx-rnn puts on what it reads and builds, in one place (docs/limits.md explains them).

Model files and checkpoints are untrusted input: a few hundred bytes of symbol JSON can ask for gigabytes
(``_zeros(16384, 17408)``), a billion layers or a path such as ``/dev/zero``. Each limit below is far above any
real model and turns such input into one clear :class:`OnnxRnnError` naming the limit and the value. For
trusted input a limit is raised with its environment variable (read at each check, so it also works from
Python: ``os.environ["ONNX_RNN_MAX_LAYERS"] = "5000"``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import OnnxRnnError


@dataclass(frozen=True)
class Limit:
    """One limit: its environment variable, default and what it bounds (for the error message)."""

    env: str
    default: int
    what: str


#: The largest file read into memory whole (a .params checkpoint, a symbol JSON, an attributes JSON).
FILE_BYTES = Limit("ONNX_RNN_MAX_FILE_BYTES", 16 << 30, "largest file read")
#: The largest constant the converter computes itself (creation ops, constant folding of Concat, tile,
#: broadcasts, ...); weights read from a .params file are bounded by FILE_BYTES instead.
CONSTANT_BYTES = Limit("ONNX_RNN_MAX_CONSTANT_BYTES", 1 << 30, "largest constant the converter materializes")
#: Constants above this size from creation ops (_zeros, _ones, _full) are written as ConstantOfShape nodes
#: (built at run time) rather than initializers: the model stays small. Not an error, a threshold.
INLINE_FILL_BYTES = Limit("ONNX_RNN_INLINE_FILL_BYTES", 1 << 20, "largest creation-op constant kept inline")
#: num_layers of one RNN operator.
LAYERS = Limit("ONNX_RNN_MAX_LAYERS", 1000, "largest number of RNN layers")
#: state_size (and projection_size) of one RNN operator.
STATE_SIZE = Limit("ONNX_RNN_MAX_STATE_SIZE", 1 << 16, "largest RNN state size")
#: Nesting depth of a JSON file (a symbol or --attrs); MXNet's files nest 5 deep.
JSON_DEPTH = Limit("ONNX_RNN_MAX_JSON_DEPTH", 100, "deepest JSON nesting")
#: Nodes of one MXNet symbol (each one is translated; real models have thousands).
GRAPH_NODES = Limit("ONNX_RNN_MAX_GRAPH_NODES", 1_000_000, "largest number of symbol nodes")

ALL = (FILE_BYTES, CONSTANT_BYTES, INLINE_FILL_BYTES, LAYERS, STATE_SIZE, JSON_DEPTH, GRAPH_NODES)


def value(limit: Limit) -> int:
    """The limit in force: its environment variable when set (a positive integer), else the default."""
    text = os.environ.get(limit.env)
    if text is None or not text.strip():
        return limit.default
    try:
        number = int(text.strip().replace("_", ""))
    except ValueError:
        number = 0
    if number < 1:
        raise OnnxRnnError(f"{limit.env}={text!r}; expected a positive integer ({limit.what})")
    return number


def check(limit: Limit, amount: int, subject: str) -> None:
    """Raise OnnxRnnError when ``amount`` exceeds ``limit``; ``subject`` names the input and what it is."""
    bound = value(limit)
    if amount > bound:
        raise OnnxRnnError(
            f"{subject} is {show(amount)}, above the {limit.what} ({bound}); expected a real model's size "
            f"(for trusted input, raise the limit with {limit.env}=N)"
        )


def show(number: object) -> str:
    """``repr`` for messages, safe for integers too long to print (``0xfff...`` literals parse to any size)."""
    if isinstance(number, int) and not isinstance(number, bool) and number.bit_length() > 64:
        return f"{'a negative' if number < 0 else 'an'} integer of {number.bit_length()} bits"
    return repr(number)
