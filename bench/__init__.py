"""Benchmarks of the distributed platform on the real RabbitMQ, PostgreSQL and Redis
(``make bench`` = ``python -m bench``): publish-to-searchable latency, the latency the
gateway adds, and search at scale (index throughput, a mixed query set on 200,000
postings), each figure printed beside the baseline in ``bench/baseline.json``."""
