"""Diagrams of the book drawn by code: the seven steps of one DCGAN training iteration.

:func:`training_iteration` draws the iteration that :mod:`thesis_lib.training.gan` runs, as a flow
diagram in the order of the thesis' training figure:

1. draw a batch of latent vectors z ~ N(0, I);
2. pass them through G: a batch of fakes;
3. pass the real batch (flipped at random, labelled with the smoothed real label) and the
   *detached* fakes through D;
4. compute D's loss (binary cross-entropy);
5. update D;
6. pass the fakes through the updated D and compute G's non-saturating loss;
7. update G.

The top row is G's side of the game (steps 1, 2, 6, 7), the middle row D's (steps 3 to 5).
Solid arrows carry data through which gradients flow, the dashed arrow the detached fakes (no
gradient reaches G), dotted arrows the parameter updates. Colours are Okabe-Ito; text is black
on light fills and the steps are numbered, so the figure reads in grey print.

Command line: ``python -m thesis_lib.book.diagrams OUT_DIR`` writes ``dcgan_training_steps.png``,
``.pdf`` and ``.svg`` into ``OUT_DIR`` (each written atomically).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from thesis_lib.book.plots import PALETTE, save_figure
from thesis_lib.io import atomic_path

NAME = "dcgan_training_steps"

# Okabe-Ito roles: the generator's side green, the discriminator's blue, real data vermillion,
# losses orange, latent noise yellow, updates reddish purple.
ROLE_COLOURS = {
    "noise": "#F0E442",
    "generator": PALETTE["generated"],
    "real": PALETTE["mass"],
    "discriminator": PALETTE["normal"],
    "loss": "#E69F00",
    "update": "#CC79A7",
}
BOX_W, BOX_H = 2.3, 1.25
TOP, MIDDLE = 5.2, 2.4


def _box(ax, x: float, y: float, text: str, role: str, step: int | None = None, w: float = BOX_W,
         h: float = BOX_H) -> dict[str, tuple[float, float]]:
    """A rounded box centred on (x, y); returns its anchor points (left, right, top, bottom)."""
    colour = ROLE_COLOURS[role]
    # Okabe-Ito yellow is too pale for an outline on white paper: darken the outline only
    edge = tuple(0.6 * c for c in to_rgba(colour)[:3]) if role == "noise" else colour
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.15",
                                facecolor=to_rgba(colour, 0.22), edgecolor=edge, linewidth=1.8, zorder=2))
    ax.text(x, y, text, ha="center", va="center", fontsize=9, color="black", zorder=3, linespacing=1.35)
    if step is not None:
        cx, cy = x - w / 2 + 0.02, y + h / 2 - 0.02
        ax.add_patch(plt.Circle((cx, cy), 0.24, facecolor="black", edgecolor="white", linewidth=1.2, zorder=4))
        ax.text(cx, cy, str(step), ha="center", va="center", fontsize=10, fontweight="bold", color="white",
                zorder=5)
    return {"left": (x - w / 2, y), "right": (x + w / 2, y), "top": (x, y + h / 2), "bottom": (x, y - h / 2)}


def _arrow(ax, start, end, style: str = "solid", rad: float = 0.0, colour: str = "black", label: str = "",
           label_xy: tuple[float, float] | None = None) -> None:
    linestyle = {"solid": "-", "dashed": (0, (5, 3)), "dotted": (0, (1, 1.6))}[style]
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, linewidth=1.5,
                                 linestyle=linestyle, color=colour, shrinkA=2, shrinkB=2,
                                 connectionstyle=f"arc3,rad={rad}", zorder=1))
    if label:
        x, y = label_xy if label_xy else ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.18)
        ax.text(x, y, label, ha="center", va="bottom", fontsize=8, style="italic", color="0.15", zorder=3)


def training_iteration() -> Figure:
    """The seven steps of one DCGAN training iteration as a flow diagram (see the module)."""
    fig, ax = plt.subplots(figsize=(10.5, 4.9))
    ax.set_xlim(-0.1, 16.1)
    ax.set_ylim(0.0, 7.4)
    ax.set_axis_off()
    ax.set_aspect("equal")

    z = _box(ax, 1.35, TOP, "latent batch\n$z \\sim \\mathcal{N}(0, I)$", "noise", step=1)
    g = _box(ax, 4.3, TOP, "generator G", "generator", step=2)
    fake = _box(ax, 7.25, TOP, "fake batch\n$G(z)$", "generator")
    d_again = _box(ax, 10.0, TOP, "updated D\nscores $G(z)$", "discriminator")
    loss_g = _box(ax, 12.45, TOP, "G's loss\n$\\mathrm{BCE}(D(G(z)), 1)$\nnon-saturating", "loss",
                  step=6, w=2.15)
    upd_g = _box(ax, 14.85, TOP, "update G\nAdam, $\\beta_1 = 0$", "update", step=7, w=2.0)

    real = _box(ax, 1.35, MIDDLE, "real batch $x$\nrandom h/v flips\nlabel $\\tilde y \\sim U[0.7, 1]$",
                "real", w=2.6, h=1.45)
    d = _box(ax, 7.25, MIDDLE, "discriminator D", "discriminator", step=3)
    loss_d = _box(ax, 10.6, MIDDLE, "D's loss\n$\\mathrm{BCE}(D(x), \\tilde y)$\n$+\\,\\mathrm{BCE}(D(G(z)), 0)$",
                  "loss", step=4, w=2.7, h=1.45)
    upd_d = _box(ax, 14.1, MIDDLE, "update D\nAdam, $\\beta_1 = 0$", "update", step=5, w=2.0)

    _arrow(ax, z["right"], g["left"])
    _arrow(ax, g["right"], fake["left"])
    _arrow(ax, fake["right"], d_again["left"])
    _arrow(ax, d_again["right"], loss_g["left"])
    _arrow(ax, loss_g["right"], upd_g["left"])
    _arrow(ax, upd_g["top"], g["top"], style="dotted", rad=0.17, colour=ROLE_COLOURS["update"],
           label="new weights of G (gradients through D, D not changed)", label_xy=(9.6, 7.0))

    _arrow(ax, real["right"], d["left"], label="real", label_xy=(4.3, MIDDLE + 0.08))
    _arrow(ax, fake["bottom"], d["top"], style="dashed")
    ax.text(7.4, (TOP + MIDDLE) / 2, "detached:\nno gradient to G", ha="left", va="center", fontsize=8,
            style="italic", color="0.15")
    _arrow(ax, d["right"], loss_d["left"])
    _arrow(ax, loss_d["right"], upd_d["left"])
    _arrow(ax, upd_d["bottom"], d["bottom"], style="dotted", rad=-0.3, colour=ROLE_COLOURS["update"],
           label="new weights of D, used from step 6 on", label_xy=(10.6, 0.3))

    ax.text(0.05, 7.25, "G's side: steps 1, 2, 6, 7", ha="left", va="top", fontsize=9, fontweight="bold",
            color=ROLE_COLOURS["generator"])
    ax.text(0.05, 1.25, "D's side: steps 3 to 5", ha="left", va="top", fontsize=9, fontweight="bold",
            color=ROLE_COLOURS["discriminator"])
    fig.tight_layout(pad=0.2)
    return fig


def main(out_dir: str | Path) -> list[Path]:
    """Write ``dcgan_training_steps.png``, ``.pdf`` and ``.svg`` into ``out_dir``; return the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fig = training_iteration()
    try:
        paths = save_figure(fig, NAME, out_dir)
        svg = out_dir / f"{NAME}.svg"
        with atomic_path(svg) as tmp:
            fig.savefig(tmp, format="svg", bbox_inches="tight")
        paths.append(svg)
    finally:
        plt.close(fig)
    return paths


def _cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Draw the book's diagrams into a folder.")
    parser.add_argument("out_dir", help="folder for dcgan_training_steps.{png,pdf,svg}")
    args = parser.parse_args(argv)
    for path in main(args.out_dir):
        print(path)


if __name__ == "__main__":
    _cli()
