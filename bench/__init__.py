"""Benchmarks: throughput and latency measured outside the test suite (`make bench`)."""
