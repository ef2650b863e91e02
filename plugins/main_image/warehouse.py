"""Old import path of ``RunParameters`` (now ``main_image.runs``), kept only until the dev tools
that still import it (``main_image.demo``) move; the DuckDB warehouse is
``main_image.engines.duckdb.warehouse``."""

from main_image.runs import RunParameters

__all__ = ["RunParameters"]
