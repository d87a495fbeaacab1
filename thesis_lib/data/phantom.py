"""A physically motivated mammogram phantom: breast, fibroglandular texture, masses, X-rays.

The image chain, in the order :func:`render_mammogram` applies it:

1. **Breast outline** of a compressed breast (CC or MLO view; MLO adds the pectoral muscle),
   with a compressed thickness ``T`` (mm) that stays flat inside and falls to zero at the skin.
2. **Fibroglandular texture**: a Gaussian random field with power spectrum
   ``P(f) ~ 1 / f**beta`` (real mammograms: beta about 2.5 to 3.5; Burgess 2001, Chen et al.
   2012), mapped linearly to a glandular fraction ``g`` in [0, 1] around the breast's
   glandular density; fatter towards the skin.
3. **Masses**: lobulated contours (a random Fourier series of the radius), an ellipsoidal
   thickness profile, blurred margins and optional spicules (see :class:`Mass`).
4. **Beer-Lambert** attenuation at 20 keV with the linear attenuation coefficients of
   adipose, glandular and carcinoma tissue (Johns and Yaffe 1987), then **Poisson quantum
   noise** on the detected photon counts.
5. **Display processing** of a "for presentation" image: ``log(N0 / N)`` plus a peripheral
   equalisation that undoes most of the skin-line thickness fall-off, scaled to
   ``bits_stored`` bits, background (no breast) at 0, so bright = attenuating.

Everything is driven by a ``numpy.random.Generator``: the same seed gives the same image.
Coordinates are (row, column) in pixels; sizes are in millimetres through ``spacing_mm``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy import ndimage

# Linear attenuation coefficients at 20 keV, in 1/mm (Johns and Yaffe 1987).
MU_ADIPOSE = 0.0456
MU_GLANDULAR = 0.0802
MU_CARCINOMA = 0.0844
MU_MUSCLE = 0.0800  # pectoral muscle, close to glandular tissue at this energy

MASS_DEPTH_RATIO = 0.8  # a compressed mass: depth semi-axis / in-plane radius
TEXTURE_AMPLITUDE = 0.18  # standard deviation of the glandular fraction around its mean
EQUALISATION = 0.8  # share of the skin-line thickness fall-off that display processing undoes
MASS_SHAPES = ("ROUND", "OVAL", "LOBULATED", "IRREGULAR")
MASS_MARGINS = ("CIRCUMSCRIBED", "OBSCURED", "ILL_DEFINED", "SPICULATED")
# Margin blur (Gaussian sigma, mm) for each margin type.
MARGIN_SIGMA_MM = {"CIRCUMSCRIBED": 0.15, "OBSCURED": 0.6, "ILL_DEFINED": 1.2, "SPICULATED": 0.4}


@dataclass(frozen=True)
class ImagingSpec:
    """Detector and acquisition settings shared by every image of a dataset."""

    rows: int = 768
    cols: int = 608
    spacing_mm: float = 0.2
    photons_per_pixel: float = 20000.0  # N0: unattenuated counts per pixel
    bits_stored: int = 12
    max_attenuation: float = 6.0  # log(N0/N) mapped to the top grey level

    def __post_init__(self):
        if self.rows < 256 or self.cols < 256:
            raise ValueError(f"image size {self.rows} x {self.cols}: rows and cols must be >= 256")
        if not 0.02 <= self.spacing_mm <= 1.0:
            raise ValueError(f"spacing_mm={self.spacing_mm}: expected 0.02 to 1.0 mm")
        if not 8 <= self.bits_stored <= 16:
            raise ValueError(f"bits_stored={self.bits_stored}: expected 8 to 16")
        if self.photons_per_pixel <= 0:
            raise ValueError(f"photons_per_pixel={self.photons_per_pixel}: must be > 0")


@dataclass(frozen=True)
class Mass:
    """One mass. ``radius_mm`` is the mean contour radius; the contour is
    ``r(theta) = radius * (1 + sum_n amp_n cos(n theta + phase_n))`` for n = 2, 3, ...
    """

    centre_rc: tuple[float, float]
    radius_mm: float
    harmonics: tuple[tuple[float, float], ...]  # (amplitude, phase) for n = 2, 3, ...
    shape: str
    margin: str
    pathology: str  # "BENIGN" or "MALIGNANT"
    spicules: tuple[tuple[float, float, float], ...] = ()  # (angle rad, length mm, width mm)


@dataclass
class Mammogram:
    """A rendered image and its ground truth."""

    pixels: np.ndarray  # (rows, cols) uint16, 0 outside the breast
    breast_mask: np.ndarray  # (rows, cols) bool
    mass_masks: list[np.ndarray] = field(default_factory=list)  # one (rows, cols) bool per mass
    masses: list[Mass] = field(default_factory=list)
    beta: float = float("nan")
    thickness_mm: float = float("nan")
    glandular_fraction: float = float("nan")


def power_law_field(shape: tuple[int, int], beta: float, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian field with radially isotropic ``P(f) ~ f**-beta``.

    Returns a float64 array of ``shape``; frequencies are in cycles per pixel.
    """
    if not 0.0 < beta < 6.0:
        raise ValueError(f"beta={beta}: expected 0 < beta < 6")
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    f = np.hypot(fy, fx)
    f[0, 0] = np.inf  # no DC component
    amplitude = f ** (-beta / 2.0)
    noise = rng.standard_normal(f.shape) + 1j * rng.standard_normal(f.shape)
    out = np.fft.irfft2(amplitude * noise, s=shape)
    out -= out.mean()
    return out / out.std()


def breast_geometry(spec: ImagingSpec, view: str, rng: np.random.Generator):
    """Outline of a compressed breast, chest wall at column 0.

    Returns ``(rho, inside, pectoral)``: ``rho`` (rows, cols) is the normalised distance from
    the chest-wall centre (1 on the skin line), ``inside`` the breast mask and ``pectoral``
    the pectoral-muscle mask (empty for CC).
    """
    if view not in ("CC", "MLO"):
        raise ValueError(f"view={view!r}: expected 'CC' or 'MLO'")
    rr, cc = np.ogrid[0 : spec.rows, 0 : spec.cols]  # (rows, 1) and (1, cols): broadcast below
    rr, cc = rr.astype(np.float64), cc.astype(np.float64)
    depth = rng.uniform(0.70, 0.88) * spec.cols
    if view == "CC":
        centre_r, half_height = spec.rows * rng.uniform(0.47, 0.53), spec.rows * rng.uniform(0.36, 0.44)
    else:
        centre_r, half_height = spec.rows * rng.uniform(0.40, 0.46), spec.rows * rng.uniform(0.44, 0.50)
    dy, dx = (rr - centre_r) / half_height, cc / depth
    theta = np.arctan2(dy, dx)
    wobble = 1.0 + sum(rng.uniform(0.0, 0.03) * np.cos(n * theta + rng.uniform(0, 2 * np.pi))
                       for n in range(2, 5))
    rho = np.hypot(dy, dx) / wobble
    pectoral = np.zeros(rho.shape, bool)
    if view == "MLO":
        width, height = rng.uniform(0.25, 0.35) * spec.cols, rng.uniform(0.45, 0.60) * spec.rows
        pectoral = cc < width * (1.0 - rr / height)
    inside = (rho < 1.0) | pectoral
    return rho, inside, pectoral


def thickness_profile(rho: np.ndarray, inside: np.ndarray, thickness_mm: float) -> np.ndarray:
    """Compressed thickness (mm): flat for ``rho < 0.75``, falling to 0 at the skin line."""
    edge = np.clip((rho - 0.75) / 0.25, 0.0, 1.0)
    return np.where(inside, thickness_mm * np.sqrt(np.clip(1.0 - edge**2, 0.0, 1.0)), 0.0)


def random_mass(rng: np.random.Generator, malignant: bool, diameter_mm: tuple[float, float]) -> Mass:
    """Draw a mass's shape, margin and size; ``centre_rc`` is filled in by placement.

    Benign-like masses are round or oval with circumscribed or obscured margins; malignant-like
    ones lobulated or irregular with ill-defined or spiculated margins.
    """
    radius = rng.uniform(*diameter_mm) / 2.0
    if malignant:
        shape = str(rng.choice(["LOBULATED", "IRREGULAR"]))
        margin = str(rng.choice(["ILL_DEFINED", "SPICULATED"]))
    else:
        shape = str(rng.choice(["ROUND", "OVAL"]))
        margin = str(rng.choice(["CIRCUMSCRIBED", "OBSCURED"]))
    amps = {
        "ROUND": [0.04, 0.02, 0.01],
        "OVAL": [rng.uniform(0.15, 0.30), 0.02, 0.01],
        "LOBULATED": [0.05, rng.uniform(0.08, 0.15), rng.uniform(0.08, 0.15), 0.05],
        "IRREGULAR": list(rng.uniform(0.03, 0.14, size=8) / np.arange(1, 9) ** 0.5),
    }[shape]
    harmonics = tuple((float(a * rng.uniform(0.6, 1.0)), float(rng.uniform(0, 2 * np.pi))) for a in amps)
    spicules = ()
    if margin == "SPICULATED":
        n = int(rng.integers(8, 20))
        spicules = tuple((float(rng.uniform(0, 2 * np.pi)), float(radius * rng.uniform(0.5, 1.2)),
                          float(rng.uniform(0.3, 0.6))) for _ in range(n))
    return Mass((0.0, 0.0), float(radius), harmonics, shape, margin,
                "MALIGNANT" if malignant else "BENIGN", spicules)


def mass_extent_mm(mass: Mass) -> float:
    """Half-width (mm) of a square that holds the mass, its spicules and its margin blur."""
    r_max = mass.radius_mm * (1.0 + sum(a for a, _ in mass.harmonics))
    spic = max((mass.radius_mm + length for _, length, _ in mass.spicules), default=0.0)
    return max(r_max, spic) + 4.0 * MARGIN_SIGMA_MM[mass.margin] + 1.0


def render_mass(mass: Mass, spacing_mm: float, shape: tuple[int, int]):
    """Path length (mm) through the mass and its outline mask, both of ``shape``.

    The body is a flattened ellipsoid under the Fourier contour (path length
    ``2 d sqrt(1 - rho**2)`` with depth ``d = MASS_DEPTH_RATIO * R``), blurred by the margin's sigma; spicules are thin tapering
    cylinders from the contour outwards. The mask is the contour (spicules excluded), the
    outline a radiologist would draw.
    """
    half = int(np.ceil(mass_extent_mm(mass) / spacing_mm))
    r0, c0 = mass.centre_rc
    ir, ic = int(round(r0)), int(round(c0))
    lr, lc = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float64)
    y, x = (lr + ir - r0) * spacing_mm, (lc + ic - c0) * spacing_mm
    theta = np.arctan2(y, x)
    contour = mass.radius_mm * (1.0 + sum(a * np.cos(n * theta + p)
                                          for n, (a, p) in enumerate(mass.harmonics, start=2)))
    rho = np.hypot(y, x) / contour
    depth = MASS_DEPTH_RATIO * mass.radius_mm
    body = np.where(rho < 1.0, 2.0 * depth * np.sqrt(np.clip(1.0 - rho**2, 0, 1)), 0.0)
    for angle, length, width in mass.spicules:
        ux, uy = np.cos(angle), np.sin(angle)
        base = mass.radius_mm * 0.8
        along = x * ux + y * uy - base
        across = np.abs(-x * uy + y * ux)
        w = width * np.clip(1.0 - along / length, 0.0, 1.0)  # tapers to a point
        spike = np.where((along > 0) & (along < length) & (across < w),
                         2.0 * np.sqrt(np.clip(w**2 - across**2, 0, None)), 0.0)
        body = np.maximum(body, spike)
    body = ndimage.gaussian_filter(body, MARGIN_SIGMA_MM[mass.margin] / spacing_mm)
    path = np.zeros(shape)
    mask = np.zeros(shape, bool)
    r_lo, c_lo = ir - half, ic - half
    sl_img = (slice(max(r_lo, 0), min(r_lo + 2 * half + 1, shape[0])),
              slice(max(c_lo, 0), min(c_lo + 2 * half + 1, shape[1])))
    sl_loc = (slice(sl_img[0].start - r_lo, sl_img[0].stop - r_lo),
              slice(sl_img[1].start - c_lo, sl_img[1].stop - c_lo))
    path[sl_img] = body[sl_loc]
    mask[sl_img] = (rho < 1.0)[sl_loc]
    return path, mask


def place_mass(mass: Mass, rho: np.ndarray, blocked: np.ndarray, spacing_mm: float,
               rng: np.random.Generator, max_tries: int = 500) -> Mass:
    """Give ``mass`` a centre such that its body (contour plus margin blur) lies inside the
    breast (``rho < 0.95``) and off ``blocked`` (pectoral muscle, masses placed before).
    Spicules may reach further.

    First ``max_tries`` centres are drawn uniformly over the image (the rule every cohort was
    drawn with). When none fits, the centre is drawn uniformly from the exact set of centres
    that fit (:func:`feasible_centres`); when that set is empty the mass is bounded by the
    breast: shrunk (radius and spicules) in steps of 10 % until it fits. Both fallbacks draw
    from ``rng`` alone, so a cohort stays reproducible. Raises ``RuntimeError`` only when not
    even a 1 mm mass fits (the breast is wholly blocked)."""
    half = _body_half_px(mass, spacing_mm)
    rows, cols = rho.shape
    for _ in range(max_tries):
        r, c = rng.uniform(half, rows - half), rng.uniform(half, cols - half)
        r0, r1, c0, c1 = int(r - half), int(r + half) + 1, int(c - half), int(c + half) + 1
        if rho[r0:r1, c0:c1].max() < 0.95 and not blocked[r0:r1, c0:c1].any():
            return replace(mass, centre_rc=(float(r), float(c)))
    allowed = (rho < 0.95) & ~blocked
    while mass.radius_mm >= 0.5:
        rr, cc = np.nonzero(feasible_centres(allowed, _body_half_px(mass, spacing_mm)))
        if len(rr):
            i = int(rng.integers(len(rr)))
            return replace(mass, centre_rc=(float(rr[i]), float(cc[i])))
        mass = shrunk(mass, 0.9)
    raise RuntimeError("could not place even a 1 mm mass inside the breast: the breast is wholly blocked "
                       "(pectoral muscle and masses placed before)")


def _body_half_px(mass: Mass, spacing_mm: float) -> float:
    """Half-width (pixels) of the square that :func:`place_mass` keeps inside the breast."""
    body = mass.radius_mm * (1.0 + sum(a for a, _ in mass.harmonics)) + 3.0 * MARGIN_SIGMA_MM[mass.margin]
    return body / spacing_mm + 2


def feasible_centres(allowed: np.ndarray, half: float) -> np.ndarray:
    """(rows, cols) bool: pixels whose square of half-width ``ceil(half)`` pixels lies wholly
    inside ``allowed`` and inside the image (a superset of :func:`place_mass`'s window)."""
    side = 2 * int(np.ceil(half)) + 1
    return ndimage.minimum_filter(allowed.astype(np.uint8), size=side, mode="constant", cval=0).astype(bool)


def shrunk(mass: Mass, factor: float) -> Mass:
    """``mass`` with its radius and spicule lengths multiplied by ``factor`` (shape kept)."""
    return replace(mass, radius_mm=mass.radius_mm * factor,
                   spicules=tuple((angle, length * factor, width) for angle, length, width in mass.spicules))


def place_masses(masses: tuple[Mass, ...], rho: np.ndarray, pectoral: np.ndarray, spacing_mm: float,
                 rng: np.random.Generator) -> list[tuple[Mass, np.ndarray, np.ndarray]]:
    """Place ``masses`` one after another (:func:`place_mass`), each off the pectoral muscle and
    2 mm clear of those before it; returns ``(placed mass, path length mm, outline mask)`` per
    mass, the arrays of ``rho``'s shape (:func:`render_mass`)."""
    out = []
    blocked = pectoral.copy()
    for mass in masses:
        m = place_mass(mass, rho, blocked, spacing_mm, rng)
        path, mask = render_mass(m, spacing_mm, rho.shape)
        out.append((m, path, mask))
        blocked |= ndimage.binary_dilation(mask, iterations=int(2.0 / spacing_mm) + 1)
    return out


def render_mammogram(spec: ImagingSpec, view: str, rng: np.random.Generator, *, beta: float,
                     thickness_mm: float, glandular_fraction: float,
                     masses: tuple[Mass, ...] = ()) -> Mammogram:
    """Render one mammogram (chest wall at column 0; flip it for the other laterality).

    ``masses`` are drawn with :func:`random_mass` and placed here, so that the same lesion
    can appear in both views of a breast at a view-specific position.
    """
    if not 0.0 <= glandular_fraction <= 1.0:
        raise ValueError(f"glandular_fraction={glandular_fraction}: expected 0 to 1")
    rho, inside, pectoral = breast_geometry(spec, view, rng)
    t = thickness_profile(rho, inside, thickness_mm)
    t = np.where(pectoral, thickness_mm, t)
    texture = power_law_field((spec.rows, spec.cols), beta, rng)
    envelope = 1.0 - 0.6 * np.clip((rho - 0.5) / 0.5, 0.0, 1.0)  # fatter towards the skin
    g = np.clip(envelope * (glandular_fraction + TEXTURE_AMPLITUDE * texture), 0.0, 1.0)
    mu_tissue = MU_ADIPOSE * (1.0 - g) + MU_GLANDULAR * g
    muscle = MU_MUSCLE * t * (1.0 + 0.04 * texture)  # fibres and fat seams: mild texture
    attenuation = np.where(pectoral, muscle, mu_tissue * t)

    placed, masks = [], []
    for m, path, mask in place_masses(masses, rho, pectoral, spec.spacing_mm, rng):
        path = np.minimum(path, 0.8 * t)  # a mass cannot be thicker than the breast
        attenuation += path * (MU_CARCINOMA - mu_tissue)
        placed.append(m)
        masks.append(mask & inside)

    counts = rng.poisson(spec.photons_per_pixel * np.exp(-attenuation))
    log_atten = np.log(spec.photons_per_pixel / np.maximum(counts, 1))
    log_atten += EQUALISATION * MU_ADIPOSE * (thickness_mm - t)  # peripheral equalisation
    top = 2**spec.bits_stored - 1
    pixels = np.clip(np.round(log_atten / spec.max_attenuation * top), 1, top)
    pixels = np.where(inside, pixels, 0).astype(np.uint16)
    return Mammogram(pixels, inside, masks, placed, beta, thickness_mm, glandular_fraction)
