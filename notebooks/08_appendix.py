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

from IPython.display import Markdown, display

from thesis_lib import config, provenance

art = config.artifacts_dir(profile)
records = provenance.collect(art)
if not records:
    raise FileNotFoundError(f"{art}: no provenance.json found; run the workflow first "
                            "(make book)")
steps = provenance.steps_table(records)
commits = sorted(set(steps.commit))
display(Markdown(
    f"Profile **{profile}**, outputs in `artifacts/{profile}/`: {len(records)} recorded "
    f"steps, code at commit{'s' if len(commits) > 1 else ''} "
    + ", ".join(f"`{c}`" for c in commits)
    + f"; {steps['duration (s)'].sum() / 60:.1f} minutes of recorded run time in all."
))

# %% [markdown]
# ## Steps, seeds and run times

# %% tags=["remove-input"]
display(Markdown(steps.to_markdown(index=False)))

# %% [markdown]
# ## Environment

# %%
last = records[-1]
hw = last.get("hardware", {})
display(Markdown(
    f"Python {last['python']} on {last['platform']}; {hw.get('cpu_cores', '?')} CPU cores; "
    f"GPUs: {', '.join(hw.get('gpus') or []) or 'none'}."
))
display(Markdown(provenance.packages_table(records).reset_index().to_markdown(index=False)))

# %% [markdown]
# ## Parameters per step
#
# The parameters each step resolved from the profile `configs/<profile>.yaml` and its
# command-line overrides (one column per run of the step).

# %%
for step in dict.fromkeys(steps.step):
    display(Markdown(f"**{step}**"))
    display(provenance.parameters_table(records, step))
