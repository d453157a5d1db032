"""Fail when a package's test coverage falls below its floor (`make test` runs this after pytest --cov).

Reads coverage.py's JSON report and the floors in pyproject.toml's ``[tool.onnx-rnn.coverage-floors]``: one
percentage per package (a folder of ``onnx_rnn/``, its modules only, not its subpackages), and ``default`` for
packages that have none of their own yet. Coverage is coverage.py's own measure: covered lines and branches over
all lines and branches.

    python tools/coverage_floor.py build/coverage.json
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import tomllib  # Python >= 3.11, as the dev venv (ruff files it as third-party for the py310 target)

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class PackageCoverage:
    covered: int = 0
    total: int = 0

    @property
    def percent(self) -> float:
        return 100.0 if self.total == 0 else 100.0 * self.covered / self.total


def package_coverage(report: dict) -> dict[str, PackageCoverage]:
    """Covered and total lines + branches per package (the folder of each measured file)."""
    packages: dict[str, PackageCoverage] = {}
    for path, data in report["files"].items():
        summary = data["summary"]
        package = packages.setdefault(package_of(path), PackageCoverage())
        package.covered += summary["covered_lines"] + summary.get("covered_branches", 0)
        package.total += summary["num_statements"] + summary.get("num_branches", 0)
    return packages


def package_of(path: str) -> str:
    """``.../onnx_rnn/mxnet/ops/nn.py`` -> ``onnx_rnn/mxnet/ops``, wherever the package was imported from."""
    parts = Path(path).parts
    start = max(i for i, part in enumerate(parts) if part == "onnx_rnn") if "onnx_rnn" in parts else 0
    return "/".join(parts[start:-1]) or "."


def check(packages: dict[str, PackageCoverage], floors: dict[str, float]) -> list[str]:
    """One line per package below its floor (or below ``default`` when it has no floor of its own)."""
    failures = []
    for name, cov in sorted(packages.items()):
        floor = floors.get(name, floors.get("default", 0.0))
        if cov.percent < floor:
            failures.append(f"{name}: {cov.percent:.1f}% covered, below its floor of {floor:.1f}%")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", help="coverage.py's JSON report (pytest --cov-report=json:PATH)")
    parser.add_argument("--pyproject", default=str(ROOT / "pyproject.toml"))
    args = parser.parse_args(argv)
    report = json.loads(Path(args.report).read_text())
    floors = tomllib.loads(Path(args.pyproject).read_text())["tool"]["onnx-rnn"]["coverage-floors"]
    packages = package_coverage(report)
    for name, cov in sorted(packages.items()):
        floor = floors.get(name, floors.get("default", 0.0))
        print(f"coverage {name:<22} {cov.percent:5.1f}%  (floor {floor:.0f}%)")
    failures = check(packages, floors)
    for line in failures:
        print(f"coverage floor crossed: {line}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
