"""Retention: the purge of expired calls and its periodic job."""
