"""Customers: their record (purchases, segment, calls) and their erasure."""
