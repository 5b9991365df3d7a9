"""The syslog listener: RFC 3164/5424 over UDP and TCP, batched into the ingest service."""
