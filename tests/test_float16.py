"""float16 models with onnx_rnn.LSTM layers (projection, clipping) on the CPU through the plugin.

The converter keeps the model's dtype, so a float16 model's custom nodes are float16; the plugin's CPU kernel
computes them in float32 (docs/custom_op.md, Types). Both the default model (custom node + model-local function)
and the plugin-only model must load and match the float64 reference on the same float16 values.
"""

from __future__ import annotations

import numpy as np
import pytest

import onnx_rnn
from conftest import random_case
from onnx_rnn.reference import run_spec
from onnx_rnn.runtime import plugin_available
from onnx_rnn.spec import RNNSpec

pytestmark = pytest.mark.skipif(
    not plugin_available(),
    reason="the onnx-rnn plugin library is not built (pip install ., or set ONNX_RNN_CUSTOM_OPS_LIBRARY)",
)

TOL = 2e-3

CASES = [
    # (id, layers, bidirectional, projection, clip (min, max) or None, clip_nan, sequence lengths or None)
    ("proj", 2, False, 3, None, False, None),
    ("proj-bi", 2, True, 3, None, False, None),
    ("clip", 1, False, None, (-0.3, 0.25), False, None),
    ("clip-bi-lengths", 2, True, None, (-0.3, 0.25), True, [5, 2, 0]),
    ("proj-clip-bi-lengths", 2, True, 4, (-0.5, 0.4), False, [3, 5, 1]),
    ("proj-clip-wide", 1, True, 70, (-0.4, 0.3), False, [5, 4, 5]),  # P > 64, H > 64: several tiles and chunks
]


def _kwargs(layers, bidirectional, projection, clip, clip_nan, lengths, state_size):
    kw = dict(
        mode="lstm",
        state_size=state_size,
        num_layers=layers,
        bidirectional=bidirectional,
        state_outputs=True,
        projection_size=projection,
        use_sequence_length=lengths is not None,
    )
    if clip is not None:
        kw |= dict(lstm_state_clip_min=clip[0], lstm_state_clip_max=clip[1], lstm_state_clip_nan=clip_nan)
    return kw


@pytest.mark.parametrize("plugin_only", [False, True], ids=["default", "plugin_only"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_float16_model_runs_with_the_plugin(case, plugin_only):
    _, layers, bidirectional, projection, clip, clip_nan, lengths = case
    H = 96 if projection == 70 else 6
    kw = _kwargs(layers, bidirectional, projection, clip, clip_nan, lengths, H)
    spec = RNNSpec(**kw)
    params, data, state, cell = random_case(spec, 5, 3, 4, dtype=np.float16, seed=layers + H)
    model = onnx_rnn.export_rnn(params, plugin_only=plugin_only, **kw)
    assert any(n.domain == "onnx_rnn" for n in model.graph.node)  # the custom node is what runs here
    feeds = {"data": data, "state": state, "state_cell": cell}
    seq = None
    if lengths is not None:
        seq = np.array(lengths, np.int32)
        feeds["sequence_length"] = seq
    got = onnx_rnn.InferenceSession(model).run(None, feeds)
    f64 = lambda a: a.astype(np.float64)  # noqa: E731
    want = run_spec(spec, f64(data), f64(params), f64(state), f64(cell), seq)
    want = [w for w in want if w is not None]
    assert len(got) == len(want) == 3
    for g, w in zip(got, want):
        assert g.dtype == np.float16 and g.shape == w.shape
        np.testing.assert_allclose(g.astype(np.float64), w, rtol=TOL, atol=TOL)
    if clip is not None:  # the cell state output is clipped (elements of length 0 keep their initial cell)
        stepped = got[2] if seq is None else got[2][:, seq > 0]
        assert stepped.max() <= clip[1] and stepped.min() >= clip[0]


def test_float16_default_and_plugin_only_agree():
    """The default model runs the same custom kernel as the plugin-only model (not the function fallback)."""
    kw = _kwargs(2, True, 3, (-0.3, 0.25), False, [5, 2, 4], 6)
    spec = RNNSpec(**kw)
    params, data, state, cell = random_case(spec, 5, 3, 4, dtype=np.float16, seed=1)
    feeds = {"data": data, "state": state, "state_cell": cell, "sequence_length": np.array([5, 2, 4], np.int32)}
    outs = [
        onnx_rnn.InferenceSession(onnx_rnn.export_rnn(params, plugin_only=po, **kw)).run(None, feeds)
        for po in (False, True)
    ]
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
