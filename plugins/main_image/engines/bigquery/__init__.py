"""BigQuery: the production warehouse (and the local BigQuery API emulator in tests)."""
