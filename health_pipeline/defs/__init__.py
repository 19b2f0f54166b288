"""Dagster's autoloaded definitions folder (`dg scaffold defs ...` writes here).

The project's own definitions are built from the config and the source registry
(health_pipeline/pipeline/build.py); whatever is added here is loaded beside them by
health_pipeline/definitions.py, so a scaffolded asset, sensor or component shows up in
`dg list defs`, `dagster dev` and the UI like the others.
"""
