"""Does the generator copy its training patches? Nearest-neighbour checks.

For each generated patch, its nearest training patch, in pixel space (grey values scaled to
[0, 1], Euclidean) and in a feature space (e.g. FID Inception features). A generated patch is
*flagged* when it lies closer to a training patch than all but 1 % of training patches lie to
their own nearest other training patch: closer than real patches of different lesions ever are.
Synthetic data that reproduces a patient's lesion is a privacy problem, not only a diversity one.

Flags are tested, not argued away (:func:`reading`): against chance (a set that does not copy is
flagged at the percentile's rate) and against control sets that cannot copy the training
patches, such as real unseen masses and averages of two of them (smooth patches sit near
everything in pixel space). An excess over chance that a control shows as well is explained by
what the control shares with the generated set; an excess over chance and every control is
reported as a finding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import binom, fisher_exact


def nearest(query: np.ndarray, reference: np.ndarray, exclude_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distance from each row of ``query`` (n, d) to its nearest row of ``reference``
    (m, d), and that row's index. ``exclude_self``: query is reference; skip the diagonal."""
    q = torch.as_tensor(np.asarray(query, np.float32).reshape(len(query), -1))
    r = torch.as_tensor(np.asarray(reference, np.float32).reshape(len(reference), -1))
    dists, idx = [], []
    for start in range(0, len(q), 512):
        d = torch.cdist(q[start : start + 512], r)
        if exclude_self:
            rows = torch.arange(start, start + len(d))
            d[torch.arange(len(d)), rows] = float("inf")
        best = d.min(dim=1)
        dists.append(best.values)
        idx.append(best.indices)
    return torch.cat(dists).double().numpy(), torch.cat(idx).numpy()


FLAG_PERCENTILE = 1.0  # a generated patch is flagged when nearer a training patch than this % of training patches


@dataclass
class MemorisationCheck:
    """Generated-to-train and train-to-train nearest distances in one space."""

    space: str
    generated_to_train: np.ndarray  # (n_generated,)
    nearest_train: np.ndarray  # (n_generated,) indices into the training set
    train_to_train: np.ndarray  # (n_train,)
    threshold: float  # 1st percentile of train_to_train

    @property
    def flagged(self) -> np.ndarray:
        """Indices of generated patches closer to a training patch than ``threshold``."""
        return np.flatnonzero(self.generated_to_train < self.threshold)

    def summary(self) -> dict:
        return {"space": self.space, "generated": len(self.generated_to_train),
                "train": len(self.train_to_train),
                "median generated-to-train": float(np.median(self.generated_to_train)),
                "median train-to-train": float(np.median(self.train_to_train)),
                "threshold (1st percentile)": self.threshold, "flagged": len(self.flagged)}


def check(train: np.ndarray, generated: np.ndarray, space: str, percentile: float = FLAG_PERCENTILE) -> MemorisationCheck:
    """Nearest-neighbour memorisation check of ``generated`` against ``train`` (rows: samples;
    uint8 patches are scaled to [0, 1] first)."""
    if len(train) < 2:
        raise ValueError(f"need at least 2 training samples, got {len(train)}")
    scale = 1.0 / 255.0 if np.asarray(train).dtype == np.uint8 else 1.0
    train_f = np.asarray(train, np.float32).reshape(len(train), -1) * scale
    gen_f = np.asarray(generated, np.float32).reshape(len(generated), -1) * scale
    g2t, idx = nearest(gen_f, train_f)
    t2t, _ = nearest(train_f, train_f, exclude_self=True)
    return MemorisationCheck(space, g2t, idx, t2t, float(np.percentile(t2t, percentile)))


ALPHA = 0.05  # level of the flag tests


def reading(generated: MemorisationCheck, controls: dict[str, MemorisationCheck],
            percentile: float = FLAG_PERCENTILE) -> dict:
    """The flags of ``generated`` tested: ``chance_p`` (as many or more flagged by a set that does
    not copy, binomial at ``percentile`` %), for each control (name -> its check against the same
    training set) a one-sided Fisher exact ``p`` that the generated set is flagged more often, and
    ``finding``: an excess over chance and over every control, each at :data:`ALPHA`; ``text``
    says it, with the median distances to the training set beside the training patches' own."""
    n, flagged = len(generated.generated_to_train), len(generated.flagged)
    medians = {name: float(np.median(c.generated_to_train)) for name, c in controls.items()}
    controls = {name: (len(c.flagged), len(c.generated_to_train)) for name, c in controls.items()}
    chance_p = float(binom.sf(flagged - 1, n, percentile / 100))
    tests = {name: float(fisher_exact([[flagged, n - flagged], [f, m - f]], alternative="greater")[1])
             for name, (f, m) in controls.items()}
    excess = chance_p < ALPHA
    explained = [name for name, p in tests.items() if p >= ALPHA]
    finding = excess and not explained
    shown = "; ".join(f"{name}: {controls[name][0]} of {controls[name][1]} (p {p:.3f})" for name, p in tests.items())
    nearest = (f"Median distance to the nearest training patch: generated {np.median(generated.generated_to_train):.3g}, "
               + ", ".join(f"{name} {m:.3g}" for name, m in medians.items())
               + f"; training patches to each other {np.median(generated.train_to_train):.3g}. ")
    text = (f"{flagged} of {n} flagged (as many by chance: p {chance_p:.4f}); controls {shown}. " + nearest
            + ("**A finding: more flagged patches than chance and than every control, possible copies** (the "
               "nearest pairs are shown)." if finding else
               f"An excess over chance that a set which cannot copy shows as well ({', '.join(explained)}): not "
               "evidence of copying." if excess else "No excess over chance."))
    return {"space": generated.space, "flagged": flagged, "n": n, "chance_p": chance_p, "controls": tests,
            "control_flags": {k: list(v) for k, v in controls.items()}, "control_medians": medians,
            "finding": finding, "text": text}
