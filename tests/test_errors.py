"""Bad arguments raise OnnxRnnError with a message naming what is wrong and what was expected."""

from __future__ import annotations

import numpy as np
import pytest

import onnx_rnn
from onnx_rnn import OnnxRnnError
from onnx_rnn.spec import RNNSpec

GOOD_LSTM = np.zeros(RNNSpec(mode="lstm", state_size=4).param_count(3), dtype=np.float32)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(mode="lstmx", state_size=4), "unknown mode 'lstmx'"),
        (dict(mode="lstm", state_size=0), "state_size must be an integer >= 1"),
        (dict(mode="lstm", state_size=4, num_layers=0), "num_layers must be an integer >= 1"),
        (dict(mode="lstm", state_size=4, num_layers=1.5), "num_layers must be an integer"),
        (dict(mode="gru", state_size=4, projection_size=2), "projection_size is only valid for mode lstm"),
        (dict(mode="lstm", state_size=4, projection_size=4), "projection_size must be smaller than state_size"),
        (dict(mode="lstm", state_size=4, projection_size=0), "projection_size must be an integer >= 1"),
        (
            dict(mode="rnn_tanh", state_size=4, lstm_state_clip_min=-1.0, lstm_state_clip_max=1.0),
            "only valid for mode lstm",
        ),
        (dict(mode="lstm", state_size=4, lstm_state_clip_min=-1.0), "must be given together"),
        (dict(mode="lstm", state_size=4, lstm_state_clip_max=1.0), "must be given together"),
        (dict(mode="lstm", state_size=4, lstm_state_clip_min=1.0, lstm_state_clip_max=-1.0), "must not exceed"),
        (
            dict(mode="lstm", state_size=4, lstm_state_clip_min=float("nan"), lstm_state_clip_max=1.0),
            "must be a number",
        ),
        (dict(mode="lstm", state_size=4, p=1.5), "p (dropout) must be in [0, 1)"),
        (dict(mode="lstm", state_size=4, bidirectional="abc"), "bidirectional must be True or False"),
        (dict(mode="lstm", state_size=4, use_sequence_length=1), "use_sequence_length must be True or False"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(OnnxRnnError) as error:
        onnx_rnn.export_rnn(GOOD_LSTM, **kwargs)
    assert message in str(error.value)


def test_vector_length_fitting_no_input_size():
    with pytest.raises(OnnxRnnError, match=r"length 7 fits no input size .* expected 96 \+ 16 \* I"):
        onnx_rnn.export_rnn(np.zeros(7, np.float32), mode="lstm", state_size=4)


def test_input_size_disagreeing_with_vector():
    with pytest.raises(OnnxRnnError, match="input_size=5 disagrees .* means input_size=3"):
        onnx_rnn.export_rnn(GOOD_LSTM, mode="lstm", state_size=4, input_size=5)


@pytest.mark.parametrize(
    "params,message",
    [
        (np.zeros((2, 80), np.float32), "must be a 1-D vector"),
        (np.zeros(160, np.int32), "must be float16, float32 or float64"),
    ],
)
def test_bad_parameter_arrays(params, message):
    with pytest.raises(OnnxRnnError, match=message):
        onnx_rnn.export_rnn(params, mode="lstm", state_size=4)


@pytest.mark.parametrize("opset", [5, 1000, "17"])
def test_bad_opset(opset):
    with pytest.raises(OnnxRnnError, match="opset must be an integer"):
        onnx_rnn.export_rnn(GOOD_LSTM, mode="lstm", state_size=4, opset=opset)


def test_mxnet_attribute_strings():
    spec = RNNSpec.from_mxnet_attrs(
        {
            "mode": "lstm",
            "state_size": "8",
            "num_layers": "2",
            "bidirectional": "True",
            "p": "0.2",
            "projection_size": "None",
            "lstm_state_clip_min": "-1.5",
            "lstm_state_clip_max": "2",
            "__layout__": "TNC",
        }
    )
    assert (spec.state_size, spec.num_layers, spec.bidirectional, spec.p) == (8, 2, True, 0.2)
    assert spec.projection_size is None and spec.lstm_state_clip_max == 2
    with pytest.raises(OnnxRnnError, match="unknown RNN attribute"):
        RNNSpec.from_mxnet_attrs({"mode": "lstm", "state_size": "8", "hidden": "3"})
    with pytest.raises(OnnxRnnError, match="need 'mode' and 'state_size'"):
        RNNSpec.from_mxnet_attrs({"mode": "lstm"})


def test_session_rejects_wrong_input_shape():
    from onnx_rnn.session import run_model

    model = onnx_rnn.export_rnn(GOOD_LSTM, mode="lstm", state_size=4)
    good = {
        "data": np.zeros((2, 3, 3), np.float32),
        "state": np.zeros((1, 3, 4), np.float32),
        "state_cell": np.zeros((1, 3, 4), np.float32),
    }
    assert run_model(model, good)["output"].shape == (2, 3, 4)
    with pytest.raises(OnnxRnnError, match=r"input 'data' must have shape \(time, batch, 3\), got \(2, 3, 5\)"):
        run_model(model, good | {"data": np.zeros((2, 3, 5), np.float32)})
    with pytest.raises(OnnxRnnError, match="dimension batch is 3 in input 'data' but 2 in input 'state'"):
        run_model(model, good | {"state": np.zeros((1, 2, 4), np.float32)})
    with pytest.raises(OnnxRnnError, match="must be float32, got float64"):
        run_model(model, good | {"data": np.zeros((2, 3, 3))})
    with pytest.raises(OnnxRnnError, match=r"missing \['state_cell'\]"):
        run_model(model, {k: v for k, v in good.items() if k != "state_cell"})


def test_cuda_requested_where_unavailable():
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("CUDA is available here")
    model = onnx_rnn.export_rnn(GOOD_LSTM, mode="lstm", state_size=4)
    with pytest.raises(OnnxRnnError, match="CUDAExecutionProvider not available"):
        onnx_rnn.InferenceSession(model, providers=["CUDAExecutionProvider"])
    with pytest.warns(UserWarning, match="CUDAExecutionProvider not available; running on CPUExecutionProvider"):
        session = onnx_rnn.InferenceSession(model, providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert session.get_providers() == ["CPUExecutionProvider"]
