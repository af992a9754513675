"""checkov external checks for the UAE platform (loaded with `--external-checks-dir`).

checkov imports every `.py` file here inside its own environment (.venv-checkov), so these
modules import only checkov and the standard library, never the platform's packages. Every
`.yaml` file here is a checkov YAML (graph) policy. Nothing else may live in this folder.
"""
