"""Sample sales calls: scripts and offline speech synthesis, for the demo and the tests."""
