"""Demo data: generated git repositories with a year of history, scanned for real.

- `files`: the model project (a copy of the golden fixture) and generated files (uv.lock, env).
- `defects`: reversible departures from the standard, and the other project shapes.
- `catalog`: the demo organisation: teams, people and repository profiles.
- `gitgen`: writes a profile's history as a real git repository with dated commits.
- `history`: picks the commits to scan and runs the engine over them.
- `builder`: the Django side: accounts, teams, registration, scans, roll-ups, the marker.
"""
