"""The benchmark driver's logic (onnx_rnn/bench.py) on tiny workloads, with injected timings.

Nothing here measures speed: the clock and the timer are replaced, so each test asserts what the driver computes
from given timings (minimum of the repeats, which peers run, the ratios in the table, the JSON it writes, how it
reads MXNet's report), while the ONNX Runtime and PyTorch runners still run for real on a few numbers.
"""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest

from conftest import needs_plugin
from onnx_rnn import bench
from onnx_rnn.bench import Result, Workload
from onnx_rnn.cli import main
from onnx_rnn.errors import OnnxRnnError
from onnx_rnn.spec import RNNSpec

pytest.importorskip("torch")


def _spec(mode: str = "lstm", **kw) -> RNNSpec:
    return RNNSpec(mode=mode, state_size=8, num_layers=2, state_outputs=True, **kw)


def _tiny(spec: RNNSpec, streaming: bool = False) -> Workload:
    return Workload("tiny", spec, T=3, N=2, I=4, streaming=streaming)


class _FakeTimer:
    """Stands in for ``bench.min_ms``: runs each step once (so the real runner works) and returns set timings."""

    def __init__(self, timings: list[float]) -> None:
        self.timings = list(timings)
        self.repeats: list[int] = []

    def __call__(self, step, repeat: int) -> float:
        step()
        self.repeats.append(repeat)
        return self.timings.pop(0)


def test_min_ms_is_the_fastest_timed_call_after_one_warm_up(monkeypatch):
    durations = iter([0.050, 0.004, 0.002, 0.003])  # seconds per call: the warm-up first
    clock = [0.0]
    calls = []

    def step() -> None:
        calls.append(clock[0])
        clock[0] += next(durations)

    monkeypatch.setattr(bench.time, "perf_counter", lambda: clock[0])
    assert bench.min_ms(step, 3) == pytest.approx(2.0)
    assert len(calls) == 4  # one warm-up, then three timed calls


def test_round_robin_warms_each_up_then_takes_turns_and_reports_min_and_median(monkeypatch):
    clock = [0.0]
    order = []
    seconds = {"a": iter([9.0, 0.003, 0.001, 0.002]), "b": iter([9.0, 0.010, 0.030, 0.020])}  # warm-up first

    def runner(name: str):
        def run() -> None:
            order.append(name)
            clock[0] += next(seconds[name])

        return run

    monkeypatch.setattr(bench.time, "perf_counter", lambda: clock[0])
    timings = bench.round_robin({"a": runner("a"), "b": runner("b")}, 3)
    assert order == ["a", "b"] * 4  # a burst of load from elsewhere hits both alike
    assert [(t.name, t.best, t.median) for t in timings] == [
        ("a", pytest.approx(1.0), pytest.approx(2.0)),
        ("b", pytest.approx(10.0), pytest.approx(20.0)),
    ]


def test_table_gives_each_peer_the_ratio_to_onnx_rnn_of_its_own_workload():
    results = [
        Result("a", "onnx-rnn", 10.0),
        Result("a", "pytorch", 40.0),
        Result("a", "mxnet 1.9.1", None, "no .venv-mxnet"),
        Result("b", "onnx-rnn", 6.0),
        Result("b", "pytorch", 4.0),
        Result("c", "onnx-rnn", None, "failed"),
        Result("c", "pytorch", 5.0),
    ]
    rows = bench.format_table(results).splitlines()
    assert rows[0] == "| workload | peer | ms (min) | onnx-rnn / peer |"
    assert rows[2:] == [
        "| a | onnx-rnn | 10.00 |  |",
        "| a | pytorch | 40.00 | 0.25 |",
        "| a | mxnet 1.9.1 | n/a |  |",
        "| b | onnx-rnn | 6.00 |  |",
        "| b | pytorch | 4.00 | 1.50 |",
        "| c | onnx-rnn | n/a |  |",
        "| c | pytorch | 5.00 |  |",
    ]


@pytest.mark.parametrize(
    ("spec", "streaming", "peers"),
    [
        (_spec(), False, ["onnx-rnn", "pytorch"]),
        (_spec("gru", bidirectional=True), False, ["onnx-rnn", "pytorch"]),
        (_spec(), True, ["onnx-rnn", "pytorch"]),
        pytest.param(_spec(projection_size=4), False, ["onnx-rnn", "onnx-rnn portable", "pytorch"], marks=needs_plugin),
        pytest.param(
            _spec(lstm_state_clip_min=-1.0, lstm_state_clip_max=1.0),
            True,
            ["onnx-rnn", "onnx-rnn portable", "ort LSTM (no clip)", "pytorch"],
            marks=needs_plugin,
        ),
    ],
    ids=["lstm", "bigru", "lstm-stream", "lstmp", "lstm-clip-stream"],
)
def test_each_workload_runs_its_peers_and_reports_their_timings(monkeypatch, spec, streaming, peers):
    timer = _FakeTimer([1.0 + k for k in range(len(peers))])
    monkeypatch.setattr(bench, "min_ms", timer)
    results = bench.bench_workload(_tiny(spec, streaming), threads=1, repeat=2, provider="cpu", mxnet=False)
    assert [r.peer for r in results] == peers
    assert [r.ms for r in results] == [1.0 + k for k in range(len(peers))]
    assert timer.repeats == [2] * len(peers)
    assert all(r.workload == "tiny" for r in results)


def test_bench_command_prints_the_table_and_writes_the_same_results_as_json(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(bench.WORKLOADS, "tiny", _tiny(_spec()))
    monkeypatch.setattr(bench, "min_ms", _FakeTimer([3.0, 12.0]))
    out = tmp_path / "bench.json"
    assert (
        main(["bench", "--workload", "tiny", "--repeat", "1", "--threads", "1", "--no-mxnet", "--json", str(out)]) == 0
    )
    records = json.loads(out.read_text())
    assert [(r["workload"], r["peer"], r["ms"]) for r in records] == [
        ("tiny", "onnx-rnn", 3.0),
        ("tiny", "pytorch", 12.0),
    ]
    assert set(records[0]) == {"workload", "peer", "ms", "note", "extra"}
    printed = capsys.readouterr().out
    assert "# tiny: lstm T=3 N=2 I=4 H=8 L=2 (whole sequence)" in printed
    assert "| tiny | pytorch | 12.00 | 0.25 |" in printed


@pytest.mark.parametrize(("repeat", "threads"), [(0, 1), (1, 0)])
def test_bench_command_refuses_fewer_than_one_repeat_or_thread(repeat, threads):
    with pytest.raises(OnnxRnnError, match="at least 1"):
        bench.run(types.SimpleNamespace(repeat=repeat, threads=threads))


def _fake_mxnet_checkout(monkeypatch, tmp_path: Path, stdout: str) -> list[dict]:
    """bench.py as if in a checkout at ``tmp_path`` with a .venv-mxnet; its subprocess prints ``stdout``."""
    (tmp_path / "onnx_rnn").mkdir(exist_ok=True)
    (tmp_path / ".venv-mxnet" / "bin").mkdir(parents=True)
    (tmp_path / ".venv-mxnet" / "bin" / "python").touch()
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "mxnet_bench.py").touch()
    monkeypatch.setattr(bench, "__file__", str(tmp_path / "onnx_rnn" / "bench.py"))
    calls: list[dict] = []

    def run(cmd, **kwargs):
        calls.append({"cmd": cmd, **kwargs})
        return types.SimpleNamespace(stdout=stdout, stderr="mxnet's stderr", returncode=0)

    monkeypatch.setattr(bench.subprocess, "run", run)
    return calls


def _mxnet_peer(monkeypatch, w: Workload, threads: int, repeat: int) -> Result:
    """The MXNet result of a whole benchmark of ``w`` (the other peers' timings injected)."""
    monkeypatch.setattr(bench, "min_ms", _FakeTimer([1.0, 2.0]))
    results = bench.bench_workload(w, threads, repeat, provider="cpu", mxnet=True)
    assert [r.peer for r in results] == ["onnx-rnn", "pytorch", "mxnet 1.9.1"]
    return results[-1]


def test_mxnet_peer_reads_the_last_report_line_and_scales_streaming_to_all_steps(monkeypatch, tmp_path):
    calls = _fake_mxnet_checkout(monkeypatch, tmp_path, 'loading\n{"ms_min": 9.0}\n{"ms_min": 1.5}\n')
    result = _mxnet_peer(monkeypatch, _tiny(_spec("gru", bidirectional=True), streaming=True), threads=2, repeat=4)
    assert (result.peer, result.ms) == ("mxnet 1.9.1", pytest.approx(4.5))  # 1.5 ms per one-step call, T = 3
    assert "x T" in result.note
    cmd = calls[0]["cmd"]
    args = dict(zip(cmd[2::2], cmd[3::2]))
    assert {k: args[k] for k in ("--mode", "--T", "--N", "--I", "--H", "--P", "--L", "--repeat")} == {
        "--mode": "gru",
        "--T": "1",
        "--N": "2",
        "--I": "4",
        "--H": "8",
        "--P": "0",
        "--L": "2",
        "--repeat": "4",
    }
    assert cmd[-1] == "--bidirectional"
    assert calls[0]["env"]["OMP_NUM_THREADS"] == "2"


def test_mxnet_peer_reports_its_error_or_its_absence(monkeypatch, tmp_path):
    w = _tiny(_spec())
    monkeypatch.setattr(bench, "__file__", str(tmp_path / "onnx_rnn" / "bench.py"))  # a checkout without MXNet
    assert "tools/mxnet_env.sh" in _mxnet_peer(monkeypatch, w, 1, 1).note
    _fake_mxnet_checkout(monkeypatch, tmp_path, '{"error": "MXNetError: no such op"}\n')
    failed = _mxnet_peer(monkeypatch, w, 1, 1)
    assert (failed.ms, failed.note) == (None, "MXNetError: no such op")
