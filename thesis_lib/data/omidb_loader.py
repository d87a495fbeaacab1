"""Loader for OMI-DB (OPTIMAM; Halling-Brown et al. 2020), the thesis' own data, through the
``omidb`` package (PyPI), which parses its JSON structure::

    <root>/data/<client>/nbss_<client>.json       screening history (episodes, opinions)
    <root>/data/<client>/imagedb_<client>.json    studies -> series -> images -> marks (X1, Y1, X2, Y2, Mass, ...)
    <root>/data/<client>/<study>/<image>.json     the image's DICOM header in the DICOM JSON model
    <root>/images/<client>/<study>/<image>.dcm    the mammogram (``image/`` is accepted too)

A client (``demd...`` / ``optm...``, pseudonymous) is a patient and the split key. Marks are
boxes drawn by radiologists; a mark flagged ``Mass`` is a mass, one flagged as calcifications a
calcification. Only "for presentation" images are used; raw "for processing" ones are counted
as skipped. An episode's pathology is MALIGNANT or BENIGN from its biopsy and surgery opinions.
"""

from __future__ import annotations

from pathlib import Path

from thesis_lib.data.records import ImageRecord, Lesion, Skip

LATERALITY, VIEW, INTENT = "00200062", "00185101", "00080068"  # DICOM JSON keys of the tags used


def _folders(root: Path) -> tuple[Path, Path]:
    data = root / "data" if (root / "data").is_dir() else root
    images = next((root / name for name in ("images", "image") if (root / name).is_dir()), data)
    if not any(p.is_dir() and p.name[:4] in ("demd", "optm") for p in data.iterdir()):
        raise FileNotFoundError(f"no OMI-DB client folder (demd*/optm*) under {data}: is this OMI-DB? Point "
                                "data_root at the folder holding data/ and images/, or pass -p dataset ...")
    return data, images


def _mark_type(mark) -> str | None:
    if mark.mass:
        return "mass"
    if mark.calcifications or mark.suspicious_calcifications:
        return "calc"
    return None


def scan(root: str | Path, lesion_types: tuple[str, ...] = ("mass",)) -> tuple[list[ImageRecord], list[Skip]]:
    """Mammograms of an OMI-DB folder with their marked lesions, and the skipped files."""
    try:
        import omidb
        from omidb.utilities import try_image_attribute
    except ImportError as exc:
        raise ImportError("reading OMI-DB needs the omidb package: pip install omidb") from exc
    data, image_dir = _folders(Path(root))
    db = omidb.DB(data, image_dir=image_dir)
    records, skips, parsed = [], [], set()
    for client in db:
        parsed.add(client.id)
        for episode in client.episodes:
            pathology = ("MALIGNANT" if episode.has_malignant_opinions
                         else "BENIGN" if episode.has_benign_opinions else "")
            for study in episode.studies:
                for series in study.series:
                    for image in series.images:
                        path = image_dir / client.id / study.id / f"{image.id}.dcm"
                        name = f"{client.id}/{study.id}/{image.id}"
                        try:
                            attrs = image.attributes
                        except (OSError, ValueError) as exc:
                            skips.append(Skip(name, f"no DICOM header JSON for this image ({exc})"))
                            continue
                        if not path.is_file():
                            skips.append(Skip(str(path), "no DICOM file found for this image"))
                            continue
                        intent = str(try_image_attribute(attrs, INTENT) or "FOR PRESENTATION")
                        if intent.upper() != "FOR PRESENTATION":
                            skips.append(Skip(str(path), f"{intent.lower()} image: not for presentation"))
                            continue
                        lesions = []
                        for mark in image.marks:
                            kind = _mark_type(mark)
                            if kind not in lesion_types:
                                continue
                            b = mark.boundingBox
                            lesions.append(Lesion(
                                abnormality_id=len(lesions) + 1,
                                abnormality_type="mass" if kind == "mass" else "calcification",
                                box=(min(b.y1, b.y2), min(b.x1, b.x2), max(b.y1, b.y2) + 1, max(b.x1, b.x2) + 1),
                                pathology=pathology,
                                margins=mark.mass_classification.value if mark.mass_classification else ""))
                        records.append(ImageRecord(
                            patient_id=client.id, image_id=image.id, image_file=path,
                            laterality=str(try_image_attribute(attrs, LATERALITY) or "")[:1].upper(),
                            view=str(try_image_attribute(attrs, VIEW) or "").upper(),
                            source_split=f"episode {episode.id}", lesions=tuple(lesions)))
    skips += [Skip(str(data / c), "OMI-DB client that omidb could not parse (check its JSON files)")
              for c in sorted(db.clients - parsed)]
    records.sort(key=lambda r: (r.patient_id, r.image_id))  # omidb walks clients in set order
    return records, skips
