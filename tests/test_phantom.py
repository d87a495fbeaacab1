import numpy as np
import pytest

from thesis_lib.data.phantom import ImagingSpec, power_law_field, random_mass, render_mammogram
from thesis_lib.data.spectrum import fit_beta, measure_beta, radial_power_spectrum

SPEC = ImagingSpec(rows=768, cols=608, spacing_mm=0.2)


@pytest.mark.parametrize("beta", [2.5, 3.0, 3.5])
def test_power_law_field_has_the_requested_exponent(beta):
    fitted = []
    for seed in range(6):
        field = power_law_field((256, 256), beta, np.random.default_rng(seed))
        fitted.append(fit_beta(*radial_power_spectrum(field), (0.02, 0.25)))
    assert np.mean(fitted) == pytest.approx(beta, abs=0.12)
    assert field.mean() == pytest.approx(0.0, abs=1e-9) and field.std() == pytest.approx(1.0)


@pytest.mark.parametrize("beta", [2.5, 3.5])
@pytest.mark.slow
def test_rendered_mammograms_keep_beta(beta):
    fitted = []
    for seed in range(4):
        m = render_mammogram(SPEC, "CC", np.random.default_rng(seed), beta=beta, thickness_mm=50,
                             glandular_fraction=0.3)
        fitted.append(measure_beta(m.pixels, m.breast_mask, SPEC.spacing_mm)[0])
    assert np.mean(fitted) == pytest.approx(beta, abs=0.25)


def test_same_seed_same_image_and_different_seed_differs():
    def draw(seed):
        rng = np.random.default_rng(seed)
        return render_mammogram(SPEC, "MLO", rng, beta=3.0, thickness_mm=55, glandular_fraction=0.3,
                                masses=(random_mass(rng, True, (10, 20)),))
    a, b, c = draw(1), draw(1), draw(2)
    np.testing.assert_array_equal(a.pixels, b.pixels)
    np.testing.assert_array_equal(a.mass_masks[0], b.mass_masks[0])
    assert not np.array_equal(a.pixels, c.pixels)


@pytest.mark.parametrize("malignant", [False, True])
def test_mass_mask_marks_a_brighter_lesion_inside_the_breast(malignant):
    from scipy import ndimage
    rng = np.random.default_rng(3)
    masses = (random_mass(rng, malignant, (12, 20)), random_mass(rng, malignant, (8, 12)))
    m = render_mammogram(SPEC, "CC", rng, beta=3.0, thickness_mm=50, glandular_fraction=0.2, masses=masses)
    assert len(m.mass_masks) == 2
    assert not (m.mass_masks[0] & m.mass_masks[1]).any(), "masses must not overlap"
    for mask, mass in zip(m.mass_masks, m.masses):
        assert mask.any() and m.breast_mask[mask].all()
        # mask area matches the drawn size within the contour's wobble
        area_mm2 = mask.sum() * SPEC.spacing_mm**2
        assert 0.5 < area_mm2 / (np.pi * mass.radius_mm**2) < 1.6
        ring = ndimage.binary_dilation(mask, iterations=25) & ~ndimage.binary_dilation(mask, iterations=10)
        assert m.pixels[mask].mean() > m.pixels[ring & m.breast_mask].mean()


def test_image_range_and_background():
    m = render_mammogram(SPEC, "CC", np.random.default_rng(0), beta=3.0, thickness_mm=50, glandular_fraction=0.3)
    assert m.pixels.dtype == np.uint16 and m.pixels.max() < 2**SPEC.bits_stored
    np.testing.assert_array_equal(m.pixels > 0, m.breast_mask)  # the thesis' breast mask rule holds


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="rows and cols"):
        ImagingSpec(rows=64, cols=64)
    with pytest.raises(ValueError, match="beta"):
        power_law_field((64, 64), 7.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="view"):
        render_mammogram(SPEC, "ML", np.random.default_rng(0), beta=3, thickness_mm=50, glandular_fraction=0.3)
    with pytest.raises(ValueError, match="glandular_fraction"):
        render_mammogram(SPEC, "CC", np.random.default_rng(0), beta=3, thickness_mm=50, glandular_fraction=1.5)
