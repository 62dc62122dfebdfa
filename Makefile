# PatentBridge. `make run` and `make test` each do all their own set-up on a fresh machine.
.PHONY: help bootstrap run run-kafka test test-unit lint infra-up infra-down lock bench chaos clean

help:
	@echo "make run        start the six services and the console on the embedded default (SQLite + local event log)"
	@echo "make run-kafka  start them on durable PostgreSQL + Apache Kafka (production mode on one machine;"
	@echo "                CLUSTER=3 for a 3-broker Kafka cluster)"
	@echo "make test       provision PostgreSQL and Kafka, run the whole suite, stop them"
	@echo "make test-unit  only the fast tests (no PostgreSQL, no Kafka)"
	@echo "make lint       ruff over all Python code (make test runs it too)"
	@echo "make chaos      writes under faults on 3 brokers and 2 replicas behind HAProxy (ARGS=\"--profile short --seed N\")"
	@echo "make bench      every target of issue 12 beside its baseline (ARGS=\"--profile smoke --json FILE\")"

bootstrap:
	@deploy/bootstrap.sh

run:
	@deploy/run.sh local

# CLUSTER=3: on a 3-broker KRaft cluster (deploy/kafka.sh) instead of the single broker.
# REPLICAS=2: two processes of every service behind HAProxy on the contract ports.
run-kafka:
	@PB_KAFKA_BROKERS=$${CLUSTER:-$${PB_KAFKA_BROKERS:-1}} PB_REPLICAS=$${REPLICAS:-$${PB_REPLICAS:-1}} deploy/run.sh kafka

test:
	@deploy/test.sh

test-unit: bootstrap
	.venv/bin/python -m pytest -m "not integration" libs services tests

lint: bootstrap
	.venv/bin/ruff check libs services tests bench

infra-up:
	@deploy/infra.sh up

infra-down:
	@deploy/infra.sh down

lock:
	@deploy/lock.sh

bench: bootstrap
	.venv/bin/python -m bench $(ARGS)

chaos: bootstrap
	.venv/bin/python -m bench.chaos $(ARGS)

clean:
	rm -rf var .venv .tools
