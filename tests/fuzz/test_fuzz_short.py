"""The fuzz targets of tests/fuzz/fuzz_targets.py, briefly (seconds in all), and every kept finding replayed.

The long run is ``make fuzz`` (FUZZ_SECONDS per target); what it finds lands in tests/fuzz_regressions/ and is
replayed here, so a fixed finding stays fixed.
"""

from __future__ import annotations

import pytest
from fuzz_targets import regression_files, targets
from hypothesis import HealthCheck, given, settings

from onnx_rnn.runtime import plugin_available

SHORT = {"params": 150, "symbol": 40, "attrs": 40, "plugin": 60}


def _needs(name: str) -> None:
    if name == "plugin" and not plugin_available():
        pytest.skip("the plugin library is not built")


@pytest.mark.parametrize("name", sorted(SHORT))
def test_short_fuzz(name: str) -> None:
    _needs(name)
    target = targets()[name]

    @settings(max_examples=SHORT[name], deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(target.strategy)
    def run(value) -> None:
        target.check(target.encode(value))

    run()


REPLAYS = [(name, path) for name in sorted(SHORT) for path in regression_files(name)]


@pytest.mark.parametrize("name,path", REPLAYS, ids=[p.name for _, p in REPLAYS])
def test_kept_findings_stay_fixed(name, path) -> None:
    _needs(name)
    targets()[name].check(path.read_bytes())
