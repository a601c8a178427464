"""Commands that put more than one stage together, so that they sit above the stages.

The LLM layer (:mod:`pluralign.llm`) is below the constitution: its stages take clauses, and the
constitution words clauses with it. Its commands read a constitution file with the
constitution's reader (:func:`pluralign.constitution.document.read_clauses`) and interview a
model into a constitution (:mod:`pluralign.constitution.interview`), so they live here rather
than in ``pluralign/llm/``: :mod:`.llm` (``pluralign synth ...``; it mounts the others) and
:mod:`.llm_models` (``pluralign serve``, ``pluralign interview``, ``pluralign judge``). No stage
imports this package (docs/architecture.md, "Layers").
"""
