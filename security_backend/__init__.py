"""Django project package: wiring only, no domain logic."""
