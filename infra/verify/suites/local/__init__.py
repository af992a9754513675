"""The local-platform suite: every service recorded under the state directory (conftest)."""
