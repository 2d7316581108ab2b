"""Calls: upload (intake), retry, and the view of a call that routes and pages share."""
