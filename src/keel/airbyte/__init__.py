"""Airbyte connections held to keel's standard through Airbyte's public API."""
