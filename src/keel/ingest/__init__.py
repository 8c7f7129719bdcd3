"""Ingestion: run Airbyte source connectors locally into the ``<SOURCE>_DATA_RAW`` schemas.

- :mod:`.runner`: :func:`~keel.ingest.runner.ingest_source` (what ``keel ingest``
  calls) and :func:`~keel.ingest.runner.demo_command`;
- :mod:`.connectors`: :func:`~keel.ingest.connectors.ensure_connector`, a
  connector from the package index in its own venv under ``.keel/connectors``;
- :mod:`.protocol`: speak the Airbyte protocol to a connector executable;
- :mod:`.catalog`: configure the discovered catalog (sync modes, keys, cursors);
- :mod:`.schema`, :mod:`.writer`: land records as Airbyte's Snowflake destination
  does, committed together with the connector's STATE (the engine SQL is the
  adapter's, :mod:`keel.adapters.raw`);
- :mod:`.results`: progress events, results, :class:`~keel.ingest.results.IngestFailed`;
- :mod:`.demo`: the built-in demo sources with fault switches.

Nothing is imported here, so ``python -m keel.ingest.demo`` starts quickly.
"""
