"""export_rnn: MXNet RNN arguments + flat parameter vector -> a complete, checked ONNX model."""

from __future__ import annotations

import numpy as np
import onnx

from ..errors import OnnxRnnError
from ..params import as_parameter_vector, resolve_input_size
from ..spec import RNNSpec
from .builder import DEFAULT_OPSET, MIN_OPSET, GraphBuilder
from .rnn import emit_rnn

SEQ, BATCH = "time", "batch"  # the same names as checkpoint conversion gives (README: Symbolic dimensions)


def export_rnn(
    parameters: np.ndarray,
    *,
    mode: str,
    state_size: int,
    num_layers: int = 1,
    bidirectional: bool = False,
    p: float = 0.0,
    state_outputs: bool = False,
    projection_size: int | None = None,
    lstm_state_clip_min: float | None = None,
    lstm_state_clip_max: float | None = None,
    lstm_state_clip_nan: bool = False,
    use_sequence_length: bool = False,
    input_size: int | None = None,
    zero_initial_state: bool = False,
    opset: int | None = None,
    portable: bool = False,
    plugin_only: bool = False,
) -> onnx.ModelProto:
    """Convert one MXNet ``RNN`` operator into an ONNX model.

    Graph inputs: ``data`` (T, N, I), ``state`` (L*D, N, R), ``state_cell`` (L*D, N, H; LSTM),
    ``sequence_length`` (N,) int32 (with ``use_sequence_length``); the states are absent with
    ``zero_initial_state``. Outputs: ``output`` (T, N, D*R), and with ``state_outputs`` ``state_output``
    and ``state_cell_output`` (LSTM). T and N are symbolic. ``p`` (dropout) is accepted and ignored:
    dropout acts only in training.

    LSTM layers with projection or clipping: by default an ``onnx_rnn.LSTMP`` node (the plugin's fast kernel)
    backed by a model-local function of the same name that runtimes without the plugin inline (standard
    operators); ``portable=True`` writes standard operators only, ``plugin_only=True`` the bare custom node.
    """
    spec = RNNSpec(
        mode=mode,
        state_size=state_size,
        num_layers=num_layers,
        bidirectional=bidirectional,
        p=p,
        state_outputs=state_outputs,
        projection_size=projection_size,
        lstm_state_clip_min=lstm_state_clip_min,
        lstm_state_clip_max=lstm_state_clip_max,
        lstm_state_clip_nan=lstm_state_clip_nan,
        use_sequence_length=use_sequence_length,
    )
    return export_spec(
        spec,
        parameters,
        input_size=input_size,
        zero_initial_state=zero_initial_state,
        opset=opset,
        portable=portable,
        plugin_only=plugin_only,
    )


def export_spec(
    spec: RNNSpec,
    parameters: np.ndarray,
    *,
    input_size: int | None = None,
    zero_initial_state: bool = False,
    opset: int | None = None,
    portable: bool = False,
    plugin_only: bool = False,
) -> onnx.ModelProto:
    """Like :func:`export_rnn`, taking an :class:`RNNSpec`."""
    parameters = as_parameter_vector(parameters)
    input_size = resolve_input_size(spec, parameters.size, input_size)
    builder = GraphBuilder(check_opset(opset))
    dtype = parameters.dtype
    LD, H, R = spec.num_layers * spec.directions, spec.state_size, spec.output_size

    data = builder.add_input("data", dtype, [SEQ, BATCH, input_size])
    state = state_cell = lengths = None
    if not zero_initial_state:
        state = builder.add_input("state", dtype, [LD, BATCH, R])
        if spec.mode == "lstm":
            state_cell = builder.add_input("state_cell", dtype, [LD, BATCH, H])
    if spec.use_sequence_length:
        lengths = builder.add_input("sequence_length", np.int32, [BATCH])

    outs = emit_rnn(
        builder,
        spec,
        parameters,
        data=data,
        state=state,
        state_cell=state_cell,
        sequence_length=lengths,
        input_size=input_size,
        backend=layer_backend(portable, plugin_only),
    )
    builder.add_output(builder.rename_to_output(outs.output, "output"), dtype, [SEQ, BATCH, spec.directions * R])
    if spec.state_outputs:
        builder.add_output(builder.rename_to_output(outs.state_output, "state_output"), dtype, [LD, BATCH, R])
        if outs.state_cell_output is not None:
            builder.add_output(
                builder.rename_to_output(outs.state_cell_output, "state_cell_output"), dtype, [LD, BATCH, H]
            )
    builder.check("mxnet_rnn")
    return builder.to_model("mxnet_rnn", doc=f"converted by onnx-rnn from MXNet {spec.describe()}")


def layer_backend(portable: bool = False, plugin_only: bool = False) -> str:
    """The emit_rnn backend for the user's choice: portable, plugin-only, or both in one file (default)."""
    if portable and plugin_only:
        raise OnnxRnnError("portable and plugin_only exclude each other")
    return "portable" if portable else "plugin" if plugin_only else "function"


def check_opset(opset: int | None) -> int:
    """The opset to write: the default when None, else an integer in [MIN_OPSET, the installed onnx's latest]."""
    if opset is None:
        return DEFAULT_OPSET
    latest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= latest:
        raise OnnxRnnError(f"opset must be an integer in [{MIN_OPSET}, {latest}], got {opset!r}")
    return opset
