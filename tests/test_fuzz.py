"""A smoke run of the fuzzing harness (tools/fuzz.py): mutated files are decoded or
refused with a SparsepixError, never anything else. The full campaign is in docs/FUZZING.md."""

import pytest

from sparsepix.tools import fuzz


def test_mutations_reach_past_the_checksums():
    import numpy as np

    rng = np.random.default_rng(0)
    seed = fuzz.seeds()[0]
    mutated = [fuzz.mutate(seed, seed, rng, kind) for kind in fuzz.KINDS for _ in range(20)]
    assert len({m for m in mutated}) > 100
    assert fuzz.fix_crcs(seed) == seed  # recomputing intact checksums changes nothing


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="workers need fork and rlimits")
def test_smoke_campaign_finds_nothing():
    report = fuzz.campaign(cases=1500, workers=2, seed=12345, seconds=30)
    assert report["cases"] == 1500
    assert not report["findings"], report["findings"][:3]
    assert report["counts"].get("ok", 0) > 50 and report["counts"].get("refused", 0) > 500
