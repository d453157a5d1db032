"""One-step Gluon cells: ``LSTMCell``, ``GRUCell``, ``RNNCell`` and contrib ``LSTMPCell`` called once with
explicit states (a decoder step), hybridized and exported. MXNet 1.9.1 venv (or the GluonNLP one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from mxnet import gluon
from mxnet.gluon import rnn
from mxnet.gluon.contrib.rnn import LSTMPCell

from .common_gluon import export_block, seed

FAMILY = "one-step cells"


class OneStep(gluon.HybridBlock):
    """``cell(x, states)`` once: the step's output and the new states."""

    def __init__(self, cell: Any, head: int | None = None) -> None:
        super().__init__()
        with self.name_scope():
            self.cell = cell
            self.head = gluon.nn.Dense(head, flatten=False) if head else None

    def hybrid_forward(self, F: Any, x: Any, *states: Any) -> Any:
        out, new_states = self.cell(x, list(states))
        if self.head is not None:
            out = F.log_softmax(self.head(out), axis=-1)
        return [out, *new_states]


def _one(
    out_dir: Path, name: str, cell: Any, state_shapes: list[tuple[int, ...]], what: str, head: int | None = None
) -> str:
    rng = seed(len(name))
    block = OneStep(cell, head)
    block.initialize()
    batch, width = 3, 6
    x = rng.standard_normal((batch, width)).astype(np.float32)
    states = [rng.standard_normal(s).astype(np.float32) * 0.5 for s in state_shapes]
    return export_block(out_dir, name, block, [x, *states], family=FAMILY, what=what)


def build(out_dir: Path) -> list[str]:
    return [
        _one(out_dir, "lstm_cell_step", rnn.LSTMCell(8), [(3, 8), (3, 8)], "LSTMCell(8) once with explicit h, c"),
        _one(
            out_dir,
            "gru_cell_step",
            rnn.GRUCell(8),
            [(3, 8)],
            "GRUCell(8) once with explicit h, Dense + log_softmax",
            5,
        ),
        _one(out_dir, "rnn_cell_step", rnn.RNNCell(8, activation="relu"), [(3, 8)], "RNNCell(8, relu) once"),
        _one(out_dir, "lstmp_cell_step", LSTMPCell(8, 4), [(3, 4), (3, 8)], "contrib LSTMPCell(8, projection 4) once"),
        _one(
            out_dir,
            "stacked_cell_step",
            _stack(),
            [(3, 8), (3, 8), (3, 8)],
            "HybridSequentialRNNCell(LSTMCell(8), ResidualCell(GRUCell(8))) once, Dense + log_softmax",
            5,
        ),
    ]


def _stack() -> Any:
    stack = rnn.HybridSequentialRNNCell()
    with stack.name_scope():
        stack.add(rnn.LSTMCell(8))
        stack.add(rnn.ResidualCell(rnn.GRUCell(8)))
    return stack
