"""Gluon RNN layers exported in numpy mode (``mx.npx.set_np()``): the symbol uses the ``_np_*``/``_npi_*``
aliases. An LSTM language model, a bidirectional NTC GRU tagger and a ReLU RNN with explicit state.
MXNet 1.9.1 venv (or the GluonNLP one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mxnet as mx
import numpy as np
from mxnet import gluon
from mxnet.gluon import nn, rnn

from .common_gluon import export_block, seed

FAMILY = "numpy mode"


class NpLanguageModel(gluon.HybridBlock):
    def __init__(self) -> None:
        super().__init__()
        with self.name_scope():
            self.embed = nn.Embedding(30, 8)
            self.lstm = rnn.LSTM(12, num_layers=2, input_size=8)
            self.head = nn.Dense(30, flatten=False, in_units=12)

    def hybrid_forward(self, F: Any, tokens: Any, h: Any, c: Any) -> Any:
        out, (new_h, new_c) = self.lstm(self.embed(tokens), [h, c])
        return F.npx.log_softmax(self.head(out), axis=-1), new_h, new_c


class NpTagger(gluon.HybridBlock):
    def __init__(self) -> None:
        super().__init__()
        with self.name_scope():
            self.gru = rnn.GRU(10, bidirectional=True, layout="NTC", input_size=7)
            self.head = nn.Dense(4, flatten=False, in_units=20)

    def hybrid_forward(self, F: Any, x: Any, state: Any) -> Any:
        hidden, _ = self.gru(x, state)
        scores = self.head(F.np.tanh(hidden))
        return F.npx.softmax(scores, axis=-1), F.np.mean(hidden, axis=1)


class NpReluRnn(gluon.HybridBlock):
    def __init__(self) -> None:
        super().__init__()
        with self.name_scope():
            self.rnn = rnn.RNN(9, num_layers=2, activation="relu", input_size=5)

    def hybrid_forward(self, F: Any, x: Any, state: Any) -> Any:
        out, new_state = self.rnn(x, state)
        flat = F.np.reshape(out, (-1, 9))
        return flat * 0.5 + 1.0, new_state[0]


def build(out_dir: Path) -> list[str]:
    mx.npx.set_np()
    try:
        names = []
        rng = seed(50)
        block: Any = NpLanguageModel()
        block.initialize()
        tokens = rng.integers(0, 30, size=(6, 2)).astype(np.float32)
        h, c = (rng.standard_normal((2, 2, 12)).astype(np.float32) * 0.5 for _ in range(2))
        names.append(
            export_block(
                out_dir,
                "np_lstm_lm",
                block,
                [tokens, h, c],
                family=FAMILY,
                what="npx.set_np(): Embedding(30, 8), 2-layer LSTM(12) with explicit states, Dense(30), npx.log_softmax; TNC",
                np_mode=True,
            )
        )
        rng = seed(51)
        block = NpTagger()
        block.initialize()
        x = rng.standard_normal((2, 5, 7)).astype(np.float32)
        state = rng.standard_normal((2, 2, 10)).astype(np.float32) * 0.5
        names.append(
            export_block(
                out_dir,
                "np_bigru_tagger",
                block,
                [x, state],
                family=FAMILY,
                what="npx.set_np(): bidirectional GRU(10) NTC, tanh, Dense(4), npx.softmax; and np.mean over time",
                np_mode=True,
            )
        )
        rng = seed(52)
        block = NpReluRnn()
        block.initialize()
        x = rng.standard_normal((4, 3, 5)).astype(np.float32)
        state = rng.standard_normal((2, 3, 9)).astype(np.float32)
        names.append(
            export_block(
                out_dir,
                "np_relu_rnn",
                block,
                [x, state],
                family=FAMILY,
                what="npx.set_np(): 2-layer ReLU RNN(9) with explicit state, np.reshape, scalar ops",
                np_mode=True,
            )
        )
        return names
    finally:
        mx.npx.reset_np()
