#!/usr/bin/env bash
# Create (or reuse) the MXNet 1.9.1 venv used by tools/make_fixtures.py and tools/mxnet_bench.py.
#
#   tools/mxnet_env.sh            -> <repo>/.venv-mxnet  (git-ignored)
#   PYTHON=/path/to/python3.11 tools/mxnet_env.sh
#
# MXNet 1.9.1 has no wheel built against numpy >= 1.24 (it uses the removed np.bool alias), so
# numpy is pinned below 1.24. Idempotent: does nothing when the venv already imports MXNet 1.9.1.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv-mxnet"
python="${PYTHON:-python3.11}"

check() {
    "$venv/bin/python" - <<'PY' 2>/dev/null
import warnings
warnings.simplefilter("ignore")
import mxnet, numpy
assert mxnet.__version__ == "1.9.1", mxnet.__version__
assert tuple(int(x) for x in numpy.__version__.split(".")[:2]) < (1, 24), numpy.__version__
PY
}

if [ -x "$venv/bin/python" ] && check; then
    echo "mxnet_env: $venv already has MXNet 1.9.1"
    exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "mxnet_env: creating $venv with $python"
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "numpy<1.24" "mxnet==1.9.1"

if check; then
    echo "mxnet_env: $venv ready (MXNet 1.9.1)"
else
    echo "mxnet_env: MXNet 1.9.1 does not import in $venv" >&2
    exit 1
fi
