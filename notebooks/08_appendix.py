# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Appendix: reproducibility record
#
# Every step of the workflow wrote a `provenance.json` next to its outputs: the profile and
# parameters it ran with, its seed, the git commit of the code, the package versions, the
# hardware and how long it took. This appendix gathers them; it is generated, like the
# chapters, from the files of this run.

# %% tags=["parameters"]
profile: str = "smoke"

# %% tags=["remove-cell"]
from thesis_lib.book.parameters import check_parameters

check_parameters(globals())  # papermill -p with a name this notebook does not take stops the run here

# %%
from thesis_lib.book.pages import show
from thesis_lib.book.pages.appendix import AppendixPage

page = AppendixPage(profile)
show(page.summary())

# %% [markdown]
# ## Steps, seeds and run times
#
# One row per step's output folder: the step that wrote it, the commit of the code (`+dirty`
# when it ran with changes not committed, so the commit alone does not rebuild it), its wall
# time and its peak memory; the folded table adds when it started, its seed and the CPU cores
# and GPUs it could use. A step that a later build did not need to rerun keeps the commit and
# date it ran at. Each step's parameters are folded under its name at the end of the page.

# %% tags=["remove-input"]
show(page.steps_table())

# %% [markdown]
# ## Environment
#
# The machine of the last recorded step, and each package's version as the steps recorded it:
# a package whose version changed between steps shows every version seen.

# %%
show(page.environment())

# %% [markdown]
# ## Parameters per step
#
# The parameters each step resolved from the profile `configs/<profile>.yaml` and its
# command-line overrides (one column per run of the step).

# %%
show(page.parameters())
