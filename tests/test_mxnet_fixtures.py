"""Converted models against MXNet 1.9.1's own outputs (committed fixtures, tools/make_fixtures.py).

Oracle: MXNet 1.9.1's CPU RNN operator, for everything it computes correctly (all modes, layers, directions,
states, projection). Sequence lengths and clipping are not here: MXNet's CPU operator ignores them
(see test_mxnet_cpu_quirks.py).
"""

from __future__ import annotations

import numpy as np
import pytest

import onnx_rnn
from conftest import RNN_FIXTURES, expected_outputs, feeds_for, load_fixture, plugin_available

# float32 tolerance (1e-5 relative and absolute) for float32 fixtures, and for float64 ones too: ONNX
# Runtime's CPU LSTM/GRU/RNN have no float64 kernels, so float64 models compute in float32 (documented).
RTOL = ATOL = 1e-5
# Projection layers run in our plugin, natively in float64.
RTOL_F64_NATIVE = ATOL_F64_NATIVE = 1e-10


def _ids(paths):
    return [p.stem for p in paths]


def test_fixture_matrix_is_present():
    """The suite must not pass vacuously: the MXNet fixtures are committed."""
    assert len(RNN_FIXTURES) >= 60


@pytest.mark.parametrize("path", RNN_FIXTURES, ids=_ids(RNN_FIXTURES))
def test_converted_model_matches_mxnet(path):
    spec, arrays = load_fixture(path)
    if spec.needs_custom_lstm and not plugin_available():
        pytest.skip("projection needs the onnx-rnn plugin library, which is not built")
    model = onnx_rnn.export_rnn(arrays["parameters"], **_spec_kwargs(spec))
    session = onnx_rnn.InferenceSession(model)
    got = session.run(None, feeds_for(spec, arrays))
    want = expected_outputs(spec, arrays)
    assert [o.name for o in session.get_outputs()] == ["output", "state_output", "state_cell_output"][: len(want)]
    native64 = spec.needs_custom_lstm and arrays["parameters"].dtype == np.float64
    rtol, atol = (RTOL_F64_NATIVE, ATOL_F64_NATIVE) if native64 else (RTOL, ATOL)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def _spec_kwargs(spec):
    return dict(
        mode=spec.mode,
        state_size=spec.state_size,
        num_layers=spec.num_layers,
        bidirectional=spec.bidirectional,
        p=spec.p,
        state_outputs=spec.state_outputs,
        projection_size=spec.projection_size,
    )
