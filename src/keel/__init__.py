"""keel: the governed data foundation between Airbyte's _RAW schemas and an AI platform."""

__version__ = "0.1.0"
