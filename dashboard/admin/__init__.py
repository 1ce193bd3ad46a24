"""Django admin for every model, by area, with list displays and filters people use.

Importing the package registers every model (Django's admin autodiscovery imports it).
"""

from dashboard.admin import access, governance, notify, repos, scans, standard

__all__ = ["access", "governance", "notify", "repos", "scans", "standard"]
