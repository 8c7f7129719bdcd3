"""The project on disk: ``keel.yml`` and ``contracts/*.yml``, loaded and validated."""
