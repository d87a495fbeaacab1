import json

import pandas as pd
import pytest

from thesis_lib.data.phantom import ImagingSpec
from thesis_lib.data.synthetic import CohortSpec, density_category, write_cohort


@pytest.mark.slow
def test_cohort_is_deterministic_and_cached(tmp_path):
    spec = CohortSpec(n_patients=2, imaging=ImagingSpec(rows=384, cols=320, spacing_mm=0.3))
    a = write_cohort(tmp_path / "a", spec, seed=5, progress=False)
    b = write_cohort(tmp_path / "b", spec, seed=5, progress=False, workers=2)  # processes: same bytes
    files_a = sorted(p.relative_to(a) for p in a.rglob("*.dcm"))
    assert files_a == sorted(p.relative_to(b) for p in b.rglob("*.dcm"))
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files_a)
    assert all((a / f.name).read_bytes() == (b / f.name).read_bytes() for f in a.glob("*.csv"))
    stamp = (a / "manifest.json").stat().st_mtime_ns
    write_cohort(a, spec, seed=5, progress=False)  # same settings: kept as it is
    assert (a / "manifest.json").stat().st_mtime_ns == stamp
    write_cohort(a, spec, seed=6, progress=False)  # other seed: rebuilt
    assert json.loads((a / "manifest.json").read_text())["seed"] == 6
    truth = pd.read_csv(a / "ground_truth.csv")
    assert len(truth) == 8 and truth.beta.between(2.5, 3.5).all()
    assert all((a / f).is_file() for f in truth.file)


def test_cohort_spec_validation():
    with pytest.raises(ValueError, match="n_patients=0"):
        CohortSpec(n_patients=0)
    with pytest.raises(ValueError, match="beta_range"):
        CohortSpec(beta_range=(3.0, 2.0))
    with pytest.raises(ValueError, match="p_malignant"):
        CohortSpec(p_malignant=1.5)
    spec = CohortSpec.from_params({"n_patients": 3, "beta_range": [2.6, 3.0], "imaging": {"rows": 300, "cols": 300}})
    assert spec.beta_range == (2.6, 3.0) and spec.imaging.rows == 300


def test_density_categories():
    assert [density_category(g) for g in (0.1, 0.25, 0.35, 0.45)] == [1, 2, 3, 4]
