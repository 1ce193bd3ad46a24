"""Production settings for the webhook benchmark: every delivery comes from 127.0.0.1 here.

The only change: the per-address webhook rate limit (600 a minute) is raised, since one load
generator stands in for a git host's many deliveries. The limiter itself still runs (one cache
`add`/`incr` per delivery), so its cost stays in the measurement.
"""

from dashboard.settings import *  # noqa: F403

WEBHOOK_RATE_LIMIT = (10_000_000, 60)
