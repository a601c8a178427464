"""The moral graph's web pages, a feature outside the stage package (as :mod:`pluralign.publiceval`
is): participants articulate values cards and judge wisdom upgrades, organisers manage contexts
and cases, see the graph and export it (:mod:`.pages`). :mod:`.plugin` mounts the pages through
the ``web_routers`` hook of :mod:`pluralign.plugins`; the stage (:mod:`pluralign.moralgraph`: the
data model, the summary, its tables and its CLI) imports nothing from here or from the web app.
"""
