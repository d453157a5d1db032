"""GluonTS 0.13 models on MXNet 1.9.1: DeepAR's deterministic network and MQ-RNN's quantile forecaster.

Needs its own venv: ``tools/zoo_env_examples.sh gluonts``, then
``.venv-zoo-gluonts/bin/python tools/make_zoo.py gluonts_models``.

The networks come from the estimators' own factories (``create_training_network``), with random weights,
hybridized and exported with ``HybridBlock.export`` (inputs ``data0``, ``data1``, ... in the forward
signature's order). DeepAR's prediction network samples (not convertible as a deterministic model); what
converts is the training network: with a Gaussian output its (weighted) negative log-likelihood, and the
distribution arguments a Student-t head projects from the unrolled LSTM, which the sampler draws from.
"""

from __future__ import annotations

from pathlib import Path

import gluonts
import mxnet as mx
import numpy as np
from gluonts.mx.block.enc2dec import FutureFeatIntegratorEnc2Dec
from gluonts.mx.distribution import GaussianOutput, StudentTOutput
from gluonts.mx.model.deepar import DeepAREstimator
from gluonts.mx.model.deepar._network import DeepARTrainingNetwork
from gluonts.mx.model.seq2seq import MQRNNEstimator
from gluonts.mx.model.seq2seq._forking_network import ForkingSeq2SeqPredictionNetwork
from gluonts.mx.trainer import Trainer

from .common import model_dir, write_entry

FAMILY = "gluonts"
SOURCE = f"mxnet {mx.__version__} CPU forward pass, gluonts {gluonts.__version__} (random weights)"


class DeepARDistributionArgs(DeepARTrainingNetwork):
    """DeepAR's deterministic core: unroll the encoder over past and future target, project the distribution
    arguments (what ``distribution()`` builds its Distribution from), and the scale."""

    def hybrid_forward(  # type: ignore[override]
        self,
        F,
        feat_static_cat,
        feat_static_real,
        past_time_feat,
        past_target,
        past_observed_values,
        past_is_pad,
        future_time_feat,
        future_target,
        future_observed_values,
    ):
        rnn_outputs, _, scale, _, _ = self.unroll_encoder(
            F=F,
            feat_static_cat=feat_static_cat,
            feat_static_real=feat_static_real,
            past_time_feat=past_time_feat,
            past_target=past_target,
            past_observed_values=past_observed_values,
            past_is_pad=past_is_pad,
            future_observed_values=future_observed_values,
            future_time_feat=future_time_feat,
            future_target=future_target,
        )
        return tuple(self.proj_distr_args(rnn_outputs)) + (scale,)


def _export(
    net: mx.gluon.HybridBlock, inputs: list[np.ndarray], out_dir: Path, name: str, what: str, needs_ops: list[str]
) -> str:
    net.initialize(mx.init.Uniform(0.3))
    net.hybridize()
    outputs = net(*[mx.nd.array(a) for a in inputs])
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    folder = model_dir(out_dir, name)
    net.export(str(folder / name), 0)
    names = ["data"] if len(inputs) == 1 else [f"data{i}" for i in range(len(inputs))]
    # Gluon writes no shapes for data0..: give them (batch symbolic), as a GluonTS user knows them from the
    # estimator; several inputs meet only ops (stack, batch_dot of the lags) that do not fix their rank
    args = [f"--input-shape={n}=batch," + ",".join(str(d) for d in a.shape[1:]) for n, a in zip(names, inputs)]
    write_entry(
        folder,
        name,
        dict(zip(names, inputs)),
        [o.asnumpy() for o in outputs],
        FAMILY,
        what,
        args,
        source=SOURCE,
        needs_ops=needs_ops,
    )
    return name


def _deepar_inputs(rng: np.random.Generator, est: DeepAREstimator, batch: int, time_feats: int) -> list[np.ndarray]:
    history, prediction = est.history_length, est.prediction_length
    target = rng.uniform(1, 10, (batch, history + prediction)).astype(np.float32)
    observed = (rng.uniform(0, 1, target.shape) > 0.1).astype(np.float32)
    return [
        rng.integers(0, 3, (batch, 1)).astype(np.float32),  # feat_static_cat
        rng.uniform(0, 1, (batch, 1)).astype(np.float32),  # feat_static_real
        rng.normal(0, 1, (batch, history, time_feats)).astype(np.float32),  # past_time_feat
        target[:, :history],  # past_target
        observed[:, :history],  # past_observed_values
        np.zeros((batch, history), np.float32),  # past_is_pad
        rng.normal(0, 1, (batch, prediction, time_feats)).astype(np.float32),  # future_time_feat
        target[:, history:],  # future_target
        observed[:, history:],  # future_observed_values
    ]


def _deepar_estimator(distr_output, cell_type: str) -> DeepAREstimator:
    return DeepAREstimator(
        freq="H",
        prediction_length=3,
        context_length=6,
        num_layers=2,
        num_cells=8,
        cell_type=cell_type,
        dropout_rate=0.0,
        use_feat_static_cat=True,
        use_feat_static_real=True,
        cardinality=[3],
        embedding_dimension=[2],
        lags_seq=[1, 2, 4],
        distr_output=distr_output,
        trainer=Trainer(epochs=1),
    )


def deepar_gaussian(out_dir: Path) -> str:
    est = _deepar_estimator(GaussianOutput(), "lstm")
    net = est.create_training_network()
    rng = np.random.default_rng(20)
    inputs = _deepar_inputs(rng, est, 2, 5)
    what = (
        "GluonTS DeepAREstimator(num_layers=2, num_cells=8, lstm, Gaussian).create_training_network(): lags, "
        "mean scaler, static-cat Embedding, 2 unrolled LSTMCells (the second residual); heads the weighted and "
        "per-step negative log-likelihood; 9 inputs data0..data8 (feat_static_cat ... future_observed_values)"
    )
    return _export(net, inputs, out_dir, "deepar_gaussian", what, ["repeat"])


def deepar_student_t(out_dir: Path) -> str:
    est = _deepar_estimator(StudentTOutput(), "gru")
    template = est.create_training_network()
    net = DeepARDistributionArgs(**template.__init_args__)
    rng = np.random.default_rng(21)
    inputs = _deepar_inputs(rng, est, 2, 5)
    what = (
        "GluonTS DeepAR (num_layers=2, num_cells=8, gru, Student-t): the training network's unroll_encoder and "
        "proj_distr_args, i.e. the distribution arguments mu, sigma, nu the sampler draws from, and the scale"
    )
    return _export(net, inputs, out_dir, "deepar_student_t", what, ["repeat"])


def mqrnn(out_dir: Path) -> str:
    est = MQRNNEstimator(
        prediction_length=3, freq="H", context_length=6, decoder_mlp_dim_seq=[6], quantiles=[0.1, 0.5, 0.9]
    )
    net = ForkingSeq2SeqPredictionNetwork(
        encoder=est.encoder,
        enc2dec=FutureFeatIntegratorEnc2Dec(),
        decoder=est.decoder,
        quantile_output=est.quantile_output,
        distr_output=est.distr_output,
        context_length=est.context_length,
        num_forking=est.num_forking,
        cardinality=est.cardinality,
        embedding_dimension=est.embedding_dimension,
        scaling=est.scaling,
        scaling_decoder_dynamic_feature=est.scaling_decoder_dynamic_feature,
        dtype=est.dtype,
    )
    rng = np.random.default_rng(22)
    batch, enc_len, dec_len = 2, est.context_length, est.prediction_length
    inputs = [
        rng.uniform(1, 10, (batch, enc_len, 1)).astype(np.float32),  # past_target
        rng.normal(0, 1, (batch, enc_len, 1)).astype(np.float32),  # past_feat_dynamic
        rng.normal(0, 1, (batch, est.num_forking, dec_len, 1)).astype(np.float32),  # future_feat_dynamic
        np.zeros((batch, 1), np.float32),  # feat_static_cat
        np.ones((batch, enc_len, 1), np.float32),  # past_observed_values
    ]
    what = (
        "GluonTS MQRNNEstimator(prediction_length=3, context_length=6, quantiles 0.1/0.5/0.9): "
        "ForkingSeq2SeqPredictionNetwork, a bidirectional GRU(50) encoder (gluon rnn.GRU), forking MLP "
        "decoder, incremental quantile output; inputs past_target, past/future dynamic features, "
        "feat_static_cat, past_observed_values"
    )
    return _export(net, inputs, out_dir, "mqrnn", what, ["_np_cumsum"])


def build(out_dir: Path) -> list[str]:
    return [make(out_dir) for make in (deepar_gaussian, deepar_student_t, mqrnn)]
