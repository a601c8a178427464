"""File formats that more than one stage reads or writes, below every stage.

- :mod:`~pluralign.formats.polis`: the Polis export format (:class:`PolisExport`, building one,
  writing one), written by the simulator and the store's exporter;
- :mod:`~pluralign.formats.polis_read`: the one reader of a Polis export folder, used by
  ``pluralign import polis`` and ``pluralign aggregate``;
- :mod:`~pluralign.formats.statement_bank`: the statement bank (``statements.yaml``, statements
  with per-group stances) the simulator draws from and simulated preferences reuse.

These modules import only the foundation (``errors``, ``io``, ``csvtable``), so the stages that
share them (``simulate``, ``data``, ``aggregate``) need not import each other
(docs/architecture.md).
"""
