"""Workload-side steps of the golden path that no production workload performs (sending traffic).

The golden path itself is orchestrated by `mlplatform local demo` (infra/local/demo.py), which
runs each production workload's own entrypoint in turn: data → streaming → training → serving →
monitoring. This package only adds what stands in for the bank's systems: the card switch
sending scoring requests.
"""
