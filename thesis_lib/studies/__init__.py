"""The thesis' experiments, each a library step with a command line that the workflow runs and
a chapter narrates: realism of the fold GANs (:mod:`.realism`, results :mod:`.fid_results`),
the augmentation k-sweep (:mod:`.augstudy`) and its generator gate (:mod:`.generator_gate`),
t-SNE (:mod:`.tsne`, results :mod:`.tsne_results`), the recipe ablation (:mod:`.ablation`) and
the scorecard (:mod:`.scorecard`)."""
