"""Random configurations: converted model == NumPy reference (hypothesis).

The reference (onnx_rnn.reference) is itself checked against MXNet's fixtures and PyTorch in
test_reference.py, so agreement here extends those oracles to configurations no fixture covers,
including sequence lengths (0 and full length among them) and zero initial states.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import onnx_rnn
from conftest import random_case
from onnx_rnn.reference import run_spec
from onnx_rnn.runtime import plugin_available
from onnx_rnn.spec import RNNSpec


@st.composite
def configurations(draw):
    mode = draw(st.sampled_from(["lstm", "gru", "rnn_tanh", "rnn_relu"]))
    H = draw(st.integers(1, 6))
    custom = mode == "lstm" and plugin_available()
    projection = draw(st.sampled_from([None, None, 1] if custom and H > 1 else [None]))
    clip = draw(st.booleans()) if custom else False
    spec = RNNSpec(
        mode=mode,
        state_size=H,
        num_layers=draw(st.integers(1, 3)),
        bidirectional=draw(st.booleans()),
        state_outputs=True,
        projection_size=projection if projection and projection < H else None,
        lstm_state_clip_min=-0.3 if clip else None,
        lstm_state_clip_max=0.25 if clip else None,
        lstm_state_clip_nan=draw(st.booleans()) if clip else False,
        use_sequence_length=draw(st.booleans()),
    )
    T, N, I = draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.integers(1, 5))
    lengths = draw(st.lists(st.integers(0, T), min_size=N, max_size=N))
    return spec, T, N, I, np.array(lengths, dtype=np.int32), draw(st.booleans()), draw(st.integers(0, 99))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configurations())
def test_converted_model_matches_reference(config):
    spec, T, N, I, lengths, zero_state, seed = config
    params, data, state, cell = random_case(spec, T, N, I, seed=seed)
    model = onnx_rnn.export.export_spec(spec, params, zero_initial_state=zero_state)
    feeds = {"data": data}
    if not zero_state:
        feeds["state"] = state
        if spec.mode == "lstm":
            feeds["state_cell"] = cell
    if spec.use_sequence_length:
        feeds["sequence_length"] = lengths
    got = onnx_rnn.InferenceSession(model).run(None, feeds)
    want = run_spec(
        spec,
        data,
        params,
        None if zero_state else state,
        None if zero_state or spec.mode != "lstm" else cell,
        lengths if spec.use_sequence_length else None,
    )
    for g, w in zip(got, [w for w in want if w is not None]):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
