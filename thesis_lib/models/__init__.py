"""Networks and their files: the thesis' DCGAN (:mod:`.dcgan`), the checkpoint format
(:mod:`.checkpoint`), sampling a generator (:mod:`.generate`), naming the generators a study
compares (:mod:`.generators`) and importing the thesis' trained weights (:mod:`.import_thesis`).

Imports only the floor below (``thesis_lib.config``, ``io``, ``images``, ``devices``)."""
