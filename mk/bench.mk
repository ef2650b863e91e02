# Benchmarks (benchmarks/README.md, docs/performance.md): full, incremental (1% of hotels
# changed) and no-input runs of the pipeline on generated data, each a separate process,
# against the floor (one hand-written DuckDB query). Prints a table; one JSON object per
# measurement lands in benchmarks/results/. Sizes: s = 20k hotels (about a minute),
# m = 200k, l = 1M hotels (~23M image lines, ~8 GB of landing data under benchmarks/data).

BENCH_SIZE ?= s
BENCH_ARGS ?=

.PHONY: bench bench-clean

bench: setup ## benchmark full / incremental / no-input runs and the floor query (BENCH_SIZE=s|m|l)
	$(BIN)/python benchmarks/bench.py --size $(BENCH_SIZE) $(BENCH_ARGS)

bench-clean: ## remove the generated benchmark data and warehouses (keeps results)
	rm -rf benchmarks/data
