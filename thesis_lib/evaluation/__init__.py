"""Measuring images and predictions: Inception features and their cache (:mod:`.inception`,
:mod:`.fid_inception`), FID, KID, precision/recall and the spectrum check (:mod:`.metrics`),
memorisation (:mod:`.memorisation`), neighbourhoods and embeddings (:mod:`.neighbourhoods`,
:mod:`.embedding`), classification scores (:mod:`.scoring`) and the patient-level bootstrap
(:mod:`.bootstrap`).

Imports ``data`` and ``models`` (it samples generators) and the floor below them."""
