"""The analysts' dashboard: a Streamlit app over the reporting marts (``main-image dashboard``).

``source`` reads the marts (the DuckDB warehouse file, opened read-only for each query, or the
BigQuery reporting dataset), ``queries`` holds the SQL of each page, ``app`` is the Streamlit
script and ``launch`` starts it. Nothing here is imported by the pipeline.
"""
