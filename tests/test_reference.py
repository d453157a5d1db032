"""The NumPy reference itself, against an oracle nobody here wrote (MXNet 1.9.1's fixtures), and its
semantics where MXNet's CPU operator is wrong (clipping, sequence lengths; README, Semantics)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import RNN_FIXTURES, expected_outputs, load_fixture
from onnx_rnn.reference import rnn, run_spec


@pytest.mark.parametrize("path", RNN_FIXTURES, ids=[p.stem for p in RNN_FIXTURES])
def test_reference_matches_mxnet(path):
    spec, a = load_fixture(path)
    got = run_spec(spec, a["data"], a["parameters"], a["state"], a.get("state_cell"))
    want = expected_outputs(spec, a)
    exact64 = a["data"].dtype == np.float64 and spec.mode != "rnn_relu"  # MXNet rounds float64 ReLU to float32
    tol = 1e-12 if exact64 else 1e-5
    for g, w in zip([g for g in got if g is not None], want):
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


def test_clipping_nan_handling():
    """clip_nan=True turns NaN cells into clip_min (fmax/fmin); False lets NaN through."""
    H, I = 2, 1
    params = np.zeros(4 * H * I + 4 * H * H + 8 * H)
    data = np.full((1, 1, I), np.nan)
    kwargs = dict(mode="lstm", state_size=H, lstm_state_clip_min=-0.5, lstm_state_clip_max=0.5)
    _, _, cy = rnn(data, params, lstm_state_clip_nan=True, **kwargs)
    np.testing.assert_array_equal(cy, np.full((1, 1, H), -0.5))
    _, _, cy = rnn(data, params, lstm_state_clip_nan=False, **kwargs)
    assert np.isnan(cy).all()


def test_sequence_length_semantics():
    """Padded steps are zero; a zero length keeps the initial state; backward starts at len-1."""
    rng = np.random.default_rng(0)
    H, I, T = 3, 2, 4
    params = rng.uniform(-0.5, 0.5, 2 * (H * I + H * H + 2 * H))
    data = rng.standard_normal((T, 2, I))
    state = rng.standard_normal((2, 2, H))
    lengths = np.array([2, 0])
    out, hy, _ = rnn(
        data, params, mode="rnn_tanh", state_size=H, bidirectional=True, state=state, sequence_length=lengths
    )
    assert np.all(out[2:, 0] == 0) and np.all(out[:, 1] == 0)
    np.testing.assert_array_equal(hy[:, 1], state[:, 1])
    short, hy_short, _ = rnn(
        data[:2, :1], params, mode="rnn_tanh", state_size=H, bidirectional=True, state=state[:, :1]
    )
    np.testing.assert_allclose(out[:2, :1], short)
    np.testing.assert_allclose(hy[:, :1], hy_short)
