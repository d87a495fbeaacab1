"""A Sphinx extension for this book: no live-code (Thebe) machinery in the pages.

Jupyter Book 1 always loads sphinx-thebe. This book is read offline and shows executed
results, so it has no use for live kernels; worse, sphinx-thebe declares its configuration
script once per reading pass, and a page that declares ``const THEBE_JS_URL`` twice throws a
JavaScript error. The extension unhooks sphinx-thebe's event handlers before any document is
read, and drops its stylesheet, so none of its files reach the pages. Listed in ``_config.yml`` under
``sphinx: extra_extensions``.
"""

from __future__ import annotations


def _unhook_thebe(app, config) -> None:
    for listeners in app.events.listeners.values():
        listeners[:] = [lst for lst in listeners if getattr(lst.handler, "__module__", "") != "sphinx_thebe"]
    # its stylesheet is registered at set-up, and its static folder (now unhooked) would hold it
    app.registry.css_files[:] = [(name, attrs) for name, attrs in app.registry.css_files
                                 if name != "sphinx-thebe.css"]


def setup(app) -> dict:
    app.connect("config-inited", _unhook_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
