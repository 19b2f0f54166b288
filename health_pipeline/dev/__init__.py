"""Development helpers, not the product: the demo, the sandbox of every registered source, throw-away
VictoriaMetrics and PostgreSQL servers, `dagster dev` as a managed child."""
