"""The JSON API under /api/v1/ (see app.py)."""
