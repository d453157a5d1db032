"""Build the MXNet model zoo in models/zoo/ (run with the MXNet 1.9.1 venv's Python; see models/README.md).

Usage: ``python tools/make_zoo.py [FAMILY ...]`` with FAMILY a module of ``tools/zoo/`` (all when omitted).
Each family module has ``build(out_dir: pathlib.Path) -> list[str]``: it writes one folder per model,
``out_dir/NAME/`` with ``NAME-symbol.json``, ``NAME-0000.params``, ``NAME-io.npz`` and ``NAME-convert.json``
(the layout ``tests/test_zoo.py`` reads), and returns the names it wrote. Some families need their own venv
(GluonNLP, GluonTS, keras-mxnet): their module docstring says which.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ZOO_DIR = ROOT / "models" / "zoo"


def families() -> list[str]:
    return sorted(
        m.name for m in pkgutil.iter_modules([str(Path(__file__).parent / "zoo")]) if not m.name.startswith("common")
    )


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).parent))
    chosen = argv or families()
    for family in chosen:
        module = importlib.import_module(f"zoo.{family}")
        names = module.build(ZOO_DIR)
        print(f"{family}: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
