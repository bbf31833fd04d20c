"""Services: one unit of work per user action, over the storage layer and the pure core."""
