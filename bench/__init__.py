"""Benchmarks of a Tongban node on PostgreSQL: ``python -m bench.run_all`` (``make bench``).

Three scenarios, each against its target from the performance issue:

- ``submit``: applications submitted through ``POST /api/v1/cases`` by 16 concurrent clients;
- ``queue``: a reviewer's queue (API and workbench page) with 1,000,000 cases in the database;
- ``search``: catalogue search over about 150,000 items, in process and through ``GET /api/v1/items``.

The data lives in its own database (``tongban_bench``), generated once and reused; ``--rebuild``
starts again from an empty database. Results go to ``docs/benchmarks.md`` (see ``bench/report.py``).
"""
