"""Main-image pipeline: loaders, the dbt driver and the `main-image` command line."""

__version__ = "0.1.0"
