"""The book's figures: one function per kind of figure, and one way to save them.

Each function takes data (arrays, tables) and returns a ``matplotlib.figure.Figure``; the
notebooks display it and :func:`save_figure` writes it as PNG and PDF for a LaTeX thesis.
"""

from __future__ import annotations

import re

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from PIL import Image

from thesis_lib.images import mosaic
from thesis_lib.io import atomic_path

# Okabe-Ito colour-blind-safe palette
PALETTE = {"mass": "#D55E00", "normal": "#0072B2", "generated": "#009E73", "flipped": "#CC79A7",
           "other": "#CC79A7"}
# t-SNE maps: the thesis' markers (real x, generated o, normal triangle), hollow or thin so
# that overlapping points stay visible, and distinct shapes for a grey print
TSNE_STYLE = {
    "real": dict(marker="x", color=PALETTE["mass"], s=14, linewidths=0.8, label="real mass"),
    "generated": dict(marker="o", facecolors="none", edgecolors=PALETTE["generated"], s=12,
                      linewidths=0.7, label="generated mass"),
    "flipped": dict(marker="s", facecolors="none", edgecolors=PALETTE["flipped"], s=10,
                    linewidths=0.7, label="flipped mass"),
    "normal": dict(marker="^", color=PALETTE["normal"], s=8, alpha=0.5, linewidths=0, label="normal tissue"),
}
plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 200, "font.size": 9, "axes.titlesize": 9})


def save_figure(fig: Figure, name: str, folder: str | Path, close: bool = False) -> list[Path]:
    """Write ``fig`` as ``folder/name.png`` and ``folder/name.pdf`` (atomically); ``close``
    it afterwards when it is written for the thesis only, not shown."""
    paths = []
    for ext in ("png", "pdf"):
        path = Path(folder) / f"{name}.{ext}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=ext, bbox_inches="tight")
        paths.append(path)
    if close:
        plt.close(fig)
    return paths


def mammograms_with_rois(images: list[np.ndarray], masks: list[list[np.ndarray]], titles: list[str],
                         spacing_mm: float | None = None) -> Figure:
    """Mammograms side by side, each lesion's ROI outlined; a 10 mm scale bar when the pixel
    spacing is known."""
    fig, axes = plt.subplots(1, len(images), figsize=(2.6 * len(images), 3.4), squeeze=False)
    for ax, image, roi, title in zip(axes[0], images, masks, titles):
        ax.imshow(image, cmap="gray", interpolation="lanczos")
        for m in roi:
            ax.contour(m, levels=[0.5], colors=PALETTE["mass"], linewidths=0.8)
        if spacing_mm:
            bar = 10.0 / spacing_mm
            r, c = image.shape[0] * 0.95, image.shape[1] * 0.05
            ax.plot([c, c + bar], [r, r], color="white", lw=2)
            ax.text(c, r - image.shape[0] * 0.02, "10 mm", color="white", fontsize=7)
        ax.set_title(title)
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def patch_montage(patches: np.ndarray, title: str = "", ncols: int = 8, ax=None) -> Figure:
    """A grid of (n, h, w) uint8 patches with white gaps."""
    grid = mosaic(patches, ncols)
    nrows = int(np.ceil(len(patches) / ncols))
    if ax is None:
        fig, ax = plt.subplots(figsize=(ncols * 0.9, nrows * 0.9 + 0.3))
    ax.imshow(grid, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ax.set_title(title)
    ax.set_axis_off()
    return ax.figure


def montage_panels(panels: dict[str, np.ndarray], ncols: int = 8, panels_per_row: int = 2) -> Figure:
    """One :func:`patch_montage` per entry of ``panels`` (title -> (n, h, w) uint8 patches),
    ``panels_per_row`` side by side, in one figure."""
    if not panels:
        raise ValueError("panels: nothing to show")
    nrows = int(np.ceil(len(panels) / panels_per_row))
    rows_per_panel = max(int(np.ceil(len(p) / ncols)) for p in panels.values())
    fig, axes = plt.subplots(nrows, panels_per_row, squeeze=False,
                             figsize=(panels_per_row * ncols * 0.75, nrows * (rows_per_panel * 0.75 + 0.4)))
    for ax, (title, patches) in zip(axes.flat, panels.items()):
        patch_montage(patches, title, ncols, ax=ax)
    for ax in axes.flat[len(panels):]:
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def intensity_histograms(densities: dict[str, tuple[np.ndarray, int]]) -> Figure:
    """Grey-level distributions, one curve per label: ``densities`` maps a label to its (256,)
    density over the grey levels 0..255 and the number of patches behind it."""
    fig, ax = plt.subplots(figsize=(5, 3))
    for label, (density, n) in densities.items():
        ax.step(np.arange(256), density, where="post", color=PALETTE.get(label, PALETTE["other"]),
                label=f"{label} (n = {n})")
    ax.set_xlabel("grey level (uint8, after histogram stretch)")
    ax.set_ylabel("density")
    ax.set_xlim(0, 255)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def power_spectra(f: np.ndarray, spectra: list[np.ndarray], betas: list[float], band: tuple[float, float],
                  requested: tuple[float, float]) -> Figure:
    """Left: radially averaged spectra (log-log) with the fit band shaded. Right: fitted beta
    per image against the requested range."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3))
    for p in spectra:
        a.loglog(f, p, color=PALETTE["normal"], alpha=0.25, lw=0.8)
    a.axvspan(*band, color="0.9", zorder=0, label="fit band")
    a.set_xlabel("spatial frequency (cycles/mm)")
    a.set_ylabel("power (a.u.)")
    a.legend(frameon=False)
    b.hist(betas, bins=15, color=PALETTE["normal"])
    b.axvspan(*requested, color="0.9", zorder=0, label="requested range")
    b.set_xlabel(r"fitted $\beta$")
    b.set_ylabel("images")
    b.legend(frameon=False, loc="upper left", bbox_to_anchor=(0.0, 1.15), ncol=1)
    fig.tight_layout()
    return fig


def training_curves(log: pd.DataFrame, smooth: int = 10) -> Figure:
    """GAN training per iteration: D and G losses (left), D(x) and D(G(z)) (right); thin lines
    are per iteration, thick ones a running mean over ``smooth`` iterations."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    series = [(a, "loss_d", "D loss", PALETTE["normal"]), (a, "loss_g", "G loss", PALETTE["mass"]),
              (b, "d_x", "D(x), real", PALETTE["normal"]), (b, "d_g_z1", "D(G(z)), fake", PALETTE["mass"])]
    for ax, col, label, colour in series:
        ax.plot(log.step, log[col], color=colour, alpha=0.25, lw=0.7)
        ax.plot(log.step, log[col].rolling(smooth, min_periods=1).mean(), color=colour, lw=1.6, label=label)
    b.axhline(0.5, color="0.6", lw=0.8, ls=":")
    a.set_ylabel("binary cross-entropy")
    b.set_ylabel("mean D output (probability)")
    b.set_ylim(0, 1)
    for ax in (a, b):
        ax.set_xlabel("iteration")
        ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def sample_progress(samples: list[tuple[int, Path]], n: int = 5, crop: int = 4) -> Figure:
    """Fixed-noise samples at ``n`` evenly spaced epochs: the top-left ``crop`` x ``crop``
    patches of each saved 8 x 8 grid; ``samples`` holds ``(epoch, png path)`` pairs."""
    if not samples:
        raise ValueError("no sample grids to show")
    picks = [samples[round(i * (len(samples) - 1) / max(n - 1, 1))] for i in range(min(n, len(samples)))]
    fig, axes = plt.subplots(1, len(picks), figsize=(2.3 * len(picks), 2.6), squeeze=False)
    for ax, (epoch, path) in zip(axes[0], picks):
        grid = np.asarray(Image.open(path))
        side = crop * grid.shape[1] // 8  # eight patches (and their gaps) to a row
        ax.imshow(grid[:side, :side], cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"epoch {epoch}")
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def score_curve(scores: pd.DataFrame, name: str, best_epoch: int | None = None) -> Figure:
    """Model-selection score (lower is better) against epoch, the kept epoch marked."""
    fig, ax = plt.subplots(figsize=(4.5, 3))
    ax.plot(scores.epoch, scores.score, "o-", color=PALETTE["normal"], ms=3)
    if best_epoch is not None:
        ax.axvline(best_epoch, color=PALETTE["mass"], ls="--", lw=1, label=f"kept: epoch {best_epoch}")
        ax.legend(frameon=False)
    ax.set_xlabel("epoch")
    ax.set_ylabel(name)
    fig.tight_layout()
    return fig


def fid_curves(ours: pd.DataFrame, thesis_points: dict, ours_label: str, thesis_label: str) -> Figure:
    """FID against epoch: this run (left) and the thesis' reported curve (right), each on its
    own axes because data, N and length of training differ."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    a.plot(ours.epoch, ours.FID, "o-", color=PALETTE["generated"], ms=3)
    a.set_title(ours_label)
    epochs, values = zip(*sorted(thesis_points.items()))
    b.plot(epochs, values, "s--", color="0.35", ms=3)
    b.set_title(thesis_label)
    for ax in (a, b):
        ax.set_xlabel("epoch")
        ax.set_ylabel("FID")
    fig.tight_layout()
    return fig


# The approaches of the augmentation study: colour (Okabe-Ito), marker, line style
APPROACH_STYLE = {"ORG": ("#0072B2", "s", "-"), "Aug ORG": ("#56B4E9", "D", "--"), "ORG x2.5": ("#CC79A7", "P", ":"),
                  "Aug ORG x2.5": ("#009E73", "v", ":"), "GAN": ("#D55E00", "o", "-"),
                  "Aug GAN": ("#E69F00", "^", "--")}
# How a caption may name them: each colour, marker and line style of the table in words
COLOUR_WORDS = {"#0072B2": {"blue", "dark blue"}, "#56B4E9": {"sky-blue", "light blue"},
                "#CC79A7": {"pink", "reddish-purple"}, "#009E73": {"green", "bluish-green"},
                "#D55E00": {"vermilion", "red-orange"}, "#E69F00": {"orange", "yellow-orange"}}
MARKER_WORDS = {"s": {"squares"}, "D": {"diamonds"}, "P": {"plus signs", "crosses"}, "v": {"downward triangles"},
                "o": {"circles", "dots"}, "^": {"triangles", "upward triangles"}}
LINE_WORDS = {"-": {"solid"}, "--": {"dashed"}, ":": {"dotted"}}


def style_words(approach: str) -> set[str]:
    """Every word a caption may use for ``approach``'s colour, marker or line style in
    :func:`metric_against_k` (:data:`APPROACH_STYLE`), e.g. {"orange", "triangles", "dashed", ...}."""
    colour, marker, line = APPROACH_STYLE[approach]
    return COLOUR_WORDS[colour] | MARKER_WORDS[marker] | LINE_WORDS[line]


def table_with_details(table: pd.DataFrame, shown: list[str], summary: str) -> str:
    """HTML for a table too wide or too long to read at once: the columns ``shown`` (at most 8;
    none: the table is folded whole), then the whole table folded under ``summary`` (a <details>
    element the reader opens with a click)."""
    if len(shown) > 8:
        raise ValueError(f"shown: {len(shown)} columns; a table on the page holds at most 8")
    return ((table[shown].to_html(border=0) if shown else "") + f"<details><summary>{summary}</summary>\n"
            + table.to_html(border=0) + "\n</details>")


def caption_style_errors(text: str) -> list[str]:
    """Where ``text`` (a caption, a paragraph) names an approach's look wrongly: the colour word
    just before an approach's name, and the words in parentheses just after it ("Aug GAN
    (yellow-orange triangles, dashed)"), must be that approach's (:func:`style_words`). Returns
    one message per wrong word; [] when every style named is the one drawn."""
    every_colour = set().union(*COLOUR_WORDS.values())
    vocabulary = {w for phrase in every_colour.union(*MARKER_WORDS.values(), *LINE_WORDS.values())
                  for w in phrase.split()}
    names = sorted(APPROACH_STYLE, key=len, reverse=True)  # "Aug ORG x2.5" before "ORG"
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in names) + r")(?!\w)(?: \(([^)]*)\))?")
    errors = []
    for match in pattern.finditer(text):
        name, inside = match.group(1), match.group(2)
        before = " ".join(text[:match.start()].split()[-2:])
        allowed = style_words(name)
        for word in before.split():
            if word in every_colour and word not in allowed:
                errors.append(f"{name} is not {word}")
        for item in re.split(r", | and ", inside or ""):
            rest = item.strip()
            for word in sorted(allowed, key=len, reverse=True):
                rest = re.sub(rf"\b{re.escape(word)}\b", " ", rest)
            if set(rest.split()) & vocabulary:  # a style word left over: another arm's
                errors.append(f"{name} is not drawn as {item.strip()!r}")
    return errors


def metric_against_k(intervals: pd.DataFrame, thesis: dict | None, metric: str = "f1", ours_label: str = "this run",
                     thesis_label: str = "thesis") -> Figure:
    """``metric`` against training size k per approach: this run's estimates with their 95 %
    intervals (left; ``intervals`` has columns k, comparison (an approach's name), metric,
    estimate, low, high, as :func:`thesis_lib.studies.aug_results.intervals` writes them) and the thesis'
    reported means (right; ``thesis`` maps approach -> values at ``thesis["k"]``), each on its own
    axes; an approach the thesis did not run is left out there."""
    panels = [(ours_label, None)] + ([(thesis_label, thesis)] if thesis else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.4), squeeze=False)
    ours = intervals[intervals.metric == metric].set_index("comparison")
    ks = sorted(ours.k.unique()) if len(ours) else [0]
    dodge = 0.012 * ((ks[-1] - ks[0]) or ks[0] or 1)  # error bars of one k side by side, not on top
    centre = (len(APPROACH_STYLE) - 1) / 2
    for ax, (title, reported) in zip(axes[0], panels):
        for i, (approach, (colour, marker, ls)) in enumerate(APPROACH_STYLE.items()):
            if reported is None:
                if approach not in ours.index:
                    continue
                one = ours.loc[[approach]].sort_values("k")
                ax.errorbar(one.k + (i - centre) * dodge, one.estimate,
                            yerr=[one.estimate - one.low, one.high - one.estimate], color=colour, marker=marker,
                            ls=ls, ms=5, capsize=3, label=approach)
            elif approach in reported[metric]:
                ax.plot(reported["k"], reported[metric][approach], color=colour, marker=marker, ls=ls, ms=5,
                        label=approach)
        ax.set_xlabel("real training masses k")
        ax.set_ylabel(metric.upper() if len(metric) <= 3 else metric)
        ax.set_xticks(reported["k"] if reported is not None else ks)  # the k that ran; arms dodge around each
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0][0].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def nearest_neighbours(generated: np.ndarray, columns: dict[str, np.ndarray], n: int = 8) -> Figure:
    """Top row: ``n`` generated patches; one row below per space: each one's nearest training
    patch in that space (``columns``: space name -> (n, 128, 128) neighbours)."""
    rows = 1 + len(columns)
    fig, axes = plt.subplots(rows, n, figsize=(n * 1.1, rows * 1.2), squeeze=False)
    labels = ["generated", *[f"nearest\n({name})" for name in columns]]
    for r, images in enumerate([generated, *columns.values()]):
        for c in range(n):
            axes[r, c].imshow(images[c], cmap="gray", vmin=0, vmax=255)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(labels[r], fontsize=7)
    fig.tight_layout()
    return fig


def nearest_distance_histograms(checks: list) -> Figure:
    """Per space: nearest-training-patch distances of generated patches against the
    train-to-train distribution, with the 1st-percentile threshold."""
    fig, axes = plt.subplots(1, len(checks), figsize=(4.3 * len(checks), 3), squeeze=False)
    for ax, chk in zip(axes[0], checks):
        bins = np.histogram_bin_edges(np.concatenate([chk.train_to_train, chk.generated_to_train]), 25)
        ax.hist(chk.train_to_train, bins, density=True, alpha=0.6, color=PALETTE["mass"], label="train to train")
        ax.hist(chk.generated_to_train, bins, density=True, alpha=0.6, color=PALETTE["generated"],
                label="generated to train")
        ax.axvline(chk.threshold, color="k", ls="--", lw=1, label="1st percentile (train)")
        ax.set_xlabel(f"nearest-neighbour distance ({chk.space})")
        ax.set_ylabel("density")
        ax.legend(frameon=False, fontsize=7)
    fig.tight_layout()
    return fig


def tsne_map(coords: np.ndarray, groups: np.ndarray, title: str = "", ax=None) -> Figure:
    """A 2-D t-SNE map: (n, 2) ``coords``, each point styled by its set name in ``groups``
    (real, generated, flipped, normal; see ``TSNE_STYLE``), drawn in order of first
    appearance so that later sets lie on top. Axes carry no units: t-SNE distances are not
    comparable across a map."""
    groups = np.asarray(groups)
    unknown = sorted(set(groups) - set(TSNE_STYLE))
    if unknown or len(groups) != len(coords):
        raise ValueError(f"groups: {len(groups)} names for {len(coords)} points; unknown names {unknown}, "
                         f"known {sorted(TSNE_STYLE)}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(3.6, 3.6))
    for name in dict.fromkeys(groups):
        pts = coords[groups == name]
        style = TSNE_STYLE[name]
        ax.scatter(pts[:, 0], pts[:, 1], **{**style, "label": f"{style['label']} ({len(pts)})"})
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(frameon=False, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=2,
              handletextpad=0.2, columnspacing=0.8)
    ax.figure.tight_layout()
    return ax.figure


def tsne_maps(maps: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]) -> Figure:
    """Every :func:`tsne_map` in one figure: one row per feature space, one column per map;
    ``maps[space][name] = (coords (n, 2), groups (n,))``."""
    spaces = list(maps)
    names = list(dict.fromkeys(n for m in maps.values() for n in m))
    fig, axes = plt.subplots(len(spaces), len(names), squeeze=False, figsize=(3.4 * len(names), 3.9 * len(spaces)))
    for i, space in enumerate(spaces):
        for j, name in enumerate(names):
            if name in maps[space]:
                tsne_map(*maps[space][name], f"{space}: {name.replace('_', ', ')}", ax=axes[i, j])
            else:
                axes[i, j].set_axis_off()
    fig.tight_layout()
    return fig
