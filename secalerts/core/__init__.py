"""Cross-cutting pieces with no models: errors, API plumbing, health, request logging."""
