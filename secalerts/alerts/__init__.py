"""Alerts raised by rules: triage, history, and the real-time stream."""
