"""Users, roles and tokens."""
