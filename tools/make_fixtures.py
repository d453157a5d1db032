#!/usr/bin/env python3
"""Make the golden RNN fixtures under tests/fixtures/ with real MXNet 1.9.1.

Run it in the MXNet venv (see tools/mxnet_env.sh):

    .venv-mxnet/bin/python tools/make_fixtures.py            # regenerate and verify
    python tools/make_fixtures.py --verify-only               # NumPy only: check committed files

Every case is computed by ``mx.nd.RNN`` on CPU in predict mode (no autograd recording, so the
dropout ``p`` has no effect) and then cross-checked against an independent, unrolled NumPy
implementation of the README's Semantics (flat layout, gate orders, cell equations).  The NumPy
check is what confirms the flat parameter layout for every case we write.

Fixture keys (one .npz per case): attrs (0-d str, JSON of the operator's attributes exactly as
``sym.tojson()`` writes them), parameters, data, state, [state_cell], out, [hy], [cy],
[sequence_length], source ("mxnet-1.9.1").

Cases under tests/fixtures/mxnet_cpu_quirks/ record what MXNet's CPU operator *does* with
``lstm_state_clip_*`` and ``use_sequence_length``: on its default float32 path (oneDNN) it ignores
both, so these outputs are NOT the correct semantics; the script asserts that they equal the
unclipped / full-length result and differ from the correct one.

MXNet 1.9.1 facts this script relies on (checked when it runs): float16 is refused on CPU ("FP16
gemm on cpu not implemented!"); rnn_relu rounds every ReLU output to float32, also for float64
data (relu() in src/operator/rnn_impl.h returns static_cast<float>(x)), so float64 rnn_relu
fixtures are exact only to ~1e-7 relative.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "tests" / "fixtures"
SOURCE = "mxnet-1.9.1"
GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}
MODES = ("lstm", "gru", "rnn_tanh", "rnn_relu")


# ----------------------------------------------------------------------------------------------
# Case description
# ----------------------------------------------------------------------------------------------


@dataclass
class Case:
    mode: str
    layers: int
    bidirectional: bool
    dtype: str
    state_outputs: bool
    N: int
    T: int
    I: int
    H: int
    P: int | None = None
    p: float | None = None  # dropout passed to the op (None: argument left out)
    explicit_defaults: bool = True  # pass bidirectional/state_outputs even when False
    clip: tuple[float, float] | None = None
    clip_nan: bool | None = None
    seq_len: list[int] | None = None
    subdir: str = "rnn"
    suffix: str = ""

    @property
    def D(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def R(self) -> int:
        return self.P if self.P else self.H

    def name(self) -> str:
        s = f"{self.mode}_L{self.layers}_{'bi' if self.bidirectional else 'uni'}_{self.dtype}"
        s += f"_so{int(self.state_outputs)}"
        if self.P:
            s += f"_proj{self.P}"
        s += f"_N{self.N}_T{self.T}"
        if self.suffix:
            s += f"_{self.suffix}"
        return s

    def op_kwargs(self) -> dict:
        """Keyword arguments for mx.sym.RNN / mx.nd.RNN (the operator's attributes)."""
        kw = {"mode": self.mode, "state_size": self.H, "num_layers": self.layers}
        if self.bidirectional or self.explicit_defaults:
            kw["bidirectional"] = self.bidirectional
        if self.state_outputs or self.explicit_defaults:
            kw["state_outputs"] = self.state_outputs
        if self.p is not None:
            kw["p"] = self.p
        if self.P:
            kw["projection_size"] = self.P
        if self.clip is not None:
            kw["lstm_state_clip_min"] = self.clip[0]
            kw["lstm_state_clip_max"] = self.clip[1]
        if self.clip_nan is not None:
            kw["lstm_state_clip_nan"] = self.clip_nan
        if self.seq_len is not None:
            kw["use_sequence_length"] = True
        return kw


def param_count(mode: str, L: int, D: int, I: int, H: int, P: int | None) -> int:
    G = GATES[mode]
    R = P if P else H
    n = 0
    for layer in range(L):
        in_l = I if layer == 0 else D * R
        n += D * (G * H * in_l + G * H * R + (P * H if P else 0) + 2 * G * H)
    return n


# ----------------------------------------------------------------------------------------------
# Independent NumPy implementation (float64), used to verify MXNet's layout and outputs
# ----------------------------------------------------------------------------------------------


def unpack(flat, mode, L, D, I, H, P):
    """Split the flat vector into per-(layer, direction) dicts. Weights first, then biases."""
    G = GATES[mode]
    R = P if P else H
    pos = 0
    out = {}

    def take(*shape):
        nonlocal pos
        n = int(np.prod(shape))
        a = flat[pos : pos + n].reshape(shape)
        pos += n
        return a

    for layer in range(L):
        in_l = I if layer == 0 else D * R
        for d in range(D):
            w = {"Wx": take(G * H, in_l), "Wh": take(G * H, R)}
            if P:
                w["Wr"] = take(P, H)
            out[layer, d] = w
    for layer in range(L):
        for d in range(D):
            out[layer, d]["bx"] = take(G * H)
            out[layer, d]["bh"] = take(G * H)
    if pos != flat.size:
        raise ValueError(f"flat vector has {flat.size} values, layout uses {pos}")
    return out


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def numpy_rnn(
    mode, L, bidirectional, H, P, data, flat, state, state_cell=None, clip=None, seq_len=None, relu_f32=False
):
    """Return (out, hy, cy) computed in float64 by unrolling every step.

    relu_f32 emulates MXNet 1.9.1's CPU rnn_relu, whose relu() (src/operator/rnn_impl.h) returns
    ``static_cast<float>(x)``: every ReLU output is rounded to float32, also for float64 data.
    """
    data = np.asarray(data, np.float64)
    T, N, I = data.shape
    D = 2 if bidirectional else 1
    w = unpack(np.asarray(flat, np.float64), mode, L, D, I, H, P)
    lens = np.full(N, T) if seq_len is None else np.asarray(seq_len)
    hy = np.zeros((L * D,) + state.shape[1:])
    cy = np.zeros((L * D, N, H))
    x = data
    for layer in range(L):
        outs = []
        for d in range(D):
            p = w[layer, d]
            h = np.asarray(state[layer * D + d], np.float64)
            c = np.asarray(state_cell[layer * D + d], np.float64) if mode == "lstm" else None
            o = np.zeros((T, N, h.shape[1]))
            steps = range(T) if d == 0 else range(T - 1, -1, -1)
            for t in steps:
                gx = x[t] @ p["Wx"].T + p["bx"]
                gh = h @ p["Wh"].T + p["bh"]
                if mode == "lstm":
                    i, f, g, og = np.split(gx + gh, 4, axis=1)
                    c_new = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
                    if clip is not None:
                        c_new = np.minimum(np.maximum(c_new, clip[0]), clip[1])
                    h_new = _sigmoid(og) * np.tanh(c_new)
                    if P:
                        h_new = h_new @ p["Wr"].T
                elif mode == "gru":
                    xr, xz, xn = np.split(gx, 3, axis=1)
                    hr, hz, hn = np.split(gh, 3, axis=1)
                    r = _sigmoid(xr + hr)
                    z = _sigmoid(xz + hz)
                    n = np.tanh(xn + r * hn)
                    h_new = (1.0 - z) * n + z * h
                elif mode == "rnn_tanh":
                    h_new = np.tanh(gx + gh)
                else:
                    h_new = np.maximum(gx + gh, 0.0)
                    if relu_f32:
                        h_new = h_new.astype(np.float32).astype(np.float64)
                valid = (t < lens)[:, None]
                h = np.where(valid, h_new, h)
                if mode == "lstm":
                    c = np.where(valid, c_new, c)
                o[t] = np.where(valid, h_new, 0.0)
            outs.append(o)
            hy[layer * D + d] = h
            if mode == "lstm":
                cy[layer * D + d] = c
        x = np.concatenate(outs, axis=2)
    return x, hy, (cy if mode == "lstm" else None)


# ----------------------------------------------------------------------------------------------
# The matrix
# ----------------------------------------------------------------------------------------------


def main_cases() -> list[Case]:
    cases = []
    hs = [3, 4, 5, 6, 7, 8]
    k = 0
    for mi, mode in enumerate(MODES):
        for L in (1, 2, 3, 4):
            for bi in (False, True):
                c = mi * 8 + (L - 1) * 2 + bi  # combo index
                for v in range(2):
                    # Spread the remaining axes so each mode sees every value of each one, and
                    # the two variants of a combo differ in dtype and in state_outputs.
                    dtype = ("float32", "float64")[(v + c) % 2]
                    so = bool((v + c // 2) % 2)
                    N = (1, 3)[(v + c // 4 + mi) % 2]
                    T = (1, 5)[(v + (c + 1) // 2 + c // 8) % 2] if (c + v) % 5 else 5
                    H = hs[k % len(hs)]
                    if k % 3 == 0:
                        H = I = min(H, 6)
                    else:
                        I = 2 + (k * 2) % 5
                        if I == H:
                            I = I - 1
                    p = (None, 0.0, 0.2, None)[k % 4]
                    cases.append(Case(mode, L, bi, dtype, so, N, T, I, H, p=p, explicit_defaults=(k % 5 != 0)))
                    k += 1
    # LSTM with projection (P < H), state_outputs on.
    j = 0
    for L in (1, 2, 3):
        for bi in (False, True):
            for dtype in ("float32", "float64"):
                H = (5, 6, 7, 8)[j % 4]
                P = (2, 3, 4)[j % 3] if j % 3 != 2 else H - 1
                I = (3, 4, 6, H)[j % 4]
                N = (1, 3)[j % 2]
                T = (5, 1, 5)[j % 3]
                cases.append(Case("lstm", L, bi, dtype, True, N, T, I, H, P=P, p=(0.0, 0.2, None)[j % 3]))
                j += 1
    return cases


def quirk_cases() -> list[Case]:
    q = []
    # lstm_state_clip_min/max ignored (float32 default path). Narrow, asymmetric range.
    q.append(
        Case("lstm", 2, True, "float32", True, 3, 5, 4, 5, clip=(-0.1, 0.05), subdir="mxnet_cpu_quirks", suffix="clip")
    )
    q.append(
        Case(
            "lstm",
            1,
            False,
            "float32",
            True,
            2,
            5,
            3,
            4,
            clip=(-0.2, 0.1),
            clip_nan=True,
            subdir="mxnet_cpu_quirks",
            suffix="clipnan",
        )
    )
    # use_sequence_length ignored (float32 default path), one per mode.
    lens = [5, 2, 1]
    for mode, L, bi in (("lstm", 2, True), ("gru", 2, True), ("rnn_tanh", 1, True), ("rnn_relu", 2, False)):
        q.append(
            Case(mode, L, bi, "float32", True, 3, 5, 4, 5, seq_len=lens, subdir="mxnet_cpu_quirks", suffix="seqlen")
        )
    # Both at once.
    q.append(
        Case(
            "lstm",
            2,
            True,
            "float32",
            True,
            3,
            5,
            3,
            4,
            clip=(-0.1, 0.05),
            seq_len=[3, 5, 2],
            subdir="mxnet_cpu_quirks",
            suffix="clip_seqlen",
        )
    )
    return q


# ----------------------------------------------------------------------------------------------
# Generation
# ----------------------------------------------------------------------------------------------


def _draw_inputs(case: Case, rng) -> dict:
    dt = np.dtype(case.dtype)
    n = param_count(case.mode, case.layers, case.D, case.I, case.H, case.P)
    # PyTorch-like 1/sqrt(H); larger for relu (else deep stacks die out) and for projection
    # (the projection shrinks h). Outputs land at |out| ~ 0.1-1.
    scale = 1.0 / np.sqrt(case.H)
    if case.mode == "rnn_relu":
        scale *= 1.5
    if case.P:
        scale *= 1.5
    if case.clip is not None:
        scale *= 2.0  # larger cell values so that a narrow clip range matters
    arrays = {
        "parameters": rng.uniform(-scale, scale, n).astype(dt),
        "data": rng.uniform(-1.0, 1.0, (case.T, case.N, case.I)).astype(dt),
        "state": rng.uniform(-0.5, 0.5, (case.layers * case.D, case.N, case.R)).astype(dt),
    }
    if case.mode == "lstm":
        arrays["state_cell"] = rng.uniform(-0.5, 0.5, (case.layers * case.D, case.N, case.H)).astype(dt)
    if case.seq_len is not None:
        arrays["sequence_length"] = np.asarray(case.seq_len, np.int32)
    return arrays


def make_inputs(case: Case) -> dict:
    """Random inputs, seeded by the case name; redrawn (screened with the NumPy implementation)
    until the output is neither saturated, vanishing nor mostly dead ReLUs."""
    rng = np.random.default_rng(zlib.crc32(case.name().encode()) + 1000 * (case.subdir != "rnn"))
    for _ in range(50):
        a = _draw_inputs(case, rng)
        out = numpy_rnn(
            case.mode,
            case.layers,
            case.bidirectional,
            case.H,
            case.P,
            a["data"],
            a["parameters"],
            a["state"],
            a.get("state_cell"),
        )[0]
        o = np.abs(out)
        limit = 4.0 if case.mode == "rnn_relu" else 0.995  # tanh-bounded modes: not saturated
        if 0.1 <= o.mean() <= 1.0 and np.mean(o == 0) <= 0.6 and o.max() < limit:
            break
    return a


def mxnet_attrs(mx, case: Case) -> dict:
    v = mx.sym.var
    kw = dict(data=v("data"), parameters=v("parameters"), state=v("state"))
    if case.mode == "lstm":
        kw["state_cell"] = v("state_cell")
    if case.seq_len is not None:
        kw["sequence_length"] = v("sequence_length")
    sym = mx.sym.RNN(**kw, **case.op_kwargs(), name="rnn0")
    return json.loads(sym.tojson())["nodes"][-1]["attrs"]


def run_mxnet(mx, case: Case, arrays: dict, **override) -> list[np.ndarray]:
    nd = {k: mx.nd.array(a, dtype=a.dtype, ctx=mx.cpu()) for k, a in arrays.items()}
    kw = case.op_kwargs()
    kw.update(override)
    if not kw.get("use_sequence_length"):
        nd.pop("sequence_length", None)
    assert not mx.autograd.is_training()
    res = mx.nd.RNN(**nd, **kw)
    if not isinstance(res, (list, tuple)):
        res = [res]
    return [r.asnumpy() for r in res]


def tolerance(dtype) -> float:
    return {np.dtype("float32"): 2e-5, np.dtype("float64"): 1e-11}[np.dtype(dtype)]


def check_fixture(path: Path) -> tuple[bool, str]:
    """Verify one fixture file against the NumPy implementation. Needs only NumPy."""
    z = np.load(path)
    attrs = json.loads(str(z["attrs"]))
    mode = attrs["mode"]
    L = int(attrs["num_layers"])
    H = int(attrs["state_size"])
    bi = attrs.get("bidirectional", "False") == "True"
    so = attrs.get("state_outputs", "False") == "True"
    P = int(attrs["projection_size"]) if attrs.get("projection_size", "None") != "None" else None
    clip = None
    if "lstm_state_clip_min" in attrs:
        clip = (float(attrs["lstm_state_clip_min"]), float(attrs["lstm_state_clip_max"]))
    seq = z["sequence_length"] if attrs.get("use_sequence_length", "False") == "True" else None
    sc = z["state_cell"] if mode == "lstm" else None
    assert str(z["source"]) == SOURCE
    tol = tolerance(z["out"].dtype)
    quirk = clip is not None or seq is not None
    # What MXNet's CPU op computes: for quirk cases, the unclipped, full-length result; for
    # rnn_relu in float64, ReLU outputs rounded to float32.
    f32relu = mode == "rnn_relu" and z["out"].dtype == np.float64
    ref = numpy_rnn(mode, L, bi, H, P, z["data"], z["parameters"], z["state"], sc, relu_f32=f32relu)
    names = ["out"] + (["hy"] + (["cy"] if mode == "lstm" else []) if so else [])
    if {k for k in ("hy", "cy") if k in z.files} != set(names[1:]):
        return False, f"output keys {z.files} do not match state_outputs={so}"
    errs = {k: float(np.abs(z[k] - r).max()) for k, r in zip(names, ref)}
    ok = all(e <= tol for e in errs.values())
    msg = " ".join(f"{k}={e:.1e}" for k, e in errs.items())
    if f32relu:
        exact = numpy_rnn(mode, L, bi, H, P, z["data"], z["parameters"], z["state"], sc)[0]
        e = float(np.abs(z["out"] - exact).max())
        msg += f" (vs exact float64: out={e:.1e})"
        ok = ok and e < 1e-6
    o = np.abs(z["out"])
    msg += f" |out|mean={o.mean():.2f} max={o.max():.2f} zero={np.mean(o == 0):.2f}"
    if quirk:
        right = numpy_rnn(mode, L, bi, H, P, z["data"], z["parameters"], z["state"], sc, clip=clip, seq_len=seq)
        diff = float(np.abs(right[0] - z["out"]).max())
        msg += f" differs-from-correct={diff:.2f}"
        ok = ok and diff > 1e-2
    return ok, msg


def generate(out_dir: Path, mx) -> list[Path]:
    written = []
    cases = main_cases() + quirk_cases()
    names = [(c.subdir, c.name()) for c in cases]
    assert len(set(names)) == len(names), "duplicate fixture names"
    for sub in {c.subdir for c in cases}:
        d = out_dir / sub
        d.mkdir(parents=True, exist_ok=True)
        for old in d.glob("*.npz"):
            old.unlink()
    for case in cases:
        arrays = make_inputs(case)
        attrs = mxnet_attrs(mx, case)
        outs = run_mxnet(mx, case, arrays)
        if case.p:
            # Predict mode: dropout must have no effect.
            outs0 = run_mxnet(mx, case, arrays, p=0.0)
            assert all(np.array_equal(a, b) for a, b in zip(outs, outs0)), case.name()
        if case.subdir == "mxnet_cpu_quirks":
            # The op must give exactly what it gives without clipping / sequence lengths.
            plain = {
                "lstm_state_clip_min": None,
                "lstm_state_clip_max": None,
                "lstm_state_clip_nan": None,
                "use_sequence_length": None,
            }
            kw = {k: v for k, v in case.op_kwargs().items() if k not in plain}
            nd = {k: mx.nd.array(a, dtype=a.dtype) for k, a in arrays.items() if k != "sequence_length"}
            base = [r.asnumpy() for r in mx.nd.RNN(**nd, **kw)]
            assert all(np.array_equal(a, b) for a, b in zip(outs, base)), case.name()
        keys = ["out"]
        if case.state_outputs:
            keys += ["hy"] + (["cy"] if case.mode == "lstm" else [])
        assert len(outs) == len(keys), (case.name(), len(outs))
        payload = dict(arrays)
        payload.update(zip(keys, outs))
        payload["attrs"] = np.array(json.dumps(attrs))
        payload["source"] = np.array(SOURCE)
        for k in keys:
            assert outs[keys.index(k)].dtype == np.dtype(case.dtype)
        path = out_dir / case.subdir / (case.name() + ".npz")
        np.savez_compressed(path, **payload)
        written.append(path)
    return written


def try_float16(mx) -> str:
    c = Case("lstm", 1, False, "float16", True, 2, 3, 3, 4)
    try:
        arrays = make_inputs(c)
        run_mxnet(mx, c, arrays)
        return "ran"
    except Exception as e:  # noqa: BLE001 - MXNetError
        lines = [ln for ln in str(e).splitlines() if "MXNetError" in ln]
        return "refused: " + (lines[0] if lines else str(e).splitlines()[0])


def summarize(paths: list[Path]) -> None:
    from collections import Counter

    axes = {k: Counter() for k in ("mode", "layers", "dir", "dtype", "so", "N", "T", "I==H", "proj")}
    for p in paths:
        if p.parent.name != "rnn":
            continue
        z = np.load(p)
        a = json.loads(str(z["attrs"]))
        T, N, I = z["data"].shape
        axes["mode"][a["mode"]] += 1
        axes["layers"][a["num_layers"]] += 1
        axes["dir"]["bi" if a.get("bidirectional") == "True" else "uni"] += 1
        axes["dtype"][str(z["data"].dtype)] += 1
        axes["so"][a.get("state_outputs", "False")] += 1
        axes["N"][N] += 1
        axes["T"][T] += 1
        axes["I==H"][int(a["state_size"]) == I] += 1
        axes["proj"]["projection_size" in a] += 1
    for k, c in axes.items():
        print(f"  {k}: {dict(sorted(c.items(), key=str))}")
    total = sum(p.stat().st_size for p in paths)
    print(f"  files: {len(paths)}, total size: {total} bytes")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument(
        "--verify-only", action="store_true", help="only check the existing fixtures against the NumPy implementation"
    )
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)

    if not args.verify_only:
        os.environ.setdefault("MXNET_USE_MKLDNN_RNN", "1")  # MXNet's default CPU path
        import mxnet as mx

        if mx.__version__ != "1.9.1":
            print(f"warning: MXNet {mx.__version__}, fixtures are labelled {SOURCE}", file=sys.stderr)
        print("float16 on CPU:", try_float16(mx))
        paths = generate(args.out, mx)
    else:
        paths = sorted(args.out.glob("*/*.npz"))
    bad = 0
    for p in sorted(paths):
        ok, msg = check_fixture(p)
        bad += not ok
        if args.verbose or not ok:
            print(("ok  " if ok else "BAD ") + str(p.relative_to(args.out)) + "  " + msg)
    summarize(paths)
    print(f"{len(paths) - bad}/{len(paths)} fixtures agree with the NumPy implementation")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
