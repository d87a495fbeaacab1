"""What defines a DCGAN training run: :class:`GanConfig` (defaults: the thesis' recipe), built
from a profile's resolved ``gan`` section, with its checks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from thesis_lib import config
from thesis_lib.sections import EXECUTION
from thesis_lib.training.diffaugment import parse_policy

# Keys of a resolved gan section that are not GanConfig fields: model selection, and what
# config.resolve adds (the profile's name and its output folder)
SECTION_KEYS = {"evaluator", "eval_samples", "profile", "artifacts"}


@dataclass(frozen=True)
class GanConfig:
    """Everything that defines a training run (defaults: the thesis); frozen, changed only
    through :func:`dataclasses.replace`."""

    nz: int = 200
    ngf: int = 45
    ndf: int = 45
    image_size: int | None = None  # pixels; None: the training patches' size (the thesis: 128)
    epochs: int = 1000
    iterations: int = 0  # > 0: the budget in iterations (rounded up to whole epochs), replacing epochs
    batch_size: int = 64
    lr_g: float = 4e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.0, 0.999)
    lr_decay: float = 0.99
    decay_every_g: int = 10
    decay_every_d: int = 8
    real_label_range: tuple[float, float] = (0.7, 1.0)
    flips: bool = True
    jitter_grey_levels: float = 0.0  # +- brightness and contrast jitter, in grey levels of 255
    # small-data options (off in the thesis' recipe)
    ema_decay: float = 0.0  # > 0: sample, score and keep an exponential moving average of G
    diffaugment: str = ""  # DiffAugment policy of D's inputs, e.g. "color,translation,cutout"
    diffaugment_strength: float = 1.0  # scales the transforms' ranges (1: DiffAugment's)
    diffaugment_p: float = 1.0  # probability that an image is augmented
    device: str = "auto"  # auto (cuda, mps, cpu) | cuda | cuda:1 | mps | cpu
    precision: str = "auto"  # auto (bf16 on CUDA, fp32 elsewhere) | bf16 | fp32
    channels_last: bool = True
    compile: bool = False
    seed: int = 0
    checkpoint_every: int = 500  # iterations between writes of latest.pt (and at the end) ...
    checkpoint_seconds: float = 60.0  # ... or this much training time, whichever comes first
    log_every: int = 50  # iterations per block of losses read back from the device (one read per block)
    sample_every: int = 10  # epochs
    eval_every: int = 10  # epochs
    snapshot_every: int = 0  # epochs between kept generator snapshots (0: none)
    saturation_patience: int = 200  # iterations with D(x) > 0.99 and D(G(z)) < 0.01

    def __post_init__(self):
        object.__setattr__(self, "betas", tuple(self.betas))  # YAML gives lists
        object.__setattr__(self, "real_label_range", tuple(self.real_label_range))
        for name in ("nz", "ngf", "ndf", "epochs", "batch_size", "checkpoint_every", "sample_every",
                     "eval_every", "saturation_patience", "log_every"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name}={getattr(self, name)}: must be >= 1")
        if not self.checkpoint_seconds > 0:
            raise ValueError(f"checkpoint_seconds={self.checkpoint_seconds}: must be > 0")
        if self.snapshot_every < 0:
            raise ValueError(f"snapshot_every={self.snapshot_every}: must be >= 0")
        lo, hi = self.real_label_range
        if not 0.0 < lo <= hi <= 1.0:
            raise ValueError(f"real_label_range={self.real_label_range}: need 0 < low <= high <= 1")
        if self.precision not in ("auto", "bf16", "fp32"):
            raise ValueError(f"precision={self.precision!r}: expected auto, bf16 or fp32")
        if self.jitter_grey_levels < 0:
            raise ValueError(f"jitter_grey_levels={self.jitter_grey_levels}: must be >= 0")
        if self.iterations < 0:
            raise ValueError(f"iterations={self.iterations}: must be >= 0 (0: train for epochs)")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay={self.ema_decay}: must be in [0, 1) (0: no EMA)")
        if not (0.0 <= self.diffaugment_p <= 1.0 and self.diffaugment_strength >= 0.0):
            raise ValueError(f"diffaugment_p={self.diffaugment_p}, diffaugment_strength={self.diffaugment_strength}: "
                             "need 0 <= p <= 1 and strength >= 0")
        parse_policy(self.diffaugment)

    @property
    def budget(self) -> str:
        """The training length as set, e.g. "1,000 iterations of batch 16" or "60 epochs of batch 32"."""
        length = f"{self.iterations:,} iterations" if self.iterations else f"{self.epochs:,} epochs"
        return f"{length} of batch {self.batch_size}"

    @classmethod
    def from_dict(cls, params: dict) -> "GanConfig":
        """Build from a resolved ``gan`` section (its fields, the model-selection settings and
        the resolver's ``profile`` and ``artifacts``); any other key is an error that names it
        and the profile's file, so a misspelt setting never falls back to a default."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - names - SECTION_KEYS)
        if unknown:
            where = f" in {config.profile_path(params['profile'])}" if params.get("profile") else ""
            raise KeyError(f"unknown gan setting(s) {unknown}{where}; known: {sorted(names | SECTION_KEYS)}")
        return cls(**{k: v for k, v in params.items() if k in names})

    def same_run(self, other: "GanConfig") -> bool:
        """True when ``other`` continues this run: equal in all but epochs and bookkeeping."""
        free = EXECUTION | {"epochs", "iterations", "checkpoint_every", "checkpoint_seconds", "log_every", "sample_every",
                            "eval_every", "snapshot_every"}
        a, b = asdict(self), asdict(other)
        return all(a[k] == b[k] for k in a if k not in free)
