"""The embedded dataset: a cohort of synthetic patients written as DICOM in the on-disk
layout of CBIS-DDSM, so that the CBIS-DDSM loader reads it like the real thing.

Per patient: one breast with one or two masses (CC and MLO views of the same masses) and the
contralateral breast without lesions (CC and MLO). Laid out as CBIS-DDSM lays out its files::

    <root>/mass_case_description_{train,test}_set.csv
    <root>/Mass-Training_P_00001_LEFT_CC/<study UID>/<series UID>/1-1.dcm      mammogram
    <root>/Mass-Training_P_00001_LEFT_CC_1/<study UID>/<series UID>/1-{1,2}.dcm ROI mask + crop
    <root>/normal_case_description.csv                       lesion-free images (our addition)
    <root>/Normal-Training_P_00001_RIGHT_CC/<study UID>/<series UID>/1-1.dcm
    <root>/ground_truth.csv          phantom settings per image (beta, thickness, density)
    <root>/manifest.json             the cohort's settings; a matching cohort is not rebuilt

The CSVs name files ``000000.dcm`` (crop / image) and ``000001.dcm`` (mask) while the files
on disk are ``1-1.dcm`` and ``1-2.dcm`` in either order, exactly the quirk of the real data.
"""

from __future__ import annotations

import hashlib
import json
from functools import partial
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from thesis_lib.data import dicom, phantom
from thesis_lib.data.phantom import ImagingSpec, random_mass, render_mammogram
from thesis_lib.io import atomic_dir
from thesis_lib.parallel import process_map

CBIS_MASS_COLUMNS = [
    "patient_id", "breast_density", "left or right breast", "image view", "abnormality id",
    "abnormality type", "mass shape", "mass margins", "assessment", "pathology", "subtlety",
    "image file path", "cropped image file path", "ROI mask file path",
]
NORMAL_COLUMNS = ["patient_id", "breast_density", "left or right breast", "image view", "image file path"]


@dataclass(frozen=True)
class CohortSpec:
    """Settings of a synthetic cohort. Ranges are drawn uniformly per patient."""

    n_patients: int = 100
    beta_range: tuple[float, float] = (2.5, 3.5)
    thickness_mm_range: tuple[float, float] = (40.0, 65.0)
    glandular_fraction_range: tuple[float, float] = (0.15, 0.50)
    mass_diameter_mm_range: tuple[float, float] = (8.0, 25.0)
    p_malignant: float = 0.5
    p_second_mass: float = 0.2
    test_fraction: float = 0.2  # share of patients in the "Test" CSVs (CBIS-DDSM's own split)
    imaging: ImagingSpec = field(default_factory=ImagingSpec)

    def __post_init__(self):
        if self.n_patients < 1:
            raise ValueError(f"n_patients={self.n_patients}: must be >= 1")
        for name in ("beta_range", "thickness_mm_range", "glandular_fraction_range",
                     "mass_diameter_mm_range"):
            lo, hi = getattr(self, name)
            if not 0 < lo <= hi:
                raise ValueError(f"{name}={(lo, hi)}: expected 0 < low <= high")
        for name in ("p_malignant", "p_second_mass", "test_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name}={getattr(self, name)}: expected a probability in [0, 1]")

    @classmethod
    def from_params(cls, params: dict) -> "CohortSpec":
        """Build from a profile's ``synthetic`` section (``imaging`` a nested dict)."""
        params = dict(params)
        imaging = ImagingSpec(**params.pop("imaging", {}))
        tuples = {k: tuple(v) for k, v in params.items() if isinstance(v, list)}
        return cls(**{**params, **tuples}, imaging=imaging)


def generator_fingerprint() -> str:
    """SHA-256 of the code that draws a cohort: a cohort built by other code is rebuilt."""
    digest = hashlib.sha256()
    for module in (phantom, dicom):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def density_category(glandular_fraction: float) -> int:
    """BI-RADS-like density category 1-4 from the volumetric glandular fraction."""
    return int(np.searchsorted([0.2, 0.3, 0.4], glandular_fraction, side="right") + 1)


def write_cohort(root: str | Path, spec: CohortSpec, seed: int, progress: bool = True, workers: int = 1) -> Path:
    """Write the cohort under ``root`` (atomically) and return ``root``.

    Patient ``i`` is drawn from ``numpy.random.default_rng([seed, i])``, so a cohort is
    reproducible and a patient does not change when ``n_patients`` grows. When ``root``
    already holds a cohort with the same settings, seed and generator code, it is kept.
    ``workers`` > 1 renders patients in that many processes; the files and tables are the same
    byte for byte (each patient has its own RNG; tables are assembled in patient order).
    """
    root = Path(root)
    manifest = {"generator": "thesis_lib.data.synthetic", "code_sha256": generator_fingerprint(),
                "seed": seed, "spec": asdict(spec)}
    manifest = json.loads(json.dumps(manifest))  # tuples -> lists, as read back
    if (root / "manifest.json").is_file() and json.loads((root / "manifest.json").read_text()) == manifest:
        return root
    with atomic_dir(root) as tmp:
        rows = {"mass": [], "normal": [], "truth": []}
        patients = process_map(partial(_write_patient, tmp, spec=spec, seed=seed), range(spec.n_patients), workers)
        for patient in tqdm(patients, total=spec.n_patients, desc="synthetic patients", disable=not progress):
            for key, value in patient.items():
                rows[key] += value
        masses = pd.DataFrame(rows["mass"], columns=CBIS_MASS_COLUMNS + ["split"])
        for split, name in (("Training", "train"), ("Test", "test")):
            part = masses[masses.split == split].drop(columns="split")
            part.to_csv(tmp / f"mass_case_description_{name}_set.csv", index=False)
        pd.DataFrame(rows["normal"], columns=NORMAL_COLUMNS).to_csv(tmp / "normal_case_description.csv", index=False)
        pd.DataFrame(rows["truth"]).to_csv(tmp / "ground_truth.csv", index=False)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return root


def patient_draws(spec: CohortSpec, rng: np.random.Generator):
    """A patient's settings, the first draws from its RNG: ``(split, lesion side, beta,
    thickness mm, glandular fraction, masses)``, the masses unplaced (placement happens per
    view, in :func:`~thesis_lib.data.phantom.render_mammogram`)."""
    split = "Test" if rng.random() < spec.test_fraction else "Training"
    lesion_side = str(rng.choice(["LEFT", "RIGHT"]))
    beta = rng.uniform(*spec.beta_range)
    thickness = rng.uniform(*spec.thickness_mm_range)
    gland = rng.uniform(*spec.glandular_fraction_range)
    n_masses = 2 if rng.random() < spec.p_second_mass else 1
    masses = tuple(random_mass(rng, rng.random() < spec.p_malignant, spec.mass_diameter_mm_range)
                   for _ in range(n_masses))
    return split, lesion_side, beta, thickness, gland, masses


def _write_patient(root: Path, index: int, *, spec: CohortSpec, seed: int) -> dict[str, list]:
    """Render and write patient ``index``'s four images; returns its rows of the cohort's tables."""
    rows: dict[str, list] = {"mass": [], "normal": [], "truth": []}
    rng = np.random.default_rng([seed, index])
    pid = f"P_{index + 1:05d}"
    split, lesion_side, beta, thickness, gland, masses = patient_draws(spec, rng)
    density = density_category(gland)
    other_side = "RIGHT" if lesion_side == "LEFT" else "LEFT"
    for side, view in [(lesion_side, "CC"), (lesion_side, "MLO"), (other_side, "CC"), (other_side, "MLO")]:
        with_masses = side == lesion_side
        image = render_mammogram(spec.imaging, view, rng, beta=beta, thickness_mm=thickness,
                                 glandular_fraction=gland, masses=masses if with_masses else ())
        flip = np.fliplr if side == "RIGHT" else (lambda a: a)  # chest wall on the image's right
        case = f"{'Mass' if with_masses else 'Normal'}-{split}_{pid}_{side}_{view}"
        study = dicom.uid(seed, pid, "study")
        uids = {"study": study, "series": dicom.uid(seed, case, "series"), "sop": dicom.uid(seed, case)}
        folder = f"{case}/{study}/{uids['series']}"
        dicom.write_mammogram(root / folder / "1-1.dcm", np.ascontiguousarray(flip(image.pixels)),
                              patient_id=pid, laterality=side[0], view=view,
                              spacing_mm=spec.imaging.spacing_mm, bits_stored=spec.imaging.bits_stored,
                              uids=uids)
        rows["truth"].append({"file": f"{folder}/1-1.dcm", "patient_id": pid,
                              "beta": beta, "thickness_mm": thickness, "glandular_fraction": gland,
                              "view": view, "n_masses": len(image.masses)})
        if not with_masses:
            rows["normal"].append([pid, density, side, view, f"{folder}/000000.dcm"])
            continue
        for k, (mass, mask) in enumerate(zip(image.masses, image.mass_masks), start=1):
            mask = np.ascontiguousarray(flip(mask))
            r, c = np.nonzero(mask)
            crop = flip(image.pixels)[r.min() : r.max() + 1, c.min() : c.max() + 1]
            roi_series = dicom.uid(seed, case, k, "series")
            roi_folder = f"{case}_{k}/{study}/{roi_series}"
            names = ["1-1.dcm", "1-2.dcm"] if rng.random() < 0.5 else ["1-2.dcm", "1-1.dcm"]
            for name, pixels_out, role in ((names[0], (mask * 255).astype(np.uint8), "mask"),
                                           (names[1], np.ascontiguousarray(crop), "crop")):
                dicom.write_secondary(root / roi_folder / name, pixels_out, patient_id=pid, uids={
                    "study": study, "series": roi_series, "sop": dicom.uid(seed, case, k, role)})
            malignant = mass.pathology == "MALIGNANT"
            rows["mass"].append([
                pid, density, side, view, k, "mass", mass.shape, mass.margin,
                int(rng.integers(4, 6)) if malignant else int(rng.integers(2, 4)),
                mass.pathology, int(rng.integers(1, 6)),
                f"{folder}/000000.dcm", f"{roi_folder}/000000.dcm", f"{roi_folder}/000001.dcm", split])
    return rows
