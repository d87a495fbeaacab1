"""The book's making: figures (:mod:`.plots`), diagrams (:mod:`.diagrams`), folding
papermill's parameters cell (:mod:`.executed`), offline Sphinx (:mod:`.sphinx_offline`) and
the built site's browser check (:mod:`.sitecheck`, :mod:`.headless`)."""
