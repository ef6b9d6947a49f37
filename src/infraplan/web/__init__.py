"""`infraplan web`: the HTTP API and browser pages over the same typed Python API as the CLI (issue 16).

`web.app.create_app()` builds the FastAPI application; `web.requests` holds the request models (the CLI's
bounds, preset names only), `web.runners` answers them with the same API calls as `cli/commands/*`,
`web.jobs` runs long work as jobs and caches results by content hash, `catalog.index` lists presets with
their sources, and `web/static/` the pages (plain HTML and vanilla JS, Plotly from the bundled plotly.js).
"""
