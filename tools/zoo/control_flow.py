"""MXNet control flow in exported models: ``F.contrib.foreach`` (a cell unrolled by ``_foreach``),
``F.contrib.while_loop`` (a decoder with a fixed trip count, and one that stops early) and
``F.contrib.cond``; hybridized Gluon blocks, exported. MXNet 1.9.1 venv (or the GluonNLP one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from mxnet import gluon
from mxnet.gluon import nn, rnn

from .common_gluon import export_block, seed

FAMILY = "control flow"


class ForeachLSTM(gluon.HybridBlock):
    """An LSTMCell run over time by ``foreach`` (TNC), then Dense; outputs and final states."""

    def __init__(self) -> None:
        super().__init__()
        with self.name_scope():
            self.cell = rnn.LSTMCell(8)
            self.head = nn.Dense(4, flatten=False)

    def hybrid_forward(self, F: Any, data: Any, h: Any, c: Any) -> Any:
        outputs, states = F.contrib.foreach(lambda x, s: self.cell(x, s), data, [h, c])
        return [self.head(outputs), *states]


class ForeachZeroState(gluon.HybridBlock):
    """A GRUCell by ``foreach`` from Gluon's zero begin state (``_zeros`` with MXNet's 0 = inferred batch)."""

    def __init__(self) -> None:
        super().__init__()
        with self.name_scope():
            self.cell = rnn.GRUCell(8, input_size=6)

    def hybrid_forward(self, F: Any, data: Any) -> Any:
        begin = self.cell.begin_state(batch_size=0, func=F.zeros)
        outputs, states = F.contrib.foreach(lambda x, s: self.cell(x, s), data, begin)
        return [outputs, *states]


class ForeachTwoInputs(gluon.HybridBlock):
    """``foreach`` over two sequences with a GRUCell and a running sum as states."""

    def __init__(self) -> None:
        super().__init__()
        with self.name_scope():
            self.cell = rnn.GRUCell(6)

    def hybrid_forward(self, F: Any, a: Any, b: Any, h: Any, total: Any) -> Any:
        def step(xs: Any, states: Any) -> Any:
            x, y = xs
            out, (new_h,) = self.cell(x * y + x, [states[0]])
            return [out, F.tanh(out)], [new_h, states[1] + F.sum(out, axis=-1, keepdims=True)]

        (outs, squashed), states = F.contrib.foreach(step, [a, b], [h, total])
        return [outs, squashed, *states]


class WhileDecoder(gluon.HybridBlock):
    """A greedy-style decoder: ``while_loop`` with a step counter, a fixed trip count (``steps``) or fewer
    steps than ``max_iterations`` (MXNet leaves the rest of the stacked output uninitialised: the block keeps
    the rows of the steps taken)."""

    def __init__(self, steps: int, max_iterations: int) -> None:
        super().__init__()
        self.steps, self.max_iterations = steps, max_iterations
        with self.name_scope():
            self.cell = rnn.GRUCell(8, input_size=8)
            self.head = nn.Dense(8, in_units=8)

    def hybrid_forward(self, F: Any, h: Any, counter: Any) -> Any:
        def cond(i: Any, state: Any) -> Any:
            return i < self.steps

        def func(i: Any, state: Any) -> Any:
            out, (new_state,) = self.cell(F.tanh(self.head(state)), [state])
            return out, [i + 1, new_state]

        outputs, (count, last) = F.contrib.while_loop(cond, func, [counter, h], max_iterations=self.max_iterations)
        if self.steps < self.max_iterations:  # MXNet leaves the rows past the last step uninitialised
            outputs = F.slice_axis(outputs, axis=0, begin=0, end=self.steps)
        return [outputs, count, last]


class ForeachFreeVariable(gluon.HybridBlock):
    """``foreach`` whose body reads a tensor computed outside it (a Dense of the first step): a free variable
    of the body. (With a ``cond`` inside the body MXNet 1.9.1's own shape inference fails on hybridize.)"""

    def __init__(self) -> None:
        super().__init__()
        with self.name_scope():
            self.dense = nn.Dense(4, in_units=4)

    def hybrid_forward(self, F: Any, data: Any, state: Any) -> Any:
        bias = F.tanh(self.dense(F.squeeze(F.slice_axis(data, axis=0, begin=0, end=1), axis=0)))

        def step(x: Any, states: Any) -> Any:
            s = states[0]
            new = F.tanh(s * 0.5 + x * bias)
            return new, [new]

        outputs, (last,) = F.contrib.foreach(step, data, [state])
        return [outputs, last]


class CondBlock(gluon.HybridBlock):
    """``cond`` on the sign of the input's mean: Dense + tanh in one branch, a scaled copy in the other."""

    def __init__(self) -> None:
        super().__init__()
        with self.name_scope():
            self.dense = nn.Dense(5, in_units=4)

    def hybrid_forward(self, F: Any, x: Any) -> Any:
        return F.contrib.cond(
            F.mean(x) > 0,
            lambda: F.tanh(self.dense(x)),
            lambda: self.dense(x * -2.0) + 1.0,
        )


def build(out_dir: Path) -> list[str]:
    names = []
    rng = seed(31)
    block: Any = ForeachLSTM()
    block.initialize()
    data = rng.standard_normal((5, 3, 6)).astype(np.float32)
    h, c = (rng.standard_normal((3, 8)).astype(np.float32) * 0.5 for _ in range(2))
    names.append(
        export_block(
            out_dir,
            "foreach_lstm",
            block,
            [data, h, c],
            family=FAMILY,
            what="LSTMCell(8) unrolled by F.contrib.foreach over TNC data, Dense(4); outputs and final h, c",
        )
    )
    rng = seed(35)
    block = ForeachZeroState()
    block.initialize()
    names.append(
        export_block(
            out_dir,
            "foreach_zero_state",
            block,
            [rng.standard_normal((4, 3, 6)).astype(np.float32)],
            family=FAMILY,
            what="GRUCell(8) by foreach from the cell's zero begin state (batch inferred from the data)",
        )
    )
    rng = seed(32)
    block = ForeachTwoInputs()
    block.initialize()
    a, b = (rng.standard_normal((4, 2, 5)).astype(np.float32) for _ in range(2))
    h = rng.standard_normal((2, 6)).astype(np.float32)
    total = np.zeros((2, 1), np.float32)
    names.append(
        export_block(
            out_dir,
            "foreach_two_inputs",
            block,
            [a, b, h, total],
            family=FAMILY,
            what="foreach over two sequences, two stacked outputs, GRUCell state and a running sum",
        )
    )
    for name, steps, max_iterations in (("while_decoder", 4, 4), ("while_early_stop", 3, 6)):
        rng = seed(33 + steps)
        block = WhileDecoder(steps, max_iterations)
        block.initialize()
        h = rng.standard_normal((2, 8)).astype(np.float32)
        counter = np.zeros((1,), np.float32)
        names.append(
            export_block(
                out_dir,
                name,
                block,
                [h, counter],
                family=FAMILY,
                args=["--input-shape", "data1=1"],  # the step counter: only scalar ops read it
                what=f"while_loop GRUCell decoder: {steps} steps, max_iterations={max_iterations}",
            )
        )
    rng = seed(41)
    block = ForeachFreeVariable()
    block.initialize()
    data = rng.standard_normal((6, 2, 4)).astype(np.float32)
    names.append(
        export_block(
            out_dir,
            "foreach_free_variable",
            block,
            [data, rng.standard_normal((2, 4)).astype(np.float32)],
            family=FAMILY,
            what="foreach whose body reads a tensor computed outside it (tanh of a Dense of the first step)",
        )
    )
    for name, sign in (("cond_then", 1.0), ("cond_else", -1.0)):
        rng = seed(40)
        block = CondBlock()
        block.initialize()
        x = (np.abs(rng.standard_normal((3, 4))) * sign).astype(np.float32)
        names.append(
            export_block(out_dir, name, block, [x], family=FAMILY, what=f"F.contrib.cond, the {name[5:]} branch taken")
        )
    return names
