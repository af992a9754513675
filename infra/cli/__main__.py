"""`python -m infra.cli …` is `mlplatform …`."""

from infra.cli import main

main()
