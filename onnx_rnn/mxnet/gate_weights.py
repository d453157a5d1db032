"""Per-gate weights of unfused ``mx.rnn`` cells, joined back into the arrays the symbol names.

``mx.rnn.save_rnn_checkpoint`` calls each cell's ``unpack_weights`` before saving: an ``LSTMCell`` with
prefix ``lstm_l0_`` stores ``lstm_l0_i2h_i_weight``, ``..._i2h_f_weight``, ``..._i2h_c_weight`` and
``..._i2h_o_weight`` (each (H, in)) instead of the ``lstm_l0_i2h_weight`` (4H, in) its symbol reads;
``GRUCell`` uses the gates ``_r``, ``_z``, ``_o``. Joining them in that order along axis 0 restores the array.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

#: Gate suffixes of mx.rnn's unfused cells, in the order their fused arrays stack them.
CELL_GATES = (("_i", "_f", "_c", "_o"), ("_r", "_z", "_o"))
KINDS = ("_weight", "_bias")


def join_gate_weights(names: Iterable[str], arg_params: dict[str, np.ndarray | None]) -> list[str]:
    """Add to ``arg_params`` each of ``names`` that is missing but stored per gate; returns those joined."""
    joined = []
    for name in names:
        if name in arg_params:
            continue
        kind = next((k for k in KINDS if name.endswith(k)), None)
        if kind is None:
            continue
        stem = name[: -len(kind)]
        for gates in CELL_GATES:
            found = [arg_params.get(f"{stem}{gate}{kind}") for gate in gates]
            parts = [p for p in found if p is not None]
            if len(parts) == len(gates) and len({p.shape[1:] for p in parts}) == 1:
                arg_params[name] = np.concatenate(parts, axis=0)
                joined.append(name)
                break
    return joined
