"""Security events: ingestion and listing."""
