"""SQLite specifics, in one place: the database backend (settings ENGINE points here), the
file lock its transactions take turns on, and the WAL checkpoints it asks for after commits.

Other databases load none of it.
"""
