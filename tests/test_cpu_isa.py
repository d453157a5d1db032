"""The CPU kernel's instruction-set dispatch (custom_ops/src/cpu/gemm_dispatch.h): which path a kernel uses,
forcing one with ONNX_RNN_CPU_ISA, the errors for paths this CPU cannot run, and that the library outside the
dispatched translation units is baseline x86-64 code (checked in its disassembly).

The numerical checks of every path are tests/test_plugin_kernel.py, which runs each of its tests once per path
this CPU can run (its `cpu_path` fixture).
"""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess

import numpy as np
import pytest
from test_plugin_kernel import LIB, _model, _session

pytestmark = pytest.mark.skipif(LIB is None, reason="custom-op library not found")


def _query(name: str) -> str:
    fn = getattr(ctypes.CDLL(LIB), name)
    fn.restype = ctypes.c_char_p
    return fn().decode()


def _tiny_model():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 1, 3)).astype(np.float32)
    w = rng.standard_normal((1, 8, 3)).astype(np.float32)
    r = rng.standard_normal((1, 8, 2)).astype(np.float32)
    return _model("LSTM", "onnx_rnn", [x, w, r], {"hidden_size": 2}), x, w, r


def test_default_path_is_the_best_supported(monkeypatch):
    monkeypatch.delenv("ONNX_RNN_CPU_ISA", raising=False)
    supported = _query("OnnxRnnCpuKernelPaths").split(",")
    assert supported[-1] == "baseline"
    assert _query("OnnxRnnCpuKernelPath") == supported[0]
    monkeypatch.setenv("ONNX_RNN_CPU_ISA", "auto")
    assert _query("OnnxRnnCpuKernelPath") == supported[0]


def test_forced_path_is_reported(monkeypatch):
    for path in _query("OnnxRnnCpuKernelPaths").split(","):
        monkeypatch.setenv("ONNX_RNN_CPU_ISA", path)
        assert _query("OnnxRnnCpuKernelPath") == path


@pytest.mark.parametrize("value", ["sse9", "AVX2", "avx512"])
def test_unknown_or_unsupported_path_fails_session_creation(monkeypatch, value):
    supported = _query("OnnxRnnCpuKernelPaths")
    if value in supported.split(","):
        pytest.skip(f"this CPU runs {value}")
    monkeypatch.setenv("ONNX_RNN_CPU_ISA", value)
    assert _query("OnnxRnnCpuKernelPath").startswith(f"error: ONNX_RNN_CPU_ISA={value}")
    model = _tiny_model()[0]
    with pytest.raises(Exception, match=f"ONNX_RNN_CPU_ISA={value}.*{re.escape(supported)}"):
        _session(model)


def test_fma_peak_is_measured():
    fn = ctypes.CDLL(LIB).OnnxRnnFmaPeakGflops
    fn.restype, fn.argtypes = ctypes.c_double, [ctypes.c_double]
    assert fn(0.01) > 0.1  # GFLOP/s; a plausibility bound only (the machine may be loaded)


def _functions_using(disassembly: str, pattern: re.Pattern[str]) -> set[str]:
    found, current = set(), ""
    for line in disassembly.splitlines():
        header = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if header:
            current = header.group(1)
        elif pattern.search(line):
            found.add(current)
    return found


@pytest.mark.skipif(shutil.which("objdump") is None, reason="objdump (binutils) not installed")
def test_only_dispatched_code_uses_avx():
    """ymm registers only in the AVX2/AVX-512/F16C units, zmm (and xmm16-31, EVEX only) only in the AVX-512
    unit: the linker merges inline functions across units, so an ISA-specific copy of a shared function would
    show up here (and could fault on an older CPU). Asserts the default build (ONNX_RNN_NATIVE=OFF)."""
    text = subprocess.run(
        ["objdump", "-d", "-C", "--no-show-raw-insn", LIB], check=True, capture_output=True, text=True
    ).stdout
    if "onnx_rnn::" not in text:
        pytest.skip("the library is stripped (pip install strips it; the development and sanitizer builds are not)")
    assert "onnx_rnn::avx2::" in text and "onnx_rnn::avx512::" in text
    ymm = _functions_using(text, re.compile(r"%ymm"))
    zmm = _functions_using(text, re.compile(r"%zmm|%xmm(1[6-9]|2[0-9]|3[01])\b|%k[1-7]\b"))
    avx_ok = re.compile(r"onnx_rnn::(avx2|avx512)::|_f16c\(")
    assert sorted(f for f in ymm if not avx_ok.search(f)) == []
    assert sorted(f for f in zmm if "onnx_rnn::avx512::" not in f) == []
    assert any("onnx_rnn::avx512::" in f for f in zmm)  # the AVX-512 kernel really is AVX-512 code


def test_runtime_names_the_path(monkeypatch):
    from onnx_rnn.runtime import cpu_kernel_path

    monkeypatch.setenv("ONNX_RNN_CUSTOM_OPS_LIBRARY", LIB)
    monkeypatch.setenv("ONNX_RNN_CPU_ISA", "baseline")
    assert cpu_kernel_path() == f"baseline (this CPU: {_query('OnnxRnnCpuKernelPaths')})"
