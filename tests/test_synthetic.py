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


def _thesis_cohort_spec(n_patients: int) -> CohortSpec:
    from thesis_lib import config
    return CohortSpec.from_params({**config.load_profile("thesis")["data_prep"]["synthetic"], "n_patients": n_patients})


def _place_patient(args):
    """Place patient ``index``'s masses in a CC and an MLO breast of the thesis profile (no
    rendering of the mammogram): the patient's own masses, breasts drawn from a test RNG."""
    import numpy as np
    from thesis_lib.data.phantom import breast_geometry, place_masses
    from thesis_lib.data.synthetic import patient_draws
    spec, seed, index = args
    *_, masses = patient_draws(spec, np.random.default_rng([seed, index]))
    out = []
    for view in ("CC", "MLO"):
        rng = np.random.default_rng([seed, index, len(view)])
        rho, inside, pectoral = breast_geometry(spec.imaging, view, rng)
        for drawn, (placed, _, mask) in zip(masses, place_masses(masses, rho, pectoral, spec.imaging.spacing_mm, rng)):
            out.append((drawn.radius_mm, placed.radius_mm, bool((rho[mask] < 0.95).all() and not pectoral[mask].any())))
    return out


@pytest.mark.slow
def test_thesis_profile_places_every_lesion_of_its_1200_patients():
    from thesis_lib import config
    from thesis_lib.parallel import process_map
    spec = _thesis_cohort_spec(1200)
    seed = config.load_profile("thesis")["seed"]
    rows = [r for patient in process_map(_place_patient, [(spec, seed, i) for i in range(1200)], workers=2)
            for r in patient]
    assert len(rows) > 2 * 1200  # every patient's masses, in both views
    assert all(inside for *_, inside in rows)  # each body inside the breast, off the pectoral muscle
    shrunk = [(d, p) for d, p, _ in rows if p < d]
    assert len(shrunk) <= 0.01 * len(rows), shrunk  # sizes bounded by the breast: rare, and reported here
    assert all(p >= 0.5 * d for d, p in shrunk)


def test_a_mass_too_big_for_random_tries_is_placed_from_the_feasible_set_or_shrunk():
    import numpy as np
    from dataclasses import replace
    from thesis_lib.data.phantom import feasible_centres, place_mass, random_mass
    rho = np.ones((300, 300))
    rho[100:200, 100:200] = 0.0  # a 100-pixel square of breast in a 300-pixel image
    free = np.zeros(rho.shape, bool)
    mass = replace(random_mass(np.random.default_rng(0), False, (8.0, 8.0)), harmonics=(), spicules=())
    placed = place_mass(mass, rho, free, 0.2, np.random.default_rng(1), max_tries=0)  # the exact set alone
    assert placed.radius_mm == mass.radius_mm
    r, c = placed.centre_rc
    assert 100 <= r < 200 and 100 <= c < 200
    again = place_mass(mass, rho, free, 0.2, np.random.default_rng(1), max_tries=0)
    assert again == placed  # drawn from the RNG alone: reproducible
    big = replace(mass, radius_mm=15.0)  # 150 pixels across: cannot fit; shrunk until it does
    fitted = place_mass(big, rho, free, 0.2, np.random.default_rng(1))
    assert fitted.radius_mm < 15.0 and feasible_centres(rho < 0.95, 1.0)[tuple(map(int, fitted.centre_rc))]
    with pytest.raises(RuntimeError, match="wholly blocked"):
        place_mass(mass, rho, np.ones(rho.shape, bool), 0.2, np.random.default_rng(1))


@pytest.mark.slow
def test_thesis_profile_builds_a_few_patients(tmp_path):
    from thesis_lib import config
    spec = _thesis_cohort_spec(2)
    root = write_cohort(tmp_path / "thesis", spec, seed=config.load_profile("thesis")["seed"], progress=False)
    truth = pd.read_csv(root / "ground_truth.csv")
    assert len(truth) == 8 and (truth.groupby("view").n_masses.max() >= 1).all()
    masses = pd.read_csv(root / "mass_case_description_train_set.csv")
    assert len(masses) + len(pd.read_csv(root / "mass_case_description_test_set.csv")) >= 4
