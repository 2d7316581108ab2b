"""Trackers: named phrase lists counted in every call, by exact match and by embedding similarity."""
