"""HTTP-level guards that run before any view (see `badinput`)."""
