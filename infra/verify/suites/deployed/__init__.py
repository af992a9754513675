"""The deployed-stack suite: cases discovered from the stack outputs and kubectl (conftest)."""
