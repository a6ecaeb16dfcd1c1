"""Benchmarks behind `make bench`; each module bench_<area>.py has ``run() -> str``."""
