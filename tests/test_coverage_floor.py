"""tools/coverage_floor.py: per-package coverage from coverage.py's JSON report, checked against the floors."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parent.parent / "tools" / "coverage_floor.py"
spec = importlib.util.spec_from_file_location("coverage_floor", TOOL)
assert spec is not None and spec.loader is not None
coverage_floor = importlib.util.module_from_spec(spec)
sys.modules["coverage_floor"] = coverage_floor  # dataclasses look their module up there
spec.loader.exec_module(coverage_floor)


def _file(lines: int, covered: int, branches: int = 0, covered_branches: int = 0) -> dict:
    return {
        "summary": {
            "num_statements": lines,
            "covered_lines": covered,
            "num_branches": branches,
            "covered_branches": covered_branches,
        }
    }


REPORT = {
    "files": {
        "onnx_rnn/cli.py": _file(10, 9),
        "onnx_rnn/bench.py": _file(30, 15, 10, 6),
        "onnx_rnn/mxnet/ops/nn.py": _file(50, 45, 50, 40),
        "/venv/site-packages/onnx_rnn/export/rnn.py": _file(20, 20),
    }
}


def test_packages_count_lines_and_branches_of_their_own_modules_only():
    packages = coverage_floor.package_coverage(REPORT)
    assert sorted(packages) == ["onnx_rnn", "onnx_rnn/export", "onnx_rnn/mxnet/ops"]
    assert (packages["onnx_rnn"].covered, packages["onnx_rnn"].total) == (9 + 15 + 6, 10 + 30 + 10)
    assert packages["onnx_rnn/mxnet/ops"].percent == 85.0


def test_a_package_below_its_floor_or_the_default_fails_the_run(tmp_path, capsys):
    packages = coverage_floor.package_coverage(REPORT)
    assert coverage_floor.check(packages, {"onnx_rnn": 60, "default": 90}) == [
        "onnx_rnn/mxnet/ops: 85.0% covered, below its floor of 90.0%"
    ]
    report = tmp_path / "coverage.json"
    report.write_text(json.dumps(REPORT))
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.onnx-rnn.coverage-floors]\nonnx_rnn = 60\ndefault = 80\n")
    assert coverage_floor.main([str(report), "--pyproject", str(pyproject)]) == 0
    pyproject.write_text("[tool.onnx-rnn.coverage-floors]\nonnx_rnn = 60\ndefault = 86\n")
    assert coverage_floor.main([str(report), "--pyproject", str(pyproject)]) == 1
    assert "onnx_rnn/mxnet/ops: 85.0% covered, below its floor of 86.0%" in capsys.readouterr().err
