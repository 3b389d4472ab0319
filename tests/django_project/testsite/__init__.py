"""The test site of the Django integration tests."""
