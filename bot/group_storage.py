"""Tables and queries for group study challenges (filled by the group feature)."""
