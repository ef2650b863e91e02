"""Developer tools: the landing-data generator, the demo, the BigQuery emulator runner and
sample data for a local landing zone.

Production code (the pipeline, the DAGs, the service) never imports this package at module
level (tests/test_dev_isolation.py enforces it); command-line entry points may import it
inside the handler of a developer subcommand, e.g. ``main-image generate``.
"""
