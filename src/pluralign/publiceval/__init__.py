"""Public evaluation: participants of the assembly compare two models' answers against its clauses
(docs/public_eval.md). A feature, not a pipeline stage: it adds ``pluralign eval-public``, its web
pages and its tables through the hooks of :mod:`pluralign.plugins` (:mod:`.plugin`).

Modules: :mod:`.stats` (win rates, bootstrap intervals, agreement with the judge), :mod:`.models`
(tables), :mod:`.service` (setting an evaluation up, drawing and recording ratings),
:mod:`.results` (the results file), :mod:`.web` (pages), :mod:`.cli` (commands).
"""
