"""The thesis' DCGAN: networks (:mod:`.models`), the run's settings (:mod:`.settings`), one
training iteration (:mod:`.step`), the loop (:mod:`.train`), resuming (:mod:`.resume`), run
folders and their records (:mod:`.runs`), checkpoints (:mod:`.checkpoint`), DiffAugment
(:mod:`.diffaugment`) and importing the thesis' weights (:mod:`.import_thesis`); sampling is
:mod:`thesis_lib.generate`."""
