"""Import the thesis' own trained generator as one of this project's checkpoints.

The thesis' mass generator is public: the medigan model zoo packages it as
``00002_DCGAN_MMG_MASS_ROI`` (a zip holding the weights and the thesis' generator code), and the
thesis repository's ``generators/run.py`` loads its saved generators the same way. Both are a
plain PyTorch ``state_dict`` of ``Generator(ngpu=1, nz=200, ngf=45, nc=1)``: one ``nn.Sequential``
named ``model`` of five ConvTranspose2d + BatchNorm2d + LeakyReLU(0.2) blocks and a last
ConvTranspose2d + Tanh, keys ``model.0.weight`` ... ``model.15.weight``. That is the layout of
:class:`thesis_lib.models.dcgan.Generator` (whose ``nn.Sequential`` is named ``net``), so the import
renames the keys, checks every shape, and writes a generator checkpoint that the book's chapters
and :func:`thesis_lib.models.generate.generate` can sample. Sampling matches the thesis': eval mode,
z ~ N(0, 1) of shape (n, nz, 1, 1), output in [-1, 1] mapped to uint8 by ``255 * (x / 2 + 0.5)``.

The file is read as data only (``torch.load(..., weights_only=True)``); a ``.zip`` from medigan
is read in place, without extracting it or importing its code.

    python -m thesis_lib.models.import_thesis 00002_DCGAN_MMG_MASS_ROI.zip --out thesis_G.pt
"""

from __future__ import annotations

import argparse
import hashlib
import io
import zipfile
from pathlib import Path

import torch

from thesis_lib.models import checkpoint
from thesis_lib.models.dcgan import Generator

WEIGHT_SUFFIXES = (".pt", ".pth")


class ThesisWeightsError(ValueError):
    """A file that is not a thesis generator's state_dict; the message names the file and why."""


def _read_bytes(path: Path, member: str | None) -> tuple[bytes, str | None]:
    """The weights' bytes: the file itself, or one ``.pt``/``.pth`` member of a zip (medigan's)."""
    if not path.is_file():
        raise ThesisWeightsError(f"{path}: no such file")
    if path.suffix.lower() != ".zip":
        return path.read_bytes(), None
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(WEIGHT_SUFFIXES)]
            if member is None:
                if len(names) != 1:
                    raise ThesisWeightsError(f"{path}: found {len(names)} weight files ({names}); choose one with --member")
                member = names[0]
            elif member not in archive.namelist():
                raise ThesisWeightsError(f"{path}: no member {member!r}; weight files in it: {names}")
            return archive.read(member), member
    except zipfile.BadZipFile as exc:
        raise ThesisWeightsError(f"{path}: not a readable zip ({exc})") from exc


def _load_state_dict(data: bytes, name: str) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated file, pickled module or code: nothing is executed
        raise ThesisWeightsError(f"{name}: not a plain state_dict that can be read as data "
                           f"({type(exc).__name__}: {str(exc)[:200]}); a pickled module or a truncated file "
                           "cannot be imported") from exc
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):  # a common wrapper
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ThesisWeightsError(f"{name}: holds a {type(state).__name__}, not a state_dict of tensors")
    return state


def thesis_layout(nz: int, ngf: int) -> dict[str, tuple[int, ...]]:
    """Key -> shape of the thesis generator's ``state_dict`` for ``nz`` and ``ngf``."""
    reference = Generator(nz, ngf).state_dict()
    return {"model." + key.removeprefix("net."): tuple(t.shape) for key, t in reference.items()}


def convert(state: dict[str, torch.Tensor], name: str = "state_dict") -> tuple[dict[str, torch.Tensor], dict]:
    """Our generator's ``state_dict`` and config (nz, ngf) from a thesis-layout ``state``.

    nz and ngf are read from the first layer's weight (nz, 10 x ngf, 4, 4); every other key and
    shape must then match :func:`thesis_layout`, or :class:`ThesisWeightsError` lists the missing and
    unexpected keys and the shapes that differ."""
    first = state.get("model.0.weight")
    if first is None or first.ndim != 4 or first.shape[1] % 10:
        raise ThesisWeightsError(f"{name}: no thesis generator layout: 'model.0.weight' of shape (nz, 10 x ngf, 4, 4) "
                           f"missing (found {tuple(first.shape) if first is not None else 'no such key'}; first keys: "
                           f"{list(state)[:5]})")
    nz, ngf = int(first.shape[0]), int(first.shape[1]) // 10
    expected = thesis_layout(nz, ngf)
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    differ = {k: (tuple(state[k].shape), expected[k]) for k in set(expected) & set(state)
              if tuple(state[k].shape) != expected[k]}
    if missing or unexpected or differ:
        raise ThesisWeightsError(f"{name}: not the thesis generator's layout (nz={nz}, ngf={ngf}): missing keys "
                           f"{missing}; unexpected keys {unexpected}; shapes that differ (found, expected) "
                           f"{dict(sorted(differ.items()))}")
    ours = {"net." + key.removeprefix("model."): tensor.float() if tensor.is_floating_point() else tensor
            for key, tensor in state.items()}
    return ours, {"nz": nz, "ngf": ngf, "image_size": 128}


def import_thesis(weights: str | Path, out: str | Path, member: str | None = None) -> dict:
    """Convert the thesis generator in ``weights`` (a ``state_dict`` file, or medigan's zip) into a
    generator checkpoint at ``out``; returns the checkpoint's ``source`` record (file name,
    SHA-256, zip member, nz, ngf)."""
    path = Path(weights)
    data, member = _read_bytes(path, member)
    name = f"{path}" + (f"!{member}" if member else "")
    generator, cfg = convert(_load_state_dict(data, name), name)
    Generator(**cfg).load_state_dict(generator)  # strict: fails loudly if anything is off
    source = {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "member": member,
              "weights_sha256": hashlib.sha256(data).hexdigest(), **cfg,
              "origin": "the thesis' trained generator (OPTIMAM patches), imported by thesis_lib.models.import_thesis"}
    checkpoint.save(out, {"config": cfg, "generator": generator, "source": source})
    return source


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="thesis-import-generator", description="Import the thesis' trained generator (a state_dict, or medigan's "
                                            "00002_DCGAN_MMG_MASS_ROI zip) as a checkpoint of this project.")
    p.add_argument("weights", help="the thesis generator's weights: a .pt/.pth state_dict or medigan's .zip")
    p.add_argument("--out", required=True, help="the checkpoint to write (e.g. artifacts/thesis_G.pt)")
    p.add_argument("--member", default=None, help="the weights file inside a zip holding several")
    args = p.parse_args(argv)
    try:
        source = import_thesis(args.weights, args.out, args.member)
    except ThesisWeightsError as exc:
        p.exit(2, f"import_thesis: {exc}\n")
    print(f"{args.out}: thesis generator nz={source['nz']}, ngf={source['ngf']} from {source['file']} "
          f"(sha256 {source['sha256'][:12]})")


if __name__ == "__main__":
    main()
