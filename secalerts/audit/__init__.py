"""The audit trail: who changed which rule, suppression or API key, and how."""
