"""Real-shaped PyTorch models through onnx_rnn.torch.export, PyTorch being the oracle; and the front end's
errors. Each model is exported once with dynamic axes and run at several shapes."""

from __future__ import annotations

import io

import numpy as np
import onnx
import pytest

torch = pytest.importorskip("torch")

from torch_cases import sessions  # noqa: E402 (after importorskip)

import onnx_rnn.torch as ort_torch  # noqa: E402 (after importorskip)
from onnx_rnn import OnnxRnnError  # noqa: E402 (after importorskip)

TOL = 1e-5


def export_bytes(model, args, **options) -> bytes:
    buffer = io.BytesIO()
    ort_torch.export(model, args, buffer, **options)
    return buffer.getvalue()


def assert_close(got, want) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w.detach().numpy(), rtol=TOL, atol=TOL)


class Tagger(torch.nn.Module):
    """Linear -> 2-layer bidirectional LSTMP (batch_first) -> Linear, like a speech/text tagger."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Linear(10, 16)
        self.lstm = torch.nn.LSTM(16, 32, num_layers=2, proj_size=8, batch_first=True, bidirectional=True)
        self.classify = torch.nn.Linear(16, 5)

    def forward(self, x):
        y, _ = self.lstm(torch.tanh(self.embed(x)))
        return self.classify(y).log_softmax(-1)


def test_tagger_batch_first_lstmp():
    torch.manual_seed(0)
    model = Tagger().eval()
    data = export_bytes(
        model,
        (torch.randn(2, 7, 10),),
        input_names=["features"],
        output_names=["scores"],
        dynamic_axes={"features": {0: "N", 1: "T"}, "scores": {0: "N", 1: "T"}},
    )
    for session in sessions(data).values():
        for N, T in ((2, 7), (1, 1), (4, 23)):
            x = torch.randn(N, T, 10)
            assert_close(session.run(None, {"features": x.numpy()}), [model(x)])


class EncoderStep(torch.nn.Module):
    """An LSTM transducer encoder step: features and states in, encodings and new states out (streaming)."""

    def __init__(self) -> None:
        super().__init__()
        self.inp = torch.nn.Linear(12, 24)
        self.lstm = torch.nn.LSTM(24, 40, num_layers=3, proj_size=16)
        self.out = torch.nn.Linear(16, 20)

    def forward(self, x, h, c):
        y, (h, c) = self.lstm(self.inp(x), (h, c))
        return self.out(y), h, c


def test_transducer_encoder_streaming_equals_whole_sequence():
    torch.manual_seed(1)
    model = EncoderStep().eval()
    h0, c0 = torch.zeros(3, 2, 16), torch.zeros(3, 2, 40)
    data = export_bytes(
        model,
        (torch.randn(4, 2, 12), h0, c0),
        input_names=["x", "h", "c"],
        output_names=["enc", "h_out", "c_out"],
        dynamic_axes={"x": {0: "T", 1: "N"}, "h": {1: "N"}, "c": {1: "N"}, "enc": {0: "T", 1: "N"}},
    )
    x = torch.randn(15, 2, 12)
    with torch.no_grad():
        whole = model(x, h0, c0)
    for session in sessions(data).values():
        h, c, encodings = h0.numpy(), c0.numpy(), []
        for start, stop in ((0, 1), (1, 5), (5, 6), (6, 15)):  # chunks of 1, 4, 1 and 9 frames
            enc, h, c = session.run(None, {"x": x[start:stop].numpy(), "h": h, "c": c})
            encodings.append(enc)
        assert_close([np.concatenate(encodings), h, c], whole)


class GruLanguageModel(torch.nn.Module):
    """Embedding -> 2-layer GRU -> Linear over the vocabulary, with the state carried in and out."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(50, 16)
        self.gru = torch.nn.GRU(16, 24, num_layers=2, batch_first=True)
        self.logits = torch.nn.Linear(24, 50)

    def forward(self, tokens, state):
        y, state = self.gru(self.embed(tokens), state)
        return self.logits(y), state


def test_gru_language_model():
    torch.manual_seed(2)
    model = GruLanguageModel().eval()
    data = export_bytes(
        model,
        (torch.randint(0, 50, (2, 6)), torch.zeros(2, 2, 24)),
        input_names=["tokens", "state"],
        output_names=["logits", "state_out"],
        dynamic_axes={"tokens": {0: "N", 1: "T"}, "state": {1: "N"}, "logits": {0: "N", 1: "T"}},
    )
    for session in sessions(data).values():
        for N, T in ((2, 6), (3, 1), (1, 17)):
            tokens, state = torch.randint(0, 50, (N, T)), 0.3 * torch.randn(2, N, 24)
            got = session.run(None, {"tokens": tokens.numpy(), "state": state.numpy()})
            with torch.no_grad():
                assert_close(got, model(tokens, state))


class TwoCalls(torch.nn.Module):
    """One LSTMP called twice (two utterances), and a second, differently configured LSTMP in a Python loop."""

    def __init__(self) -> None:
        super().__init__()
        self.shared = torch.nn.LSTM(6, 12, proj_size=6)
        self.other = torch.nn.LSTM(6, 10, proj_size=3, bidirectional=True)

    def forward(self, a, b):
        ya, (h, c) = self.shared(a)
        yb, _ = self.shared(b, (h, c))
        outs = []
        state = None
        for t in range(3):  # unrolled by tracing: three calls of one step each, states carried
            y, state = self.other(ya[t : t + 1], state)
            outs.append(y)
        return yb, torch.cat(outs)


def test_module_called_twice_and_in_a_python_loop():
    torch.manual_seed(3)
    model = TwoCalls().eval()
    data = export_bytes(
        model,
        (torch.randn(3, 2, 6), torch.randn(4, 2, 6)),
        input_names=["a", "b"],
        dynamic_axes={"a": {1: "N"}, "b": {0: "T", 1: "N"}},
    )
    exported = onnx.load_from_string(data)
    # differently configured layers: one fallback function (the first configuration's); the other layers are
    # standard operators, since ORT before 1.27 and onnx.reference do not resolve function overloads
    assert len(exported.functions) == 1
    assert any(n.domain == "onnx_rnn" for n in exported.graph.node)
    # one copy of each module's weights, however often it is called: no two weight initializers hold the same data
    weights = [t.raw_data for t in exported.graph.initializer if t.raw_data and onnx.numpy_helper.to_array(t).size > 8]
    assert len(weights) >= 2 and len(set(weights)) == len(weights)
    for session in sessions(data).values():
        for N, T in ((2, 4), (1, 9)):
            a, b = torch.randn(3, N, 6), torch.randn(T, N, 6)
            with torch.no_grad():
                assert_close(session.run(None, {"a": a.numpy(), "b": b.numpy()}), model(a, b))


def test_bare_module_export_and_unbatched_input(tmp_path):
    torch.manual_seed(4)
    lstm = torch.nn.LSTM(5, 7, num_layers=2, proj_size=3).eval()
    path = tmp_path / "lstm.onnx"
    ort_torch.export(lstm, (torch.randn(4, 5),), path, input_names=["x"], dynamic_axes={"x": {0: "T"}})
    session = sessions(path.read_bytes())["plain"]
    x = torch.randn(9, 5)
    with torch.no_grad():
        y, (h, c) = lstm(x)
    assert_close(session.run(None, {"x": x.numpy()}), [y, h, c])


@pytest.mark.parametrize("mode", ["lstm", "lstmp", "gru", "rnn_relu"])
def test_export_rnn_module_names_and_values(mode):
    torch.manual_seed(5)
    module = (
        torch.nn.LSTM(4, 6, num_layers=2, proj_size=3 if mode == "lstmp" else 0, batch_first=True, bias=False)
        if mode.startswith("lstm")
        else torch.nn.GRU(4, 6, bidirectional=True)
        if mode == "gru"
        else torch.nn.RNN(4, 6, nonlinearity="relu", num_layers=3, batch_first=True)
    ).eval()
    model = ort_torch.export_rnn_module(module)
    lstm = mode.startswith("lstm")
    assert [i.name for i in model.graph.input] == ["data", "state"] + ["state_cell"] * lstm
    assert [o.name for o in model.graph.output] == ["output", "state_output"] + ["state_cell_output"] * lstm
    L, D = module.num_layers, 2 if module.bidirectional else 1
    R = module.proj_size if lstm and module.proj_size else module.hidden_size
    N, T = 3, 8
    x = torch.randn((N, T, 4) if module.batch_first else (T, N, 4))
    h0, c0 = torch.randn(L * D, N, R), torch.randn(L * D, N, 6)
    feeds = {"data": x.numpy(), "state": h0.numpy()} | ({"state_cell": c0.numpy()} if lstm else {})
    with torch.no_grad():
        y, s = module(x, (h0, c0) if lstm else h0)
    want = [y, *s] if lstm else [y, s]
    for session in sessions(model.SerializeToString()).values():
        assert_close(session.run(None, feeds), want)
    zero = ort_torch.export_rnn_module(module, initial_state=False)
    assert [i.name for i in zero.graph.input] == ["data"]


def test_scripted_model_is_refused():
    scripted = torch.jit.script(torch.nn.Sequential(torch.nn.Linear(3, 3)))
    with pytest.raises(OnnxRnnError, match="not a TorchScript module"):
        ort_torch.export(scripted, (torch.randn(2, 3),), io.BytesIO())


def test_packed_sequence_is_refused_and_the_model_is_restored():
    class Packed(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = torch.nn.LSTM(3, 4)

        def forward(self, x):
            packed = torch.nn.utils.rnn.pack_padded_sequence(x, [x.shape[0]] * x.shape[1])
            return self.lstm(packed)[1][0]

    model = Packed()
    original = model.lstm
    with pytest.raises(OnnxRnnError, match="PackedSequence"):
        ort_torch.export(model, (torch.randn(5, 2, 3),), io.BytesIO())
    assert model.lstm is original


def test_bad_options_are_refused(tmp_path):
    lstm = torch.nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(OnnxRnnError, match="exclude each other"):
        ort_torch.export(lstm, (torch.randn(5, 2, 3),), io.BytesIO(), portable=True, plugin_only=True)
    with pytest.raises(OnnxRnnError, match="opset"):
        ort_torch.export(lstm, (torch.randn(5, 2, 3),), io.BytesIO(), opset=7)
    with pytest.raises(OnnxRnnError, match="does not exist"):
        ort_torch.export(lstm, (torch.randn(5, 2, 3),), tmp_path / "missing" / "m.onnx")
    with pytest.raises(OnnxRnnError, match="nn.LSTM, nn.GRU or nn.RNN"):
        ort_torch.export_rnn_module(torch.nn.Linear(2, 2))


class ReadsModuleAttributes(torch.nn.Module):
    """A forward that builds its initial state from the RNN's attributes, as much real code does."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = torch.nn.RNN(4, 5, num_layers=2, nonlinearity="relu", batch_first=True)

    def forward(self, x):
        h0 = 0.1 * torch.ones(self.rnn.num_layers, x.shape[0], self.rnn.hidden_size)
        return self.rnn(x, h0)[0]


def test_forward_reading_module_attributes():
    torch.manual_seed(6)
    model = ReadsModuleAttributes().eval()
    data = export_bytes(model, (torch.randn(2, 3, 4),), input_names=["x"], dynamic_axes={"x": {0: "N", 1: "T"}})
    session = sessions(data)["plain"]
    for N, T in ((2, 3), (5, 8)):
        x = torch.randn(N, T, 4)
        with torch.no_grad():
            assert_close(session.run(None, {"x": x.numpy()}), [model(x)])


def test_bare_module_dimensions_are_named_time_and_batch_as_on_every_path():
    model = ort_torch.export_rnn_module(torch.nn.LSTM(5, 7, proj_size=3), initial_state=True)
    dims = {i.name: [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
    assert dims["data"] == ["time", "batch", 5]
    assert dims["state"] == [1, "batch", 3] and dims["state_cell"] == [1, "batch", 7]
