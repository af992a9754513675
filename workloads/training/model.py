"""The card-risk network: a small MLP over the feature vector, with its input scaling built in.

`RiskNet.forward` returns logits (what DistributedDataParallel trains); `RiskScorer` wraps a
trained net and returns probabilities, and is what gets logged to MLflow, so a served model
needs nothing but the raw feature vector (`workloads.features.vectors`).
"""

from __future__ import annotations

import torch
from torch import nn


class RiskNet(nn.Module):
    def __init__(self, n_inputs: int, hidden: tuple[int, ...] = (32, 16)) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_inputs))
        self.register_buffer("scale", torch.ones(n_inputs))
        layers: list[nn.Module] = []
        width = n_inputs
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, 1))
        self.layers = nn.Sequential(*layers)

    def fit_scaling(self, features: torch.Tensor) -> None:
        """Standardise inputs with the training set's statistics (constant columns stay as is)."""
        std = features.std(dim=0)
        self.mean.copy_(features.mean(dim=0))
        self.scale.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers((features - self.mean) / self.scale).squeeze(-1)


class RiskScorer(nn.Module):
    """Fraud probability per row of a (batch, n_features) float32 tensor."""

    def __init__(self, net: RiskNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(features))
