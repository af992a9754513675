"""`python -m workloads.training` (or under `torchrun ... -m workloads.training`): see train.py."""

import sys

from workloads.training.train import main

sys.exit(main())
