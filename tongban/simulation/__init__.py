"""Federation simulation and fault injection on one machine.

- :mod:`tongban.simulation.cluster`: prepares and runs any set of city nodes (each its own SQLite
  database, key, web process and worker, in process groups of their own so a node can be killed,
  paused and restarted), a trust anchor, and read-only access to each node's database.
- :mod:`tongban.simulation.catalogue_gen`: small catalogues for the cities the reference data
  does not cover.
- :mod:`tongban.simulation.node_setup` and :mod:`tongban.simulation.anchor`: run inside a node's
  (or the anchor's) environment by the cluster.
- :mod:`tongban.simulation.client`: drives a node over its HTTP API like any client.
- :mod:`tongban.simulation.simulate`: ``python -m tongban.simulation`` (``make simulate``), the 41
  YRD cities exchanging cross-city applications; results in ``docs/simulation.md``.

The fault tests (``make soak``) are in ``tests/soak``. Nothing here is imported by a node.
"""
