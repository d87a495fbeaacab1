"""thesis_lib: the library behind the DCGAN breast-mass augmentation book.

Floors, bottom to top; a module imports from its own package and the floors below it only
(``tests/test_layout.py`` checks this):

1. ``thesis_lib`` itself: ``config`` (profiles, resolved once), ``io`` (atomic writes),
   ``provenance``, ``images``, ``devices``, ``parallel``; ``reference/`` (the thesis' numbers).
2. ``thesis_lib.data``: synthetic mammograms, DICOM I/O, dataset loaders, patch extraction, the
   patch store, patient-level splits and training subsets.
3. ``thesis_lib.models``: the DCGAN, checkpoints, sampling, the thesis' weights.
4. ``thesis_lib.evaluation``: Inception features, FID/KID/precision/recall, memorisation,
   embeddings, classification scores, the patient-level bootstrap.
5. ``thesis_lib.training``: the GAN's iteration, loop and resume; the classifier.
6. ``thesis_lib.studies``: the experiments and their command-line steps (realism, augmentation
   k-sweep, generator gate, t-SNE, ablation, scorecard).
7. ``thesis_lib.book``: figures, diagrams and the book's build and browser check.

Notebooks sit on top: they read the studies' results and narrate them.
"""

__version__ = "0.1.0"
