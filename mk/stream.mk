# The image stream (issue 14, plugins/main_image/stream/): a Kafka topic drained into the
# landing zone. `make stream-demo` runs one delivery through the bundled broker (Tansu, memory
# only, free loopback port) and the pipeline; `make test-stream` runs the broker tests;
# `make bench-stream` measures messages/s into the landing zone and produce-to-file latency.

STREAM_DEMO_HOTELS ?= 50

.PHONY: stream-demo test-stream bench-stream

stream-demo: setup ## a delivery by Kafka stream (produce -> drain -> run) on the bundled broker
	$(BIN)/python -m main_image.stream.demo --hotels $(STREAM_DEMO_HOTELS) \
		--out $(SAMPLE_DIR)/stream_demo

test-stream: setup ## the stream tests against the bundled Kafka-compatible broker
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_stream.py

bench-stream: setup ## stream throughput (1 KB records) and produce-to-landed-file latency
	$(BIN)/python benchmarks/stream_bench.py
