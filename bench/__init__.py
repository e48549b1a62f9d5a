"""Benchmarks of the distributed platform on the real RabbitMQ, PostgreSQL and Redis
(``make bench`` = ``python -m bench``): publish-to-searchable latency and the latency
the gateway adds, each figure printed beside the baseline in ``bench/baseline.json``."""
