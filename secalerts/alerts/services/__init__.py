"""Alert writes: detection results (matches.py) and analyst triage (triage.py)."""
