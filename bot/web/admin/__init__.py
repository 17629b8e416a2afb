"""Staff-facing adapters: the admin API (and, later, the staff console)."""
