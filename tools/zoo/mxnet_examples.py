"""MXNet 1.9's ``example/`` RNN models, rebuilt small with random weights (run with .venv-mxnet's Python).

Each builder follows its example's symbol code (the file it comes from is named) and saves the checkpoint
the way that example does: ``BucketingModule.save_checkpoint``, ``mx.rnn.save_rnn_checkpoint`` (which stores
unfused cells' weights per gate and FusedRNNCell's per layer and gate) or ``mx.model.save_checkpoint``.
Training symbols keep their labels and loss heads; the convert flags say which heads to convert.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import mxnet as mx
import numpy as np

from .common import forward, model_dir, random_params, tokens, write_entry

FAMILY = "mxnet example"
BUILDERS: list[Callable[[Path], str]] = []


def builder(fn: Callable[[Path], str]) -> Callable[[Path], str]:
    BUILDERS.append(fn)
    return fn


def build(out_dir: Path) -> list[str]:
    return [make(out_dir) for make in BUILDERS]


# ---------------------------------------------------------------- example/rnn/bucketing


def _bucketing_sym_gen(stack: mx.rnn.BaseRNNCell, vocab: int, embed: int, width: int, layout: str = "NTC"):
    """lstm_bucketing.py / cudnn_rnn_bucketing.py's sym_gen: Embedding, the stack, FC, SoftmaxOutput."""

    def sym_gen(seq_len: int):
        data = mx.sym.Variable("data")
        label = mx.sym.Variable("softmax_label")
        emb = mx.sym.Embedding(data=data, input_dim=vocab, output_dim=embed, name="embed")
        stack.reset()
        outputs = stack.unroll(seq_len, inputs=emb, merge_outputs=True, layout=layout)[0]
        pred = mx.sym.Reshape(outputs, shape=(-1, width))
        pred = mx.sym.FullyConnected(data=pred, num_hidden=vocab, name="pred")
        label = mx.sym.Reshape(label, shape=(-1,))
        pred = mx.sym.SoftmaxOutput(data=pred, label=label, name="softmax")
        return pred, ("data",), ("softmax_label",)

    return sym_gen


def _bucketing_model(
    out_dir: Path, name: str, stack, what: str, seed: int, layout: str = "NTC", width: int = 12, save: str = "rnn"
) -> str:
    vocab, embed, batch, seq_len = 30, 8, 3, 6
    rng = np.random.default_rng(seed)
    sym_gen = _bucketing_sym_gen(stack, vocab, embed, width, layout)
    shape = (batch, seq_len) if layout == "NTC" else (seq_len, batch)
    module = mx.mod.BucketingModule(sym_gen, default_bucket_key=seq_len, context=mx.cpu())
    module.bind([("data", shape)], [("softmax_label", shape)], for_training=False)
    sym = sym_gen(seq_len)[0]
    args, aux = random_params(sym, {"data": shape, "softmax_label": shape}, rng)
    module.set_params(args, aux)
    data = tokens(rng, shape, vocab)
    batch_in = mx.io.DataBatch([mx.nd.array(data)], [mx.nd.zeros(shape)], bucket_key=seq_len)
    module.forward(batch_in, is_train=False)
    outputs = [o.asnumpy() for o in module.get_outputs()]
    folder = model_dir(out_dir, name)
    prefix = str(folder / name)
    if save == "module":  # writes PREFIX-BUCKET-symbol.json per bucket and PREFIX.buckets: keep the default one
        module.save_checkpoint(prefix, 0)
        (folder / f"{name}-{seq_len}-symbol.json").rename(folder / f"{name}-symbol.json")
    else:  # what do_rnn_checkpoint (the examples' epoch_end_callback) calls
        mx.rnn.save_rnn_checkpoint(stack, prefix, 0, sym, args, aux)
    write_entry(folder, name, {"data": data}, outputs, FAMILY, what)
    return name


@builder
def lstm_bucketing(out_dir: Path) -> str:
    stack = mx.rnn.SequentialRNNCell()
    for i in range(2):
        stack.add(mx.rnn.LSTMCell(num_hidden=12, prefix=f"lstm_l{i}_"))
    return _bucketing_model(
        out_dir,
        "lstm_bucketing",
        stack,
        "example/rnn/bucketing/lstm_bucketing.py: BucketingModule, 2 unfused mx.rnn.LSTMCell(12) unrolled 6 steps "
        "(NTC), FC, SoftmaxOutput with Reshape(softmax_label); mx.rnn.save_rnn_checkpoint (weights per gate)",
        1,
    )


@builder
def lstm_bucketing_module(out_dir: Path) -> str:
    stack = mx.rnn.SequentialRNNCell()
    for i in range(2):
        stack.add(mx.rnn.LSTMCell(num_hidden=12, prefix=f"lstm_l{i}_"))
    return _bucketing_model(
        out_dir,
        "lstm_bucketing_module",
        stack,
        "as lstm_bucketing, saved with BucketingModule.save_checkpoint (weights as the symbol names them; "
        "its PREFIX-6-symbol.json, the default bucket's, renamed PREFIX-symbol.json)",
        2,
        save="module",
    )


@builder
def gru_bucketing(out_dir: Path) -> str:
    stack = mx.rnn.SequentialRNNCell()
    for i in range(2):
        stack.add(mx.rnn.GRUCell(num_hidden=12, prefix=f"gru_l{i}_"))
    return _bucketing_model(
        out_dir,
        "gru_bucketing",
        stack,
        "lstm_bucketing.py with 2 unfused mx.rnn.GRUCell(12); save_rnn_checkpoint (per-gate _r/_z/_o weights)",
        3,
    )


@builder
def cudnn_bucketing_fused(out_dir: Path) -> str:
    cell = mx.rnn.FusedRNNCell(8, num_layers=2, mode="lstm", bidirectional=True, prefix="lstm_")
    return _bucketing_model(
        out_dir,
        "cudnn_bucketing_fused",
        cell,
        "example/rnn/bucketing/cudnn_rnn_bucketing.py (train): FusedRNNCell 2-layer bidirectional LSTM(8), TNC, "
        "FC, SoftmaxOutput; save_rnn_checkpoint (fused weights unpacked per layer/direction/gate)",
        4,
        layout="TNC",
        width=16,
    )


@builder
def cudnn_bucketing_unfused(out_dir: Path) -> str:
    stack = mx.rnn.FusedRNNCell(8, num_layers=2, mode="gru", bidirectional=True, prefix="gru_").unfuse()
    return _bucketing_model(
        out_dir,
        "cudnn_bucketing_unfused",
        stack,
        "cudnn_rnn_bucketing.py (test): FusedRNNCell(...).unfuse(), 2-layer bidirectional GRU(8) as "
        "BidirectionalCell(GRUCell, GRUCell), NTC; save_rnn_checkpoint (per-gate weights)",
        5,
        width=16,
    )


# ---------------------------------------------------------------- example/rnn/word_lm


def _word_lm(bptt: int, vocab: int, nhid: int, num_layers: int, batch: int):
    """word_lm/model.py's rnn(): tied encoder/decoder weights, FusedRNNCell per layer with explicit states."""
    data = mx.sym.Variable("data")
    weight = mx.sym.var("encoder_weight", init=mx.init.Uniform(0.1))
    embed = mx.sym.Embedding(data=data, weight=weight, input_dim=vocab, output_dim=nhid, name="embed")
    states, state_names = [], []
    outputs = mx.sym.Dropout(embed, p=0.2)
    for i in range(num_layers):
        prefix = f"lstm_l{i}_"
        cell = mx.rnn.FusedRNNCell(num_hidden=nhid, prefix=prefix, get_next_state=True, forget_bias=0.0, dropout=0.2)
        shape = (1, batch, nhid)
        begin = [mx.sym.var(prefix + "cell", shape=shape), mx.sym.var(prefix + "hidden", shape=shape)]
        state_names += [prefix + "cell", prefix + "hidden"]
        outputs, next_states = cell.unroll(bptt, inputs=outputs, begin_state=begin, merge_outputs=True, layout="TNC")
        outputs = mx.sym.Dropout(outputs, p=0.2)
        states += next_states
    pred = mx.sym.Reshape(outputs, shape=(-1, nhid))
    pred = mx.sym.FullyConnected(data=pred, weight=weight, num_hidden=vocab, name="pred")
    pred = mx.sym.Reshape(pred, shape=(-1, vocab))
    return pred, [mx.sym.stop_gradient(s) for s in states], state_names


def _softmax_ce_loss(pred):
    """word_lm/model.py's softmax_ce_loss: make_loss(mean(-pick(log_softmax(pred), label)))."""
    label = mx.sym.Variable("label")
    label = mx.sym.Reshape(label, shape=(-1,))
    logits = mx.sym.log_softmax(pred, axis=-1)
    loss = -mx.sym.pick(logits, label, axis=-1, keepdims=True)
    loss = mx.sym.mean(loss, axis=0, exclude=True)
    return mx.sym.make_loss(loss, name="nll")


def _word_lm_model(out_dir: Path, name: str, with_loss: bool, seed: int) -> str:
    bptt, vocab, nhid, layers, batch = 5, 25, 10, 2, 2
    rng = np.random.default_rng(seed)
    pred, states, state_names = _word_lm(bptt, vocab, nhid, layers, batch)
    head = _softmax_ce_loss(pred) if with_loss else pred
    sym = mx.sym.Group([head] + states)
    shapes = {"data": (bptt, batch), **{n: (1, batch, nhid) for n in state_names}}
    if with_loss:
        shapes["label"] = (bptt, batch)
    args, aux = random_params(sym, shapes, rng)
    inputs = {"data": tokens(rng, (bptt, batch), vocab)}
    inputs.update({n: rng.uniform(-0.5, 0.5, (1, batch, nhid)).astype(np.float32) for n in state_names})
    if with_loss:
        inputs["label"] = tokens(rng, (bptt, batch), vocab)
    outputs = forward(sym, args, aux, inputs)
    folder = model_dir(out_dir, name)
    mx.model.save_checkpoint(str(folder / name), 0, sym, args, aux)
    what = (
        "example/rnn/word_lm/model.py: tied Embedding/FC weights, 2 FusedRNNCell LSTM(10) layers with explicit "
        "begin states (variables with shapes), Dropout; heads: "
    )
    what += (
        "the training loss make_loss(mean(-pick(log_softmax(pred), label))) and the 4 next states"
        if with_loss
        else "the logits and the 4 next states (stop_gradient)"
    )
    # the label only meets Reshape(shape=(-1,)), which says nothing about its rank: give it
    args = ["--input-shape", "label=?,?"] if with_loss else []
    write_entry(folder, name, inputs, outputs, FAMILY, what, args=args)
    return name


@builder
def word_lm(out_dir: Path) -> str:
    return _word_lm_model(out_dir, "word_lm", False, 6)


@builder
def word_lm_loss(out_dir: Path) -> str:
    return _word_lm_model(out_dir, "word_lm_loss", True, 7)


# ---------------------------------------------------------------- example/ctc (LSTM-OCR)


def _ocr_lstm(indata, prev, param, seqidx: int, layeridx: int, num_hidden: int):
    """example/ctc/lstm.py's _lstm: FC i2h + FC h2h, SliceChannel into 4 gates (i, g, f, o order)."""
    i2h = mx.sym.FullyConnected(
        data=indata, weight=param[0], bias=param[1], num_hidden=num_hidden * 4, name=f"t{seqidx}_l{layeridx}_i2h"
    )
    h2h = mx.sym.FullyConnected(
        data=prev[1], weight=param[2], bias=param[3], num_hidden=num_hidden * 4, name=f"t{seqidx}_l{layeridx}_h2h"
    )
    gates = mx.sym.SliceChannel(i2h + h2h, num_outputs=4, name=f"t{seqidx}_l{layeridx}_slice")
    in_gate = mx.sym.Activation(gates[0], act_type="sigmoid")
    in_transform = mx.sym.Activation(gates[1], act_type="tanh")
    forget_gate = mx.sym.Activation(gates[2], act_type="sigmoid")
    out_gate = mx.sym.Activation(gates[3], act_type="sigmoid")
    next_c = (forget_gate * prev[0]) + (in_gate * in_transform)
    next_h = out_gate * mx.sym.Activation(next_c, act_type="tanh")
    return next_c, next_h


def _ocr_symbol(num_layers: int, seq_len: int, num_hidden: int, classes: int):
    """example/ctc/lstm.py: lstm_unroll(..., loss_type="ctc"): the training symbol with both heads."""
    params, states = [], []
    for i in range(num_layers):
        params.append([mx.sym.Variable(f"l{i}_{n}") for n in ("i2h_weight", "i2h_bias", "h2h_weight", "h2h_bias")])
        states.append((mx.sym.Variable(f"l{i}_init_c"), mx.sym.Variable(f"l{i}_init_h")))
    data = mx.sym.Variable("data")
    wordvec = mx.sym.SliceChannel(data=data, num_outputs=seq_len, squeeze_axis=1)
    hidden_all = []
    for t in range(seq_len):
        hidden = wordvec[t]
        for i in range(num_layers):
            states[i] = _ocr_lstm(hidden, states[i], params[i], t, i, num_hidden)
            hidden = states[i][1]
        hidden_all.append(hidden)
    pred = mx.sym.FullyConnected(data=mx.sym.Concat(*hidden_all, dim=0), num_hidden=classes, name="pred_fc")
    label = mx.sym.Variable("label")
    pred_ctc = mx.sym.Reshape(data=pred, shape=(-4, seq_len, -1, 0))
    ctc_loss = mx.sym.MakeLoss(mx.sym.contrib.ctc_loss(data=pred_ctc, label=label))
    softmax_loss = mx.sym.BlockGrad(mx.sym.MakeLoss(mx.symbol.SoftmaxActivation(data=pred)))
    return mx.sym.Group([softmax_loss, ctc_loss])


@builder
def lstm_ocr(out_dir: Path) -> str:
    name, layers, seq_len, hidden, classes, batch, features, labels = "lstm_ocr", 2, 6, 10, 11, 2, 8, 3
    rng = np.random.default_rng(8)
    sym = _ocr_symbol(layers, seq_len, hidden, classes)
    state_shapes = {f"l{i}_init_{k}": (batch, hidden) for k in ("c", "h") for i in range(layers)}
    shapes = {"data": (batch, seq_len, features), "label": (batch, labels), **state_shapes}
    args, aux = random_params(sym, shapes, rng)
    inputs = {"data": rng.uniform(0, 1, shapes["data"]).astype(np.float32)}
    inputs.update({n: rng.uniform(-0.5, 0.5, s).astype(np.float32) for n, s in state_shapes.items()})
    label = rng.integers(1, classes, (batch, labels)).astype(np.float32)
    outputs = forward(sym, args, aux, {**inputs, "label": label})
    folder = model_dir(out_dir, name)
    mx.model.save_checkpoint(str(folder / name), 0, sym, args, aux)
    head = sym.list_outputs()[0]
    what = (
        "example/ctc/lstm.py (loss_type='ctc'): the training symbol, a 2-layer LSTM(10) hand-unrolled 6 steps "
        "(FullyConnected + SliceChannel gates) with explicit init states, FC(11); heads BlockGrad(MakeLoss("
        f"SoftmaxActivation)) and MakeLoss(ctc_loss): --outputs {head} converts the first, dropping the CTC loss"
    )
    write_entry(folder, name, inputs, outputs[:1], FAMILY, what, args=["--outputs", head])
    return name


# ---------------------------------------------------------------- example/speech-demo (LSTMP)


def _lstmp_cell(num_hidden, indata, prev, param, seqidx, layeridx, num_proj):
    """speech-demo/lstm_proj.py's lstm(): peephole connections (c2i, c2f, c2o) and a projection ph2h."""
    i2h = mx.sym.FullyConnected(
        data=indata, weight=param["i2h_weight"], bias=param["i2h_bias"], num_hidden=num_hidden * 4,
        name=f"t{seqidx}_l{layeridx}_i2h",
    )  # fmt: skip
    h2h = mx.sym.FullyConnected(
        data=prev[1], weight=param["h2h_weight"], no_bias=True, num_hidden=num_hidden * 4,
        name=f"t{seqidx}_l{layeridx}_h2h",
    )  # fmt: skip
    gates = mx.sym.SliceChannel(i2h + h2h, num_outputs=4, name=f"t{seqidx}_l{layeridx}_slice")
    in_gate = mx.sym.Activation(mx.sym.broadcast_mul(param["c2i_bias"], prev[0]) + gates[0], act_type="sigmoid")
    in_transform = mx.sym.Activation(gates[1], act_type="tanh")
    forget_gate = mx.sym.Activation(mx.sym.broadcast_mul(param["c2f_bias"], prev[0]) + gates[2], act_type="sigmoid")
    next_c = (forget_gate * prev[0]) + (in_gate * in_transform)
    out_gate = mx.sym.Activation(mx.sym.broadcast_mul(param["c2o_bias"], next_c) + gates[3], act_type="sigmoid")
    next_h = out_gate * mx.sym.Activation(next_c, act_type="tanh")
    proj = mx.sym.FullyConnected(
        data=next_h, weight=param["ph2h_weight"], no_bias=True, num_hidden=num_proj, name=f"t{seqidx}_l{layeridx}_ph2h"
    )
    return next_c, proj


@builder
def speech_lstmp(out_dir: Path) -> str:
    """speech-demo/lstm_proj.py's lstm_unroll(..., output_states=True, take_softmax=True, num_hidden_proj=P)."""
    name, layers, seq_len, features, hidden, proj, classes, batch = "speech_lstmp", 2, 5, 12, 16, 8, 10, 2
    rng = np.random.default_rng(9)
    params, states = [], []
    for i in range(layers):
        p = {n: mx.sym.Variable(f"l{i}_{n}") for n in ("i2h_weight", "i2h_bias", "h2h_weight", "ph2h_weight")}
        p.update({n: mx.sym.Variable(f"l{i}_{n}", shape=(1, hidden)) for n in ("c2i_bias", "c2f_bias", "c2o_bias")})
        params.append(p)
        states.append((mx.sym.Variable(f"l{i}_init_c"), mx.sym.Variable(f"l{i}_init_h")))
    data = mx.sym.Variable("data")
    label = mx.sym.Variable("softmax_label")
    sliced = mx.sym.SliceChannel(data=data, num_outputs=seq_len, squeeze_axis=1)
    hidden_all = []
    for t in range(seq_len):
        h = sliced[t]
        for i in range(layers):
            states[i] = _lstmp_cell(hidden, h, states[i], params[i], t, i, proj)
            h = states[i][1]
        hidden_all.append(h)
    concat = mx.sym.Concat(*hidden_all, dim=1)
    final = mx.sym.Reshape(concat, target_shape=(0, proj))
    pred = mx.sym.FullyConnected(
        data=final, num_hidden=classes, weight=mx.sym.Variable("cls_weight"), bias=mx.sym.Variable("cls_bias"),
        name="pred",
    )  # fmt: skip
    pred = mx.sym.Reshape(pred, shape=(-1, classes))
    label = mx.sym.Reshape(label, shape=(-1,))
    sm = mx.sym.SoftmaxOutput(data=pred, label=label, ignore_label=0, use_ignore=True, name="softmax")
    cs = [mx.sym.BlockGrad(states[i][0], name=f"l{i}_last_c") for i in range(layers)]
    hs = [mx.sym.BlockGrad(states[i][1], name=f"l{i}_last_h") for i in range(layers)]
    sym = mx.sym.Group([sm] + cs + hs)
    state_shapes = {f"l{i}_init_c": (batch, hidden) for i in range(layers)}
    state_shapes.update({f"l{i}_init_h": (batch, proj) for i in range(layers)})
    shapes = {"data": (batch, seq_len, features), "softmax_label": (batch, seq_len), **state_shapes}
    args, aux = random_params(sym, shapes, rng)
    inputs = {"data": rng.normal(0, 1, shapes["data"]).astype(np.float32)}
    inputs.update({n: rng.uniform(-0.5, 0.5, s).astype(np.float32) for n, s in state_shapes.items()})
    outputs = forward(sym, args, aux, {**inputs, "softmax_label": np.zeros((batch, seq_len), np.float32)})
    folder = model_dir(out_dir, name)
    mx.model.save_checkpoint(str(folder / name), 0, sym, args, aux)
    what = (
        "example/speech-demo/lstm_proj.py (MXNet 1.0's example folder): 2-layer LSTM(16) with peepholes and "
        "projection 8, hand-unrolled 5 steps, Reshape(target_shape=(0, 8)), SoftmaxOutput(use_ignore) with "
        "Reshape(softmax_label); heads: probabilities and the last c/h of each layer (BlockGrad)"
    )
    write_entry(folder, name, inputs, outputs, FAMILY, what)
    return name


# ---------------------------------------------------------------- example/speech_recognition (DeepSpeech2)


def _ds2_conv(net, channels, kernel, stride, name):
    """stt_layer_conv.conv (Convolution, no bias under batch norm, relu) then stt_layer_batchnorm."""
    net = mx.sym.Convolution(data=net, num_filter=channels, kernel=kernel, stride=stride, no_bias=True, name=name)
    net = mx.sym.Activation(data=net, act_type="relu")
    return mx.sym.BatchNorm(data=net, fix_gamma=False, name=f"{name}_batchnorm")


def _ds2_model(out_dir: Path, name: str, conv_1d: bool, seed: int) -> str:
    batch, seq_len, features, channels, hidden, classes = 2, 20, 16, 4, 8, 12
    rng = np.random.default_rng(seed)
    data = mx.sym.Variable("data")
    if conv_1d:  # time convolution over feature channels: (N, F, T)
        net = mx.sym.SwapAxis(data, dim1=1, dim2=2)
        net = _ds2_conv(net, channels * 2, (5,), (2,), "conv1")
        net = _ds2_conv(net, channels * 2, (3,), (1,), "conv2")
        net = mx.sym.clip(net, 0, 20)  # DeepSpeech2's clipped ReLU
        net = mx.sym.SwapAxis(net, dim1=1, dim2=2)  # (N, T', C)
    else:  # arch_deepspeech.py: (N, 1, T, F) images
        net = mx.sym.Reshape(data=data, shape=(-4, -1, 1, 0, 0))
        net = _ds2_conv(net, channels, (5, 5), (2, 2), "conv1")
        net = _ds2_conv(net, channels, (3, 3), (1, 2), "conv2")
        net = mx.sym.transpose(data=net, axes=(0, 2, 1, 3))
        net = mx.sym.Reshape(data=net, shape=(0, 0, -3))  # (N, T', C * F')
    steps = (seq_len - 5) // 2 + 1 - 2
    cell = mx.rnn.FusedRNNCell(hidden, num_layers=1, mode="gru", bidirectional=True, prefix="bigru_")
    net, _ = cell.unroll(steps, inputs=net, layout="NTC", merge_outputs=True)
    net = mx.sym.FullyConnected(net, num_hidden=classes, flatten=False, name="rear_fc")
    sym = mx.sym.softmax(net, axis=-1, name="softmax")
    shapes = {"data": (batch, seq_len, features)}
    args, aux = random_params(sym, shapes, rng)
    inputs = {"data": rng.normal(0, 1, shapes["data"]).astype(np.float32)}
    outputs = forward(sym, args, aux, inputs)
    folder = model_dir(out_dir, name)
    mx.model.save_checkpoint(str(folder / name), 0, sym, args, aux)
    front = (
        "two 1-D Convolutions over time (5/2, 3/1) + relu + BatchNorm, clip(0, 20)"
        if conv_1d
        else "arch_deepspeech.py's front end: Reshape(-4, -1, 1, 0, 0), two 2-D Convolutions (5x5/2x2, 3x3/1x2) "
        "+ relu + BatchNorm, transpose, Reshape(0, 0, -3)"
    )
    what = f"DeepSpeech2-style (example/speech_recognition): {front}; bidirectional GRU(8) (FusedRNNCell), FC, softmax"
    write_entry(folder, name, inputs, outputs, FAMILY, what)
    return name


@builder
def deepspeech2(out_dir: Path) -> str:
    return _ds2_model(out_dir, "deepspeech2", False, 10)


@builder
def deepspeech2_1d(out_dir: Path) -> str:
    return _ds2_model(out_dir, "deepspeech2_1d", True, 11)


@builder
def crnn_ocr(out_dir: Path) -> str:
    """A captcha OCR model in the style of example/ctc with a CNN front end: Convolution + Pooling (2-D), a
    bidirectional LSTM over the image columns and the CTC training heads."""
    name, batch, height, width, hidden, classes, labels = "crnn_ocr", 2, 16, 24, 8, 11, 3
    rng = np.random.default_rng(12)
    data = mx.sym.Variable("data")  # (N, 1, H, W)
    net = mx.sym.Convolution(data, num_filter=4, kernel=(3, 3), pad=(1, 1), name="conv1")
    net = mx.sym.Activation(net, act_type="relu")
    net = mx.sym.Pooling(net, pool_type="max", kernel=(2, 2), stride=(2, 2), name="pool1")
    net = mx.sym.Convolution(net, num_filter=6, kernel=(3, 3), pad=(1, 1), name="conv2")
    net = mx.sym.BatchNorm(net, name="bn2")
    net = mx.sym.Activation(net, act_type="relu")
    net = mx.sym.Pooling(net, pool_type="avg", kernel=(2, 1), stride=(2, 1), name="pool2")  # (N, 6, 4, 12)
    net = mx.sym.transpose(net, axes=(0, 3, 1, 2))
    net = mx.sym.Reshape(net, shape=(0, 0, -3))  # (N, W', C * H')
    steps = width // 2
    cell = mx.rnn.FusedRNNCell(hidden, num_layers=1, mode="lstm", bidirectional=True, prefix="bilstm_")
    net, _ = cell.unroll(steps, inputs=net, layout="NTC", merge_outputs=True)
    pred = mx.sym.FullyConnected(mx.sym.Reshape(net, shape=(-1, 2 * hidden)), num_hidden=classes, name="pred_fc")
    pred_ctc = mx.sym.Reshape(pred, shape=(-4, -1, steps, 0))  # (N, T, C)
    loss = mx.sym.contrib.ctc_loss(data=mx.sym.transpose(pred_ctc, axes=(1, 0, 2)), label=mx.sym.Variable("label"))
    probs = mx.sym.softmax(pred_ctc, axis=-1, name="probs")
    sym = mx.sym.Group([mx.sym.MakeLoss(loss, name="ctc"), mx.sym.BlockGrad(probs, name="probs_out")])
    shapes = {"data": (batch, 1, height, width), "label": (batch, labels)}
    args, aux = random_params(sym, shapes, rng)
    inputs = {"data": rng.uniform(0, 1, shapes["data"]).astype(np.float32)}
    label = rng.integers(1, classes, (batch, labels)).astype(np.float32)
    outputs = forward(sym, args, aux, {**inputs, "label": label})
    folder = model_dir(out_dir, name)
    mx.model.save_checkpoint(str(folder / name), 0, sym, args, aux)
    head = sym.list_outputs()[1]
    what = (
        "CRNN captcha OCR: Convolution 3x3 + max Pooling 2x2, Convolution + BatchNorm + avg Pooling 2x1, columns "
        f"as time, bidirectional LSTM(8) (FusedRNNCell), FC(11); heads MakeLoss(ctc_loss) and the softmax: "
        f"--outputs {head}"
    )
    write_entry(folder, name, inputs, outputs[1:], FAMILY, what, args=["--outputs", head])
    return name
