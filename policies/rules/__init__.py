"""The rules, one module per domain. Each module exports `POLICIES`, in catalogue order."""
