"""Pantau's web app and API for analysts (`pantau serve`): search, read, correct, dashboard.

`web.app.create_app(settings)` builds the FastAPI application; `web.accounts` holds users,
sessions and the audit log; `web.masking.mask_victims` hides victims' names and is meant to
be reused by digests and exports."""
