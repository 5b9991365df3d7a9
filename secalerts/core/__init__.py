"""Cross-cutting pieces with no models: errors, API plumbing, health, request logging,
server tuning, the SQLite backend (sqlite/) and the `serve` command."""
