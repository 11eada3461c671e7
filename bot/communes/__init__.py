"""Many communes (tenants) on one deployment: each its own OA, database, locality and officers,
all sharing one process, one model and one web server."""
