"""The G_k budget measured outside the book: read for the profile, and where the gate is met."""
import json

import pandas as pd
import pytest

from thesis_lib.studies.generator_gate import budget_reached, failed_rules, measured_budget


def _row(k, iterations, realistic, profile="smoke", generator=None, store="abc123"):
    return {"profile": profile, "store": store, "k": k, "fold": 0, "iterations": iterations, "N generated": 50,
            "FID": 60.0, "FID / floor": 1.5, "precision": 0.5 if realistic else 0.4, "recall": 0.3,
            "too close to training": 0.05, "too close limit": 0.2, "normal-tissue FID": 90.0, "called masses": 0.9,
            "called masses limit": 0.8, "real masses called": 0.9, "spectrum excess (dex)": 0.0, "realistic": realistic, "commit": "abc",
            "generator": generator or f"epoch_{iterations // 7:04d}"}


def test_the_measured_curve_is_this_profiles_snapshots_in_order(tmp_path):
    path = tmp_path / "gk_budget.jsonl"
    rows = [_row(100, 700, False), _row(100, 350, False), _row(50, 400, True), _row(100, 1050, True),
            _row(100, 1050, True, profile="thesis"), _row(100, 1050, True, generator="best"),
            _row(100, 1050, True, store="another build"),
            {k: v for k, v in _row(100, 1400, True).items() if k != "called masses"},  # before the class-aware rules
            {"profile": "smoke", "k": None, "generator": "epoch_0010"}]  # a fold GAN's curve, not a G_k
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    curve = measured_budget("smoke", "abc123", path)
    assert list(zip(curve.k, curve.iterations)) == [(50, 400), (100, 350), (100, 700), (100, 1050)]
    assert list(curve.fails) == ["", "precision 0.40 (< 0.5)", "precision 0.40 (< 0.5)", ""]  # the gate's rules
    assert measured_budget("smoke", "abc123", tmp_path / "missing.jsonl").empty
    path.write_text("{not json\n")
    with pytest.raises(ValueError, match="gk_budget.jsonl: not lines of JSON"):
        measured_budget("smoke", "abc123", path)


def test_the_budget_is_reached_where_every_later_snapshot_passes():
    curve = pd.DataFrame([_row(100, 350, False), _row(100, 700, True), _row(100, 1050, False),
                          _row(100, 1400, True), _row(100, 1750, True), _row(50, 400, False),
                          _row(20, 400, True)])
    assert budget_reached(curve) == {20: 400, 50: None, 100: 1400}  # a pass followed by a fail does not count


def test_failed_rules_are_named_without_numbers():
    gate = pd.DataFrame({"passed": [False, True, False],
                         "fails": ["precision 0.08 (< 0.5); recall 0.01 (< 0.3)", "", "recall 0.12 (< 0.3)"]})
    assert failed_rules(gate) == ["precision", "recall"]
