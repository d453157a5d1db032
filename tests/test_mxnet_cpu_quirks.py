"""Where MXNet 1.9.1's CPU operator is wrong, and that we are right.

MXNet's default CPU path silently ignores ``lstm_state_clip_min/max`` and ``sequence_length``: the committed
fixtures (tests/fixtures/mxnet_cpu_quirks) hold its output, bit-identical to running without those arguments.
The oracle for the correct semantics is our NumPy reference (the README's Semantics: cuDNN's semantics), and
the fixtures show the difference is real: a converted model must match the reference and differ from MXNet.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import onnx_rnn
from conftest import QUIRK_FIXTURES, expected_outputs, feeds_for, load_fixture, plugin_available
from onnx_rnn.reference import run_spec


def test_quirk_fixtures_present():
    assert len(QUIRK_FIXTURES) >= 5


@pytest.mark.parametrize("path", QUIRK_FIXTURES, ids=[p.stem for p in QUIRK_FIXTURES])
def test_mxnet_cpu_ignores_argument_and_we_do_not(path):
    spec, arrays = load_fixture(path)
    mxnet_out = expected_outputs(spec, arrays)
    lengths = arrays.get("sequence_length")
    correct = run_spec(
        spec,
        arrays["data"],
        arrays["parameters"],
        arrays["state"],
        arrays.get("state_cell"),
        lengths if spec.use_sequence_length else None,
    )
    ignoring = run_spec(
        dataclasses.replace(
            spec,
            lstm_state_clip_min=None,
            lstm_state_clip_max=None,
            lstm_state_clip_nan=False,
            use_sequence_length=False,
        ),
        arrays["data"],
        arrays["parameters"],
        arrays["state"],
        arrays.get("state_cell"),
    )
    # MXNet's output is the result of ignoring the argument ...
    np.testing.assert_allclose(mxnet_out[0], ignoring[0], rtol=1e-5, atol=1e-5)
    # ... which is far from the correct result.
    assert np.max(np.abs(mxnet_out[0] - correct[0])) > 0.1

    if spec.needs_custom_lstm and not plugin_available():
        pytest.skip("clipping needs the onnx-rnn plugin library, which is not built")
    model = onnx_rnn.export_rnn(
        arrays["parameters"], **{f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}
    )
    got = onnx_rnn.InferenceSession(model).run(None, feeds_for(spec, arrays))
    for g, want in zip(got, [c for c in correct if c is not None]):
        np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-5)
