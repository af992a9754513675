"""Where checkov and what it reads live: its own environment, the custom checks and the gate.

checkov has its own virtual environment (`.venv-checkov`) because its pins conflict with ours.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
CHECKOV_DIR = REPO_ROOT / "policies" / "checkov"
CUSTOM_CHECKS = CHECKOV_DIR / "custom_checks"
GATE_FILE = CHECKOV_DIR / "gate.yaml"
CHECKOV_BIN = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"
LAUNCHER = CHECKOV_DIR / "launcher.py"  # checkov with its Kubernetes YAML on libyaml
