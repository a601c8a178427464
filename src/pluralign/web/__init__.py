"""The assembly web app: participants vote and propose statements, organisers run and export.

FastAPI + Jinja2 + HTMX (served from ``static/``, no CDN). Build the app with
:func:`pluralign.web.app.create_app`; ``pluralign web`` serves it with uvicorn. Importing this
package stays light: FastAPI loads only in :mod:`pluralign.web.app`.
"""
