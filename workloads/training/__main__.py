"""`python -m workloads.training` (or under `torchrun ... -m workloads.training`): see train.py."""

import os
import sys

# OpenMP threads that wait for work by spinning make a small model's epochs several times
# slower as soon as the CPUs are shared or capped (a pod's CPU limit, CI, a laptop): with one
# other busy process on 2 cores, an epoch took 0.21-0.25 s instead of 0.06 s (benchmarks/);
# sleeping waiters cost about 3% on an idle machine. Set before torch is imported; an
# explicit OMP_WAIT_POLICY in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from workloads.training.train import main

sys.exit(main())
