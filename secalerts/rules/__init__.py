"""Detection rules: storage, API, and the compiled-rule registry."""
