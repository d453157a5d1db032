"""Converted models against PyTorch's nn.LSTM / nn.GRU / nn.RNN with the same weights.

PyTorch's per-layer parameter layout and gate orders are MXNet's (LSTM i,f,g,o; GRU r,z,n with the reset
gate applied after the recurrent product), so the weights are loaded from the same flat MXNet vector.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import onnx_rnn  # noqa: E402
from conftest import needs_plugin, random_case  # noqa: E402
from onnx_rnn.params import split_parameters  # noqa: E402
from onnx_rnn.spec import RNNSpec  # noqa: E402


def torch_module(spec: RNNSpec, params: np.ndarray, input_size: int) -> torch.nn.Module:
    kwargs = dict(
        input_size=input_size,
        hidden_size=spec.state_size,
        num_layers=spec.num_layers,
        bidirectional=spec.bidirectional,
        dtype=torch.float64,
    )
    if spec.mode == "lstm":
        module = torch.nn.LSTM(proj_size=spec.projection_size or 0, **kwargs)
    elif spec.mode == "gru":
        module = torch.nn.GRU(**kwargs)
    else:
        module = torch.nn.RNN(nonlinearity="tanh" if spec.mode == "rnn_tanh" else "relu", **kwargs)
    state = {}
    for layer, directions in enumerate(split_parameters(spec, params, input_size)):
        for d, w in enumerate(directions):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            state[f"weight_ih{sfx}"], state[f"weight_hh{sfx}"] = w.i2h_weight, w.h2h_weight
            state[f"bias_ih{sfx}"], state[f"bias_hh{sfx}"] = w.i2h_bias, w.h2h_bias
            if w.h2r_weight is not None:
                state[f"weight_hr{sfx}"] = w.h2r_weight
    module.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float64)) for k, v in state.items()})
    return module.eval()


CASES = [
    ("lstm", 1, False, None),
    ("lstm", 2, True, None),
    ("lstm", 3, False, None),
    ("gru", 1, True, None),
    ("gru", 3, True, None),
    ("gru", 2, False, None),
    ("rnn_tanh", 2, True, None),
    ("rnn_relu", 3, False, None),
    ("rnn_relu", 1, True, None),
    ("lstm", 1, False, 3),
    ("lstm", 2, True, 4),
    ("lstm", 3, True, 2),
]


@pytest.mark.parametrize("mode,layers,bidirectional,projection", CASES)
def test_matches_pytorch(mode, layers, bidirectional, projection):
    spec = RNNSpec(
        mode=mode,
        state_size=6,
        num_layers=layers,
        bidirectional=bidirectional,
        state_outputs=True,
        projection_size=projection,
    )
    if spec.needs_custom_lstm and not __import__("onnx_rnn").runtime.plugin_available():
        pytest.skip("projection needs the onnx-rnn plugin library, which is not built")
    T, N, I = 7, 4, 5
    params, data, state, cell = random_case(spec, T, N, I, seed=layers)
    module = torch_module(spec, params, I)
    with torch.no_grad():
        t = lambda a: torch.from_numpy(a.astype(np.float64))  # noqa: E731
        if mode == "lstm":
            out, (hy, cy) = module(t(data), (t(state), t(cell)))
            want = [out, hy, cy]
        else:
            out, hy = module(t(data), t(state))
            want = [out, hy]
    model = onnx_rnn.export_rnn(
        params,
        mode=mode,
        state_size=6,
        num_layers=layers,
        bidirectional=bidirectional,
        state_outputs=True,
        projection_size=projection,
    )
    feeds = {"data": data, "state": state} | ({"state_cell": cell} if mode == "lstm" else {})
    got = onnx_rnn.InferenceSession(model).run(None, feeds)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w.numpy(), rtol=1e-5, atol=1e-5)


@needs_plugin
def test_pytorch_lstmp_float64_exact():
    """Projection in float64 runs natively in the plugin: agreement with PyTorch to float64 precision."""
    spec = RNNSpec(mode="lstm", state_size=8, num_layers=2, bidirectional=True, state_outputs=True, projection_size=3)
    params, data, state, cell = random_case(spec, 6, 3, 4, dtype=np.float64, seed=7)
    with torch.no_grad():
        out, (hy, cy) = torch_module(spec, params, 4)(
            torch.from_numpy(data), (torch.from_numpy(state), torch.from_numpy(cell))
        )
    model = onnx_rnn.export_rnn(
        params, mode="lstm", state_size=8, num_layers=2, bidirectional=True, state_outputs=True, projection_size=3
    )
    got = onnx_rnn.InferenceSession(model).run(None, {"data": data, "state": state, "state_cell": cell})
    for g, w in zip(got, (out, hy, cy)):
        np.testing.assert_allclose(g, w.numpy(), rtol=1e-11, atol=1e-12)
