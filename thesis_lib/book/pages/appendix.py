"""Chapter 08 (the reproducibility record): every step's ``provenance.json`` read once, and the
tables the appendix shows."""

from __future__ import annotations

from IPython.display import HTML

from thesis_lib import config, provenance
from thesis_lib.book import plots


class AppendixPage:
    """The run's step records (``records``, in the order the steps ran) and their table (``steps``)."""

    def __init__(self, profile: str):
        self.profile = profile
        art = config.artifacts_dir(profile)
        self.records = provenance.collect(art)
        if not self.records:
            raise FileNotFoundError(f"{art}: no provenance.json found; run the workflow first (make book)")
        self.steps = provenance.steps_table(self.records)

    def summary(self) -> str:
        commits = sorted(set(self.steps.commit))
        return (f"Profile **{self.profile}**, outputs in `artifacts/{self.profile}/`: {len(self.records)} recorded "
                f"steps, code at commit{'s' if len(commits) > 1 else ''} " + ", ".join(f"`{c}`" for c in commits)
                + f"; {self.steps['duration (s)'].sum() / 60:.1f} minutes of recorded run time in all.")

    def steps_table(self) -> HTML:
        """Each step's folder, name, commit, wall time and memory; start, seed, cores and GPUs folded."""
        steps = self.steps.set_index("folder")
        return HTML(plots.table_with_details(steps, ["step", "commit", "duration (s)", "peak memory (MB)"],
                                             "Every column (each step's start, seed, CPU cores and GPUs too)"))

    def environment(self) -> list[str]:
        """The last step's Python, platform, cores and GPUs, and every step's package versions."""
        last = self.records[-1]
        hw = last.get("hardware", {})
        return [f"Python {last['python']} on {last['platform']}; {hw.get('cpu_cores', '?')} CPU cores; "
                f"GPUs: {', '.join(hw.get('gpus') or []) or 'none'}.",
                provenance.packages_table(self.records).reset_index().to_markdown(index=False)]

    def parameters(self) -> list[HTML]:
        """Each step's name and the parameters it resolved, one column per run of the step."""
        return [HTML(plots.table_with_details(provenance.parameters_table(self.records, step), [],
                                              f"<b>{step}</b>: its parameters"))
                for step in dict.fromkeys(self.steps.step)]
