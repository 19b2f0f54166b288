"""The sources: one package each (health_pipeline/sources/<name>/), listed once in the registry."""
