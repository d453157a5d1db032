"""GluonNLP 0.10.0's GNMT and sentiment models, from the classes of the repository's ``scripts/`` folder.

Those classes are not in the gluonnlp package: point ``GLUONNLP_SCRIPTS`` at the ``scripts/`` folder of a
gluon-nlp checkout at tag v0.10.0 (``git clone -b v0.10.0 https://github.com/dmlc/gluon-nlp``; see
models/README.md). Nothing of it is copied here: the classes are imported from that folder at build time.
Run with the GluonNLP venv (``tools/zoo_env.sh``: Python 3.9, MXNet 1.9.1, gluonnlp 0.10.0).

- GNMT (``machine_translation/gnmt.py``, ``get_gnmt_encoder_decoder`` inside ``model.translation.NMTModel``):
  ``GNMTOneStepDecoder`` is a HybridBlock and is exported as it is, one step, with each attention cell
  ``_get_attention_cell`` offers. ``GNMTEncoder``, ``GNMTDecoder`` and ``NMTModel`` are plain Blocks whose
  ``forward`` calls ``mx.nd`` directly (MXNet cannot hybridize or export them: ``'GNMTEncoder' object has no
  attribute 'export'``), so ``GNMTEncoderGraph`` and ``NMTGraph`` run their cells the way those ``forward``
  methods do, in a HybridBlock, and the build checks that the exported graph's outputs equal the real
  ``forward``'s.
- sentiment (``sentiment_analysis/``): ``finetune_lm.py``'s ``SentimentNet`` + ``AggregationLayer`` over a
  ``model.StandardRNN`` LM's embedding and encoder (that file is a training script that parses arguments
  and downloads IMDB at import, so its two classes are compiled alone from its source), mean pooling and
  last state; ``text_cnn.py``'s ``SentimentNet`` (TextCNN), multichannel and single-channel.
"""

from __future__ import annotations

import ast
import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import gluonnlp as nlp
import mxnet as mx
import numpy as np
from gluonnlp.model.seq2seq_encoder_decoder import _nested_sequence_last
from mxnet import gluon
from mxnet.gluon import HybridBlock

from .common_gluon import export_block, seed

FAMILY = "GluonNLP 0.10.0 scripts"
VOCAB = 20
HIDDEN = 8
NUM_BI_LAYERS, USE_RESIDUAL = 1, True  # GNMT's encoder: one bidirectional layer, residual connections
ATTENTION_CELLS = ("scaled_luong", "scaled_dot", "dot", "cosine", "mlp", "normed_mlp")


def scripts_dir() -> Path:
    folder = Path(os.environ.get("GLUONNLP_SCRIPTS", ""))
    if not (folder / "machine_translation" / "gnmt.py").is_file():
        raise FileNotFoundError(
            f"GLUONNLP_SCRIPTS={str(folder)!r}: expected the scripts/ folder of a gluon-nlp v0.10.0 checkout"
        )
    return folder


def load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_classes(path: Path, names: tuple[str, ...]) -> dict[str, Any]:
    """The named classes of a script, compiled alone (the script's top level is not run)."""
    tree = ast.parse(path.read_text(), str(path))
    body = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name in names]
    namespace: dict[str, Any] = {"mx": mx, "gluon": gluon, "HybridBlock": HybridBlock, "nlp": nlp}
    exec(compile(ast.Module(body=body, type_ignores=[]), str(path), "exec"), namespace)  # noqa: S102
    return {name: namespace[name] for name in names}


def randomize(block: Any, rng: np.random.Generator, scale: float = 0.4) -> None:
    for param in block.collect_params().values():
        param.set_data(mx.nd.array(rng.uniform(-scale, scale, param.shape).astype(np.float32)))


def _close(ours: list[Any], theirs: list[Any], what: str) -> None:
    assert len(ours) == len(theirs), (what, len(ours), len(theirs))
    for k, (a, b) in enumerate(zip(ours, theirs)):
        if not np.allclose(a.asnumpy(), b.asnumpy(), rtol=1e-6, atol=1e-6):
            raise AssertionError(f"{what}: output {k} differs from the real forward")


class EncoderParts(HybridBlock):
    """A ``GNMTEncoder``'s hybrid children (its cells and dropout) and the settings it was built with
    (``NUM_BI_LAYERS``, ``USE_RESIDUAL``): the encoder itself is a plain Block, which a HybridBlock cannot hold."""

    def __init__(self, encoder: Any) -> None:
        super().__init__()
        self.rnn_cells, self.dropout_layer = encoder.rnn_cells, encoder.dropout_layer
        self.num_bi_layers, self.use_residual = NUM_BI_LAYERS, USE_RESIDUAL


def encode(encoder: Any, F: Any, inputs: Any, valid_length: Any, length: int) -> tuple[Any, list[Any]]:
    """``GNMTEncoder.forward`` with ``F`` for ``mx.nd`` (its cells, unroll, dropout, residual, mask)."""
    new_states = []
    outputs = inputs
    for i, cell in enumerate(encoder.rnn_cells):
        outputs, layer_states = cell.unroll(
            length=length, inputs=inputs, merge_outputs=True, valid_length=valid_length, layout="NTC"
        )
        if i < encoder.num_bi_layers:
            new_states.append(layer_states[len(encoder.rnn_cells[i].state_info()) // 2 :])
        else:
            new_states.append(layer_states)
        outputs = encoder.dropout_layer(outputs)
        if encoder.use_residual and i > encoder.num_bi_layers:
            outputs = outputs + inputs
        inputs = outputs
    outputs = F.SequenceMask(outputs, sequence_length=valid_length, use_sequence_length=True, axis=1)
    return outputs, new_states


class GNMTEncoderGraph(HybridBlock):
    """``NMTModel.encode``: source embedding, then ``GNMTEncoder.forward``; outputs and every layer's state."""

    def __init__(self, model: Any, length: int) -> None:
        super().__init__()
        self.length = length
        self.src_embed, self.encoder = model.src_embed, EncoderParts(model.encoder)

    def hybrid_forward(self, F: Any, src: Any, valid_length: Any) -> Any:
        outputs, states = encode(self.encoder, F, self.src_embed(src), valid_length, self.length)
        return [outputs, *(s for layer in states for s in layer)]


class NMTGraph(HybridBlock):
    """``NMTModel.forward`` (training, teacher forcing) with both valid lengths: encode, the decoder's
    ``init_state_from_encoder``, ``GNMTDecoder.forward`` step by step (the real one-step ``hybrid_forward``),
    ``SequenceMask``, the attention weights, ``tgt_proj``."""

    def __init__(self, model: Any, src_length: int, tgt_length: int) -> None:
        super().__init__()
        self.src_length, self.tgt_length = src_length, tgt_length
        self.src_embed, self.tgt_embed, self.tgt_proj = model.src_embed, model.tgt_embed, model.tgt_proj
        self.encoder, self.decoder = EncoderParts(model.encoder), model.decoder

    def hybrid_forward(self, F: Any, src: Any, tgt: Any, src_valid: Any, tgt_valid: Any) -> Any:
        memory, rnn_states = encode(self.encoder, F, self.src_embed(src), src_valid, self.src_length)
        attention_vec = F.zeros_like(F.sum(memory, axis=1))
        positions = F.contrib.arange_like(memory, axis=1)
        mem_masks = F.broadcast_lesser(positions.reshape((1, -1)), src_valid.reshape((-1, 1)))
        states = [rnn_states, attention_vec, memory, mem_masks]
        steps = F.split(self.tgt_embed(tgt), num_outputs=self.tgt_length, axis=1, squeeze_axis=True)
        base_forward = type(self.decoder).__mro__[1].forward  # _BaseGNMTDecoder.forward, as GNMTDecoder calls it
        outputs, weights, rnn_l, attention_l = [], [], [], []
        for i in range(self.tgt_length):
            out, states, extra = base_forward(self.decoder, steps[i], states)
            rnn_l.append(states[0])
            attention_l.append(states[1])
            outputs.append(out)
            weights.extend(extra)
        output = F.SequenceMask(F.stack(*outputs, axis=1), sequence_length=tgt_valid, use_sequence_length=True, axis=1)
        last_rnn = _nested_sequence_last(rnn_l, tgt_valid)
        last_attention = _nested_sequence_last(attention_l, tgt_valid)
        return [
            self.tgt_proj(output),
            F.concat(*weights, dim=-2),
            *(s for layer in last_rnn for s in layer),
            last_attention,
        ]


def _gnmt_model(gnmt: ModuleType, cell: str) -> Any:
    encoder, decoder, one_step = gnmt.get_gnmt_encoder_decoder(
        attention_cell=cell,
        num_layers=3,
        num_bi_layers=NUM_BI_LAYERS,
        hidden_size=HIDDEN,
        dropout=0.2,
        use_residual=USE_RESIDUAL,
    )
    # the factory has no output_attention argument; the decoders' constructors read it into this attribute
    decoder._output_attention = one_step._output_attention = True  # noqa: SLF001
    vocab = nlp.Vocab(nlp.data.count_tokens([f"w{k}" for k in range(VOCAB - 4)]))
    model = nlp.model.translation.NMTModel(
        src_vocab=vocab,
        tgt_vocab=vocab,
        encoder=encoder,
        decoder=decoder,
        one_step_ahead_decoder=one_step,
        embed_size=HIDDEN,
        prefix="gnmt_",
    )
    model.initialize()
    return model


def _gnmt(out_dir: Path, folder: Path) -> list[str]:
    gnmt = load_module(folder / "machine_translation" / "gnmt.py", "gluonnlp_scripts_gnmt")
    names = []
    src_len, tgt_len, batch = 5, 4, 2
    for k, cell in enumerate(ATTENTION_CELLS):
        rng = seed(80 + k)
        model = _gnmt_model(gnmt, cell)
        vocab = len(model.src_vocab)
        src = rng.integers(0, vocab, (batch, src_len)).astype(np.float32)
        tgt = rng.integers(0, vocab, (batch, tgt_len)).astype(np.float32)
        src_valid = np.array([src_len, 3], np.float32)
        tgt_valid = np.array([2, tgt_len], np.float32)
        nd = [mx.nd.array(x) for x in (src, tgt, src_valid, tgt_valid)]
        model(*nd)  # completes the deferred shapes
        randomize(model, rng)
        if k == 0:
            names.append(_encoder(out_dir, model, src, src_valid, nd))
        names.append(_step(out_dir, model, cell, rng, nd))
        graph = NMTGraph(model, src_len, tgt_len)
        real_out, real_extra = model(*nd)
        name = export_block(
            out_dir,
            f"gluonnlp_gnmt_{cell}",
            graph,
            [src, tgt, src_valid, tgt_valid],
            family=FAMILY,
            args=["--input-shape", "data2=batch", "--input-shape", "data3=batch"],
            what=f"scripts/machine_translation/gnmt.py: NMTModel(GNMTEncoder, GNMTDecoder, attention '{cell}') "
            "forward with teacher forcing, 3 layers (1 bidirectional, residual), hidden 8, both valid lengths; "
            "logits, attention weights, last states",
        )
        _close(graph(*nd)[:2], [real_out, real_extra[1][0]], name)
        names.append(name)
    return names


def _encoder(out_dir: Path, model: Any, src: np.ndarray, src_valid: np.ndarray, nd: list[Any]) -> str:
    graph = GNMTEncoderGraph(model, src.shape[1])
    name = export_block(
        out_dir,
        "gluonnlp_gnmt_encoder",
        graph,
        [src, src_valid],
        family=FAMILY,
        args=["--input-shape", "data1=batch"],
        what="scripts/machine_translation/gnmt.py: NMTModel.encode (embedding, GNMTEncoder: bidirectional "
        "LSTM layer, 2 LSTM layers with residual, hidden 8), valid length; outputs and each layer's states",
    )
    (real_out, real_states), _ = model.encode(nd[0], valid_length=nd[2])
    _close(graph(nd[0], nd[2]), [real_out, *(s for layer in real_states for s in layer)], name)
    return name


def _step(out_dir: Path, model: Any, cell: str, rng: np.random.Generator, nd: list[Any]) -> str:
    """``GNMTOneStepDecoder`` as MXNet exports it, states from the real encoder and init_state_from_encoder."""
    encoded, _ = model.encode(nd[0], valid_length=nd[2])
    rnn_states, attention_vec, memory, masks = model.one_step_ahead_decoder.init_state_from_encoder(
        encoded, encoder_valid_length=nd[2]
    )
    attention_vec = mx.nd.array(rng.uniform(-1, 1, attention_vec.shape))  # as after a first step
    step = rng.standard_normal((nd[0].shape[0], HIDDEN)).astype(np.float32)
    flat = [s.asnumpy() for layer in rnn_states for s in layer]
    leaves = [step, *flat, attention_vec.asnumpy(), memory.asnumpy(), masks.asnumpy()]
    layers = len(rnn_states)

    def call(block: Any, arrays: list[Any]) -> Any:
        states = [[arrays[1 + 2 * i], arrays[2 + 2 * i]] for i in range(layers)]
        out, new_states, extra = block(arrays[0], [states, *arrays[1 + 2 * layers :]])
        return [out, new_states[:2], extra]  # the graph's heads; forward appends memory and masks to them

    return export_block(
        out_dir,
        f"gluonnlp_gnmt_step_{cell}",
        model.one_step_ahead_decoder,
        leaves,
        family=FAMILY,
        what=f"scripts/machine_translation/gnmt.py: GNMTOneStepDecoder (attention '{cell}', 3 LSTM layers, "
        "residual, output_attention) exported as it is: one step from the encoder's states and memory mask; "
        "output, new states, attention vector and weights",
        call=call,
    )


def _sentiment(out_dir: Path, folder: Path) -> list[str]:
    classes = load_classes(folder / "sentiment_analysis" / "finetune_lm.py", ("AggregationLayer", "SentimentNet"))
    names = []
    for k, mean_pool in enumerate((True, False)):
        rng = seed(90 + k)
        net = classes["SentimentNet"](dropout=0.3, use_mean_pool=mean_pool)
        with net.name_scope():  # as finetune_lm.py builds it (get_model('standard_lstm_lm_200'), smaller)
            lm = nlp.model.StandardRNN("lstm", VOCAB, 12, 16, 2, dropout=0.3, tie_weights=False)
        net.embedding, net.encoder = lm.embedding, lm.encoder
        net.initialize()
        tokens = rng.integers(0, VOCAB, (6, 2)).astype(np.float32)
        valid = np.array([6, 4], np.float32)
        net(mx.nd.array(tokens), mx.nd.array(valid))
        randomize(net, rng)
        pool = "mean pooling (SequenceMask, sum, divide)" if mean_pool else "last state (SequenceLast)"
        names.append(
            export_block(
                out_dir,
                f"gluonnlp_sentiment_lm_{'mean' if mean_pool else 'last'}",
                net,
                [tokens, valid],
                family=FAMILY,
                args=["--input-shape", "data1=batch"],
                what="scripts/sentiment_analysis/finetune_lm.py: SentimentNet over model.StandardRNN's "
                f"embedding and 2-layer LSTM(16) encoder, AggregationLayer {pool}, Dense(1); TNC, valid length",
            )
        )
    text_cnn = load_module(folder / "sentiment_analysis" / "text_cnn.py", "gluonnlp_scripts_text_cnn")
    for k, mode in enumerate(("multichannel", "rand")):
        rng = seed(92 + k)
        net = text_cnn.SentimentNet(
            dropout=0.5,
            embed_size=8,
            vocab_size=VOCAB,
            model_mode=mode,
            output_size=2,
            num_filters=(4, 4, 4),
            ngram_filter_sizes=(3, 4, 5),
        )
        net.initialize()
        tokens = rng.integers(0, VOCAB, (7, 2)).astype(np.float32)
        net(mx.nd.array(tokens))
        randomize(net, rng)
        names.append(
            export_block(
                out_dir,
                f"gluonnlp_text_cnn_{mode}",
                net,
                [tokens],
                family=FAMILY,
                what=f"scripts/sentiment_analysis/text_cnn.py: SentimentNet (TextCNN, '{mode}'): Embedding(20, 8)"
                f"{' twice, concatenated' if mode == 'multichannel' else ''}, ConvolutionalEncoder (Conv1D 3/4/5 "
                "x 4 filters, relu, max over time), Dropout, Dense(2); TN tokens",
            )
        )
    return names


def build(out_dir: Path) -> list[str]:
    folder = scripts_dir()
    names = []
    for maker in (_gnmt, _sentiment):
        names += maker(out_dir, folder)
    return names
