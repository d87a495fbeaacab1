"""thesis_lib: the library behind the DCGAN breast-mass augmentation book.

Subpackages and modules, one job each:

- ``thesis_lib.data``: synthetic mammograms, DICOM I/O, dataset loaders, patch extraction,
  the patch store and patient-level splits.
- ``thesis_lib.config``: profiles (``configs/*.yaml``) and notebook parameters.
- ``thesis_lib.provenance``: what ran, with which settings, code and packages.
- ``thesis_lib.plots``: the book's figures.
"""

__version__ = "0.1.0"
