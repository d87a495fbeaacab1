"""Training: the DCGAN's settings (:mod:`.gan_config`), one iteration on one screen
(:mod:`.gan_step`), DiffAugment (:mod:`.diffaugment`), the loop and its command line
(:mod:`.gan`), resuming (:mod:`.resume`), run folders and their records (:mod:`.runs`), and the
mass-vs-normal classifier (:mod:`.classifier`).

Sits above ``evaluation``: the loop keeps the generator an evaluation metric scores best."""
