"""Accounts and access: password and token checks, the access policy, rate limits. No FastAPI imports."""
