"""NumPy reference of MXNet's ``RNN`` operator with the semantics stated in the README (Semantics).

Straightforward loops over layers, directions and time, computed in float64, for tests and
``onnx-rnn check``. Unlike MXNet's CPU build, it honours LSTM state clipping (with NaN handling) and
``sequence_length`` (cuDNN's padded-data semantics).
"""

from __future__ import annotations

import numpy as np

from .errors import OnnxRnnError
from .params import DirectionWeights, split_parameters
from .spec import RNNSpec


def rnn(
    data: np.ndarray,
    parameters: np.ndarray,
    *,
    mode: str,
    state_size: int,
    num_layers: int = 1,
    bidirectional: bool = False,
    p: float = 0.0,
    projection_size: int | None = None,
    lstm_state_clip_min: float | None = None,
    lstm_state_clip_max: float | None = None,
    lstm_state_clip_nan: bool = False,
    state: np.ndarray | None = None,
    state_cell: np.ndarray | None = None,
    sequence_length: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Run the operator; returns (out (T, N, D*R), hy (L*D, N, R), cy (L*D, N, H) or None).

    Missing states are zeros. Outputs have ``data``'s dtype.
    """
    spec = RNNSpec(
        mode=mode,
        state_size=state_size,
        num_layers=num_layers,
        bidirectional=bidirectional,
        p=p,
        projection_size=projection_size,
        lstm_state_clip_min=lstm_state_clip_min,
        lstm_state_clip_max=lstm_state_clip_max,
        lstm_state_clip_nan=lstm_state_clip_nan,
    )
    return run_spec(spec, data, parameters, state, state_cell, sequence_length)


def run_spec(
    spec: RNNSpec,
    data: np.ndarray,
    parameters: np.ndarray,
    state: np.ndarray | None = None,
    state_cell: np.ndarray | None = None,
    sequence_length: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Like :func:`rnn`, taking an :class:`RNNSpec`."""
    data = np.asarray(data)
    if data.ndim != 3:
        raise OnnxRnnError(f"data must be (T, N, I), got shape {data.shape}")
    T, N, I = data.shape
    layers = split_parameters(spec, parameters, I)
    LD, H, R = spec.num_layers * spec.directions, spec.state_size, spec.output_size
    h0 = _state_or_zeros(state, "state", (LD, N, R))
    c0 = _state_or_zeros(state_cell, "state_cell", (LD, N, H)) if spec.mode == "lstm" else None
    lengths = _lengths(sequence_length, T, N)

    x = data.astype(np.float64)
    hy: list[np.ndarray] = []
    cy: list[np.ndarray] = []
    for layer_index, layer in enumerate(layers):
        outs = []
        for d, weights in enumerate(layer):
            k = layer_index * spec.directions + d
            y, h, c = _run_direction(spec, weights, x, h0[k], None if c0 is None else c0[k], lengths, d == 1)
            outs.append(y)
            hy.append(h)
            if c is not None:
                cy.append(c)
        x = np.concatenate(outs, axis=2)
    cast = data.dtype
    return (x.astype(cast), np.stack(hy).astype(cast), np.stack(cy).astype(cast) if spec.mode == "lstm" else None)


def _state_or_zeros(value: np.ndarray | None, name: str, shape: tuple[int, ...]) -> np.ndarray:
    if value is None:
        return np.zeros(shape)
    value = np.asarray(value, dtype=np.float64)
    if value.shape != shape:
        raise OnnxRnnError(f"{name} must have shape {shape}, got {value.shape}")
    return value


def _lengths(sequence_length: np.ndarray | None, T: int, N: int) -> np.ndarray:
    if sequence_length is None:
        return np.full(N, T, dtype=np.int64)
    lengths = np.asarray(sequence_length).astype(np.int64)
    if lengths.shape != (N,) or lengths.min(initial=0) < 0 or lengths.max(initial=0) > T:
        raise OnnxRnnError(f"sequence_length must be (N,)=({N},) with values in [0, {T}], got {sequence_length!r}")
    return lengths


def _run_direction(
    spec: RNNSpec,
    w: DirectionWeights,
    x: np.ndarray,
    h: np.ndarray,
    c: np.ndarray | None,
    lengths: np.ndarray,
    backward: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """One direction over the whole sequence; returns (y (T, N, R), final h, final c)."""
    T, N, _ = x.shape
    Wx, Wh, bx, bh = (np.asarray(a, dtype=np.float64) for a in (w.i2h_weight, w.h2h_weight, w.i2h_bias, w.h2h_bias))
    Wr = None if w.h2r_weight is None else np.asarray(w.h2r_weight, dtype=np.float64)
    y = np.zeros((T, N, spec.output_size))
    h, c = h.copy(), None if c is None else c.copy()
    for b in range(N):
        steps = range(lengths[b] - 1, -1, -1) if backward else range(lengths[b])
        for t in steps:
            h[b], c_b = _cell(spec, x[t, b] @ Wx.T + bx, h[b], None if c is None else c[b], Wh, bh, Wr)
            if c is not None:
                c[b] = c_b
            y[t, b] = h[b]
    return y, h, c


def _cell(
    spec: RNNSpec,
    xw: np.ndarray,
    h: np.ndarray,
    c: np.ndarray | None,
    Wh: np.ndarray,
    bh: np.ndarray,
    Wr: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """One step of one batch element; xw is the input projection plus the i2h bias."""
    hw = h @ Wh.T + bh
    if spec.mode == "lstm":
        assert c is not None, "an LSTM step always carries a cell state"
        i, f, g, o = np.split(xw + hw, 4)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        lo, hi = spec.lstm_state_clip_min, spec.lstm_state_clip_max  # both or neither (RNNSpec checks)
        if lo is not None and hi is not None:
            c = _clip(c, lo, hi, spec.lstm_state_clip_nan)
        h = _sigmoid(o) * np.tanh(c)
        return (h @ Wr.T if Wr is not None else h), c
    if spec.mode == "gru":
        xr, xz, xn = np.split(xw, 3)
        hr, hz, hn = np.split(hw, 3)
        r, z = _sigmoid(xr + hr), _sigmoid(xz + hz)
        n = np.tanh(xn + r * hn)
        return (1.0 - z) * n + z * h, None
    pre = xw + hw
    return (np.tanh(pre) if spec.mode == "rnn_tanh" else np.maximum(pre, 0.0)), None


def _clip(c: np.ndarray, lo: float, hi: float, stop_nan: bool) -> np.ndarray:
    """MXNet's state clip: with ``stop_nan`` fmax/fmin semantics (NaN -> lo), else NaN propagates."""
    clipped: np.ndarray = (
        np.fmin(np.fmax(c, lo), hi) if stop_nan else np.where(np.isnan(c), c, np.minimum(np.maximum(c, lo), hi))
    )
    return clipped


def _sigmoid(v: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1.0 / (1.0 + np.exp(-v))
    return result
