"""One package per source: each declares what it is (`SOURCE`, see health_pipeline/declarations.py)
and holds everything it knows: its config section, client, tidy SQL (`tidy/`), fake API and data for
the sandbox (`sandbox/`, never imported by the product). health_pipeline/registry.py lists them."""
