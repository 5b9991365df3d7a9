"""Periodic jobs: the table of what runs how often (table.py) and the scheduler that runs
them in one process per deployment (`manage.py scheduler`, started by `manage.py serve`)."""
