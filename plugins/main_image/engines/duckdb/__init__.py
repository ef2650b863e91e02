"""The embedded DuckDB warehouse (the default engine)."""
