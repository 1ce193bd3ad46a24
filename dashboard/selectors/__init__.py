"""Read-side queries for pages: a fixed number of SQL queries per page, whatever the data size."""
