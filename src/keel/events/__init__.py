"""The event service: Airbyte webhooks in, gate runs out, a status page and metrics."""
