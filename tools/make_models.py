#!/usr/bin/env python
"""Build small real MXNet models with Gluon (and one with the Module API), export them as checkpoints and
record a sample input with its expected output: the fixtures in models/.

Run with MXNet 1.9.1 (its own venv: ``pip install "numpy<1.24" mxnet==1.9.1``):

    /path/to/mxnet-venv/bin/python tools/make_models.py [--out models]

Each model NAME gets ``NAME-symbol.json``, ``NAME-0000.params`` and ``NAME-io.npz``; the npz holds the inputs
under their MXNet names, the expected outputs as ``output0``, ``output1``, ... in head order, and ``source``
(where the expected outputs come from).

Expected outputs come from MXNet's CPU forward pass, except where that operator is wrong: it ignores
``sequence_length`` and LSTM state clipping without projection, and refuses clipping with projection. For
those models the recurrent part comes from ``onnx_rnn.reference`` (loaded from this checkout; it needs only
NumPy) and the ops around it still run in MXNet.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
from pathlib import Path

import mxnet as mx
import numpy as np
from mxnet import gluon
from mxnet.gluon import nn, rnn

ROOT = Path(__file__).resolve().parent.parent


def load_reference():
    """onnx_rnn.reference without running onnx_rnn/__init__.py (which imports onnx, absent here)."""
    if "onnx_rnn" not in sys.modules:
        package = types.ModuleType("onnx_rnn")
        package.__path__ = [str(ROOT / "onnx_rnn")]
        sys.modules["onnx_rnn"] = package
    from onnx_rnn import reference

    return reference


def flat_parameters(layer: rnn.LSTM | rnn.GRU | rnn.RNN) -> np.ndarray:
    """The operator's flat vector in the order Gluon's _forward_kernel concatenates it."""
    params = {name: p.data().asnumpy() for name, p in layer._reg_params.items()}  # noqa: SLF001
    gates = ["i2h", "h2h"] + (["h2r"] if layer._projection_size else [])  # noqa: SLF001
    parts = []
    for kind in ("weight", "bias"):
        for layer_index in range(layer._num_layers):  # noqa: SLF001
            for direction in ["l", "r"][: layer._dir]:  # noqa: SLF001
                for gate in gates:
                    if gate == "h2r" and kind == "bias":
                        continue
                    parts.append(params[f"{direction}{layer_index}_{gate}_{kind}"].reshape(-1))
    return np.concatenate(parts)


def reference_rnn(layer, data_tnc: np.ndarray, sequence_length: np.ndarray | None = None):
    ref = load_reference()
    out, _hy, _cy = ref.rnn(
        data_tnc,
        flat_parameters(layer),
        mode=layer._mode,  # noqa: SLF001
        state_size=layer._hidden_size,  # noqa: SLF001
        num_layers=layer._num_layers,  # noqa: SLF001
        bidirectional=layer._dir == 2,  # noqa: SLF001
        projection_size=layer._projection_size,  # noqa: SLF001
        lstm_state_clip_min=layer._lstm_state_clip_min,  # noqa: SLF001
        lstm_state_clip_max=layer._lstm_state_clip_max,  # noqa: SLF001
        lstm_state_clip_nan=layer._lstm_state_clip_nan,  # noqa: SLF001
        sequence_length=sequence_length,
    )
    return out.astype(np.float32)


def input_names(prefix: Path) -> list[str]:
    symbol = json.loads(Path(f"{prefix}-symbol.json").read_text())
    params = {k.split(":", 1)[-1] for k in mx.nd.load(f"{prefix}-0000.params")}
    names = [symbol["nodes"][i]["name"] for i in symbol["arg_nodes"]]
    return [n for n in names if n not in params and not n.endswith("_parameters")]  # fused: stored unpacked


def save_io(prefix: Path, inputs: dict[str, np.ndarray], outputs: list[np.ndarray], source: str) -> None:
    names = [n for n in input_names(prefix) if not n.endswith("_label")]  # labels: unused at inference
    if sorted(names) != sorted(inputs):
        raise SystemExit(f"{prefix}: symbol inputs {names} differ from the sample's {sorted(inputs)}")
    arrays = dict(inputs)
    arrays.update({f"output{i}": np.asarray(o) for i, o in enumerate(outputs)})
    np.savez_compressed(f"{prefix}-io.npz", source=np.array(source), **arrays)


MXNET_SOURCE = f"mxnet {mx.__version__} CPU forward pass"


# ---------------------------------------------------------------- Gluon models


class CharLSTM(gluon.HybridBlock):
    """Character-level language model: Embedding -> 2-layer LSTM -> Dense -> log_softmax (TNC)."""

    def __init__(self, vocab=40, embed=16, hidden=32, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.embedding = nn.Embedding(vocab, embed)
            self.drop = nn.Dropout(0.2)
            self.lstm = rnn.LSTM(hidden, num_layers=2, dropout=0.2, input_size=embed)
            self.decoder = nn.Dense(vocab, flatten=False, in_units=hidden)

    def hybrid_forward(self, F, tokens):
        out = self.lstm(self.drop(self.embedding(tokens)))
        return F.log_softmax(self.decoder(out), axis=-1)


class BiGRUTagger(gluon.HybridBlock):
    """Sequence tagger: Embedding -> 2-layer bidirectional GRU (NTC) -> Dense -> softmax."""

    def __init__(self, vocab=50, embed=16, hidden=24, tags=7, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.embedding = nn.Embedding(vocab, embed)
            self.gru = rnn.GRU(hidden, num_layers=2, bidirectional=True, layout="NTC", input_size=embed)
            self.out = nn.Dense(tags, flatten=False, in_units=2 * hidden)

    def hybrid_forward(self, F, tokens):
        return F.softmax(self.out(self.gru(self.embedding(tokens))), axis=-1)


class ReluRNN(gluon.HybridBlock):
    """Vanilla ReLU RNN with an explicit initial state; returns the output and the final state."""

    def __init__(self, hidden=20, features=10, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.rnn = rnn.RNN(hidden, num_layers=2, activation="relu", input_size=features)

    def hybrid_forward(self, F, x, state):
        out, new_state = self.rnn(x, [state])
        return out, new_state[0]


class SpeechLSTMP(gluon.HybridBlock):
    """Acoustic-model style: NTC features -> 2-layer bidirectional LSTM with projection -> Dense -> log_softmax."""

    def __init__(self, features=40, hidden=48, projection=24, classes=30, clip=None, bidirectional=True, **kwargs):
        super().__init__(**kwargs)
        clip_args = {}
        if clip is not None:
            clip_args = {"state_clip_min": clip[0], "state_clip_max": clip[1], "state_clip_nan": True}
        with self.name_scope():
            self.lstm = rnn.LSTM(
                hidden,
                num_layers=2,
                layout="NTC",
                bidirectional=bidirectional,
                projection_size=projection,
                input_size=features,
                **clip_args,
            )
            self.out = nn.Dense(classes, flatten=False, in_units=projection * (2 if bidirectional else 1))

    def hybrid_forward(self, F, x):
        return F.log_softmax(self.out(self.lstm(x)), axis=-1)


class BiLSTMSeqLen(gluon.HybridBlock):
    """Bidirectional LSTM over padded sequences with lengths; masked per-step output and the last valid step."""

    def __init__(self, features=8, hidden=12, classes=5, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.lstm = rnn.LSTM(hidden, bidirectional=True, use_sequence_length=True, input_size=features)
            self.out = nn.Dense(classes, flatten=False, in_units=2 * hidden)

    def hybrid_forward(self, F, x, length):
        seq = self.lstm(x, sequence_length=length)
        masked = F.SequenceMask(self.out(seq), sequence_length=length, use_sequence_length=True)
        last = F.SequenceLast(seq, sequence_length=length, use_sequence_length=True)
        return masked, last


class UnrolledCells(gluon.HybridBlock):
    """LSTMCell then GRUCell, unrolled over a fixed number of steps (NTC), then a Dense over the outputs."""

    def __init__(self, steps=5, features=6, hidden=10, classes=4, **kwargs):
        super().__init__(**kwargs)
        self.steps = steps
        with self.name_scope():
            self.cells = rnn.HybridSequentialRNNCell()
            self.cells.add(rnn.LSTMCell(hidden, input_size=features))
            self.cells.add(rnn.GRUCell(hidden, input_size=hidden))
            self.out = nn.Dense(classes, flatten=False, in_units=hidden)

    def hybrid_forward(self, F, x):
        outputs, states = self.cells.unroll(self.steps, x, layout="NTC", merge_outputs=True)
        return self.out(outputs), states[-1]


def export(net: gluon.HybridBlock, prefix: Path, *sample: mx.nd.NDArray, run: bool = True) -> None:
    net.hybridize()
    if run:
        net(*sample)
    else:  # build the graph without running MXNet's operator (it refuses clipping with projection)
        net._build_cache(*sample)  # noqa: SLF001
    net.export(str(prefix), epoch=0)


def make_char_lstm(out: Path) -> None:
    net = CharLSTM(prefix="charlm_")
    net.initialize(mx.init.Xavier())
    tokens = np.random.randint(0, 40, size=(12, 2)).astype(np.float32)
    export(net, out / "char_lstm", mx.nd.array(tokens))
    save_io(out / "char_lstm", {"data": tokens}, [net(mx.nd.array(tokens)).asnumpy()], MXNET_SOURCE)


def make_bigru_tagger(out: Path) -> None:
    net = BiGRUTagger(prefix="tagger_")
    net.initialize(mx.init.Xavier())
    tokens = np.random.randint(0, 50, size=(3, 9)).astype(np.float32)
    export(net, out / "bigru_tagger", mx.nd.array(tokens))
    save_io(out / "bigru_tagger", {"data": tokens}, [net(mx.nd.array(tokens)).asnumpy()], MXNET_SOURCE)


def make_relu_rnn(out: Path) -> None:
    net = ReluRNN(prefix="relurnn_")
    net.initialize(mx.init.Xavier())
    x = np.random.randn(6, 2, 10).astype(np.float32)
    state = (0.5 * np.random.randn(2, 2, 20)).astype(np.float32)
    export(net, out / "relu_rnn", mx.nd.array(x), mx.nd.array(state))
    outs = net(mx.nd.array(x), mx.nd.array(state))
    names = input_names(out / "relu_rnn")
    save_io(out / "relu_rnn", dict(zip(names, [x, state])), [o.asnumpy() for o in outs], MXNET_SOURCE)


def make_lstmp_speech(out: Path) -> None:
    net = SpeechLSTMP(prefix="am_")
    net.initialize(mx.init.Xavier())
    x = np.random.randn(2, 15, 40).astype(np.float32)
    export(net, out / "lstmp_speech", mx.nd.array(x))
    save_io(out / "lstmp_speech", {"data": x}, [net(mx.nd.array(x)).asnumpy()], MXNET_SOURCE)


def make_lstmp_clip(out: Path) -> None:
    net = SpeechLSTMP(
        features=20, hidden=32, projection=16, classes=12, clip=(-0.4, 0.6), bidirectional=False, prefix="amclip_"
    )
    net.initialize(mx.init.Xavier(magnitude=4.0))  # large weights so the clip is active
    x = (2.0 * np.random.randn(2, 10, 20)).astype(np.float32)
    export(net, out / "lstmp_clip", mx.nd.array(x), run=False)
    rnn_out = reference_rnn(net.lstm, x.transpose(1, 0, 2)).transpose(1, 0, 2)  # NTC
    unclipped = SpeechLSTMP(features=20, hidden=32, projection=16, classes=12, bidirectional=False, prefix="amclip_")
    unclipped.initialize()
    for name, param in net.collect_params().items():
        unclipped.collect_params()[name].set_data(param.data())
    mxnet_out = unclipped.lstm(mx.nd.array(x)).asnumpy()
    print(
        f"  lstmp_clip: the same LSTM without clipping (all MXNet's CPU op can run) differs by up to "
        f"{np.abs(mxnet_out - rnn_out).max():.3f}"
    )
    expected = mx.nd.log_softmax(net.out(mx.nd.array(rnn_out)), axis=-1).asnumpy()
    save_io(
        out / "lstmp_clip",
        {"data": x},
        [expected],
        "onnx_rnn.reference for the LSTM (MXNet's CPU op refuses clipping with projection), "
        f"Dense and log_softmax from mxnet {mx.__version__}",
    )


def make_bilstm_seqlen(out: Path) -> None:
    net = BiLSTMSeqLen(prefix="seqlen_")
    net.initialize(mx.init.Xavier())
    x = np.random.randn(7, 3, 8).astype(np.float32)
    length = np.array([7, 4, 1], dtype=np.float32)
    export(net, out / "bilstm_seqlen", mx.nd.array(x), mx.nd.array(length))
    seq = mx.nd.array(reference_rnn(net.lstm, x, length.astype(np.int32)))
    mxnet_seq = net.lstm(mx.nd.array(x), sequence_length=mx.nd.array(length)).asnumpy()
    print(
        f"  bilstm_seqlen: MXNet's CPU LSTM output differs from the reference by up to "
        f"{np.abs(mxnet_seq - seq.asnumpy()).max():.3f} (it ignores sequence_length)"
    )
    lens = mx.nd.array(length)
    masked = mx.nd.SequenceMask(net.out(seq), sequence_length=lens, use_sequence_length=True).asnumpy()
    last = mx.nd.SequenceLast(seq, sequence_length=lens, use_sequence_length=True).asnumpy()
    names = input_names(out / "bilstm_seqlen")
    save_io(
        out / "bilstm_seqlen",
        dict(zip(names, [x, length])),
        [masked, last],
        "onnx_rnn.reference for the LSTM (MXNet's CPU op ignores sequence_length), "
        f"Dense, SequenceMask and SequenceLast from mxnet {mx.__version__}",
    )


def make_unrolled_cells(out: Path) -> None:
    net = UnrolledCells(prefix="cells_")
    net.initialize(mx.init.Xavier())
    x = np.random.randn(3, 5, 6).astype(np.float32)
    export(net, out / "unrolled_cells", mx.nd.array(x))
    outs = net(mx.nd.array(x))
    save_io(out / "unrolled_cells", {"data": x}, [o.asnumpy() for o in outs], MXNET_SOURCE)


# ---------------------------------------------------------------- Module API


def make_module_lstm(out: Path) -> None:
    """A Module-API symbol: explicit state inputs, state_outputs, Reshape(-3), FullyConnected, SoftmaxOutput."""
    T, N, C, H, L, K = 8, 2, 12, 16, 2, 10
    data, state, cell = mx.sym.var("data"), mx.sym.var("state"), mx.sym.var("state_cell")
    params = mx.sym.var("lstm_parameters")
    lstm = mx.sym.RNN(
        data, params, state, cell, state_size=H, num_layers=L, mode="lstm", state_outputs=True, name="lstm"
    )
    flat = mx.sym.Reshape(lstm[0], shape=(-3, 0), name="merge_time_batch")
    fc = mx.sym.FullyConnected(flat, num_hidden=K, name="fc")
    prob = mx.sym.SoftmaxOutput(fc, mx.sym.var("softmax_label"), name="softmax")
    group = mx.sym.Group([prob, mx.sym.BlockGrad(lstm[1], name="hy"), mx.sym.BlockGrad(lstm[2], name="cy")])
    module = mx.mod.Module(
        group, data_names=["data", "state", "state_cell"], label_names=["softmax_label"], context=mx.cpu()
    )
    desc = mx.io.DataDesc
    module.bind(
        data_shapes=[
            desc("data", (T, N, C), layout="TNC"),
            desc("state", (L, N, H), layout="LNC"),
            desc("state_cell", (L, N, H), layout="LNC"),
        ],
        label_shapes=[desc("softmax_label", (T * N,), layout="X")],
        for_training=False,
    )
    n_params = 4 * H * (C + H + 2) + 4 * H * (H + H + 2)
    arg_params = {
        "lstm_parameters": mx.nd.array(np.random.uniform(-0.3, 0.3, n_params)),
        "fc_weight": mx.nd.array(np.random.uniform(-0.3, 0.3, (K, H))),
        "fc_bias": mx.nd.array(np.random.uniform(-0.1, 0.1, K)),
    }
    module.set_params(arg_params, {})
    module.save_checkpoint(str(out / "module_lstm"), 0)
    x = np.random.randn(T, N, C).astype(np.float32)
    h0 = (0.5 * np.random.randn(L, N, H)).astype(np.float32)
    c0 = (0.5 * np.random.randn(L, N, H)).astype(np.float32)
    batch = mx.io.DataBatch(data=[mx.nd.array(a) for a in (x, h0, c0)], label=[mx.nd.zeros((T * N,))])
    module.forward(batch, is_train=False)
    outs = [o.asnumpy() for o in module.get_outputs()]
    save_io(out / "module_lstm", {"data": x, "state": h0, "state_cell": c0}, outs, MXNET_SOURCE)


def make_fused_gru(out: Path) -> None:
    """The old ``mx.rnn`` API: FusedRNNCell (bidirectional 2-layer GRU) saved by ``save_rnn_checkpoint``,
    which stores the weights unpacked per gate (``gru_l0_i2h_r_weight`` ...) instead of ``gru_parameters``."""
    T, N, C, H, K = 6, 2, 5, 8, 3
    cell = mx.rnn.FusedRNNCell(H, num_layers=2, mode="gru", bidirectional=True, prefix="gru_")
    outputs, _ = cell.unroll(T, mx.sym.var("data"), layout="TNC", merge_outputs=True)
    last = mx.sym.SequenceLast(outputs, name="last")
    fc = mx.sym.FullyConnected(last, num_hidden=K, name="fc")
    prob = mx.sym.softmax(fc, name="prob")
    module = mx.mod.Module(prob, data_names=["data"], label_names=None, context=mx.cpu())
    module.bind(data_shapes=[mx.io.DataDesc("data", (T, N, C), layout="TNC")], for_training=False)
    n_params = sum(2 * 3 * H * (width + H + 2) for width in (C, 2 * H))  # 2 layers, 2 directions, 3 gates
    module.set_params(
        {
            "gru_parameters": mx.nd.array(np.random.uniform(-0.4, 0.4, n_params)),
            "fc_weight": mx.nd.array(np.random.uniform(-0.4, 0.4, (K, 2 * H))),
            "fc_bias": mx.nd.array(np.random.uniform(-0.1, 0.1, K)),
        },
        {},
    )
    arg_params, aux_params = module.get_params()
    mx.rnn.save_rnn_checkpoint(cell, str(out / "fused_gru"), 0, prob, arg_params, aux_params)
    x = np.random.randn(T, N, C).astype(np.float32)
    module.forward(mx.io.DataBatch(data=[mx.nd.array(x)]), is_train=False)
    save_io(out / "fused_gru", {"data": x}, [module.get_outputs()[0].asnumpy()], MXNET_SOURCE)


MODELS = {
    "char_lstm": make_char_lstm,
    "bigru_tagger": make_bigru_tagger,
    "relu_rnn": make_relu_rnn,
    "lstmp_speech": make_lstmp_speech,
    "lstmp_clip": make_lstmp_clip,
    "bilstm_seqlen": make_bilstm_seqlen,
    "unrolled_cells": make_unrolled_cells,
    "module_lstm": make_module_lstm,
    "fused_gru": make_fused_gru,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "models")
    parser.add_argument("names", nargs="*", choices=[[], *MODELS], help="models to build (default: all)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names or MODELS:
        mx.random.seed(7)
        np.random.seed(7)
        MODELS[name](args.out)
        size = sum(p.stat().st_size for p in args.out.glob(f"{name}-*"))
        print(f"{name}: {size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
