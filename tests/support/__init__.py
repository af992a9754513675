"""Shared test support: synthesis under mocks and schema validation of rendered objects."""
