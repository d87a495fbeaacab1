"""The thesis' DCGAN: models (:mod:`.models`), training (:mod:`.train`), checkpoints
(:mod:`.checkpoint`) and sampling (:mod:`thesis_lib.generate`)."""
