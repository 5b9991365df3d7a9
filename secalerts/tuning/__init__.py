"""Rule tuning: testing a rule on given events, backtesting it on stored ones, and
suppressions that hold back the alerts of known-benign matches; the audit trail's API."""
