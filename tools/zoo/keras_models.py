"""keras-mxnet 2.2.4.3 recurrent models saved as MXNet checkpoints with ``keras.models.save_mxnet_model``.

Needs its own venv (Python 3.9: keras 2.2.4 imports ``collections.Iterable``): ``tools/zoo_env_examples.sh
keras``, then ``.venv-zoo-keras/bin/python tools/make_zoo.py keras_models``.

``save_mxnet_model`` writes the model's prediction symbol (``model._pred_mxnet_symbol``) and its module's
parameters. keras-mxnet unrolls an RNN layer over its fixed input length (``unroll=True``: ``split`` along
time, the cell's step as FullyConnected/elementwise ops, ``concat``); with ``unroll=False`` it writes MXNet's
``_foreach`` control-flow op instead. Input names are keras-mxnet's (``/lstm_1_input1``).

Not here because keras-mxnet 2.2.4.3 cannot run them on MXNet 1.9.1 (``predict`` fails binding the symbol
with a ``dot`` shape error): stacked recurrent layers (an RNN layer fed by another one) and ``Bidirectional``.
Nor the default ``unroll=False`` layers: on MXNet 1.9.1 their ``_foreach`` models predict the same output for
every input (keras-mxnet's own ``predict``), so they would test nothing (they do convert and match once the
control-flow translations are in).
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "mxnet")

import keras
import mxnet as mx
import numpy as np
from keras import layers

from .common import model_dir, write_entry

FAMILY = "keras-mxnet"
SOURCE = f"keras-mxnet {keras.__version__} predict() on mxnet {mx.__version__} (random weights)"
STEPS, FEATURES, BATCH = 5, 4, 3


def _save(model: keras.models.Model, name: str, out_dir: Path, what: str, seed: int) -> str:
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(seed)
    for layer in model.layers:  # random weights, reproducible from the seed
        layer.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in layer.get_weights()])
    x = rng.normal(0, 1, (BATCH, STEPS, FEATURES)).astype(np.float32)
    expected = model.predict(x, batch_size=BATCH)
    folder = model_dir(out_dir, name)
    data_names, _ = keras.models.save_mxnet_model(model, str(folder / name), 0)
    assert len(data_names) == 1, data_names
    write_entry(folder, name, {data_names[0]: x}, [expected], FAMILY, what, source=SOURCE)
    return name


def keras_lstm(out_dir: Path) -> str:
    model = keras.models.Sequential(
        [layers.LSTM(8, unroll=True, input_shape=(STEPS, FEATURES)), layers.Dense(3, activation="softmax")]
    )
    what = "keras Sequential: LSTM(8) (unroll=True, 5 steps; the last output) -> Dense(3, softmax)"
    return _save(model, "keras_lstm", out_dir, what, 30)


def keras_gru(out_dir: Path) -> str:
    model = keras.models.Sequential(
        [layers.GRU(8, return_sequences=True, unroll=True, input_shape=(STEPS, FEATURES)), layers.Dense(2)]
    )
    what = (
        "keras Sequential: GRU(8, return_sequences) (Keras 2.2's GRU: reset gate before the recurrent product; "
        "unroll=True) -> Dense(2) on the 3-D sequence"
    )
    return _save(model, "keras_gru", out_dir, what, 31)


def keras_simple_rnn(out_dir: Path) -> str:
    model = keras.models.Sequential(
        [
            layers.SimpleRNN(8, return_sequences=True, unroll=True, input_shape=(STEPS, FEATURES)),
            layers.TimeDistributed(layers.Dense(3)),
        ]
    )
    what = "keras Sequential: SimpleRNN(8, return_sequences, tanh, unroll=True) -> TimeDistributed(Dense(3))"
    return _save(model, "keras_simple_rnn", out_dir, what, 32)


def build(out_dir: Path) -> list[str]:
    return [make(out_dir) for make in (keras_lstm, keras_gru, keras_simple_rnn)]
