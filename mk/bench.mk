# Benchmarks (benchmarks/README.md, docs/performance.md): full, incremental (1% of hotels
# changed) and no-input runs of the pipeline on generated data, each a separate process,
# against the two floors (floor.sql, floor_typed.sql). Prints a table; one JSON object per
# measurement lands in benchmarks/results/. Sizes: s = 20k hotels (about a minute), task-100k and
# task-300k = the original task's format (images, tags, main images),
# m = 200k, l = 1M hotels (~23M image lines, ~8 GB of landing data under benchmarks/data).

BENCH_SIZE ?= s
BENCH_ARGS ?=

.PHONY: bench bench-clean

bench: setup ## benchmark full / incremental / no-input runs and the two floor queries (BENCH_SIZE=s|m|l|task-100k|task-300k)
	$(BIN)/python benchmarks/bench.py --size $(BENCH_SIZE) $(BENCH_ARGS)

bench-clean: ## remove the generated benchmark data and warehouses (keeps results)
	rm -rf benchmarks/data
