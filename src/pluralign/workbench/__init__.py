"""The organiser workbench: Interview → Practice → Integration as web pages.

- **Interview** (:mod:`pluralign.workbench.interview`): the organiser chats with the configured
  model; each answer is drafted into a proposed clause the organiser accepts, edits or rejects;
  the accepted ones are saved as a constitution whose clauses name the turn that proposed them.
- **Practice**: synthesis (questions → answers → critique → revision, :mod:`pluralign.llm.synth`)
  from that constitution, as a background job.
- **Integration**: preference training (:func:`pluralign.train.train_preferences`) on the practice
  data, as a background job, with its loss curve.

Background jobs (:mod:`pluralign.workbench.jobs`) run one at a time, each in its own process;
their state is in the store. The pages are in :mod:`pluralign.workbench.web` (docs/web.md,
"Workbench").
"""
