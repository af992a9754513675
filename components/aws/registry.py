"""`ImageRegistry`: the in-country ECR repositories every image and chart is pulled from.

| Args | meaning |
|---|---|
| `site` | account, region, tags, protect |
| `repositories` | repository names (`mlplatform/<image path>`, `mlplatform/charts/<chart>`) |
| `kms_key_arn` | CMK for image layers at rest |
| `untagged_expire_days` | untagged manifests (superseded pushes) are removed after this |
| `force_delete` | ephemeral stacks only |

Outputs: `repositories` (name → `aws.ecr.Repository`), `urls` (name → repository URL).

Tags are immutable (UAE-K8S-003: a tag always names the same digest), every push is scanned,
layers are encrypted with the CMK. No replication configuration exists: images stay in this
region (UAE-RES-002). The mirror job copies exactly the catalogue into these repositories.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.common import AwsSite


@dataclass(frozen=True)
class ImageRegistryArgs:
    site: AwsSite
    repositories: tuple[str, ...]
    kms_key_arn: pulumi.Input[str]
    untagged_expire_days: int = 14
    force_delete: bool = False


def _lifecycle(days: int) -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"remove untagged manifests after {days} days",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": days,
                    },
                    "action": {"type": "expire"},
                }
            ]
        }
    )


class ImageRegistry(pulumi.ComponentResource):
    repositories: dict[str, aws.ecr.Repository]
    urls: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: ImageRegistryArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:aws:ImageRegistry", name, None, opts)
        site = args.site
        self.repositories, self.urls = {}, {}
        for repo in sorted(set(args.repositories)):
            slug = repo.replace("/", "-").replace(".", "-")
            repository = aws.ecr.Repository(
                f"{name}-{slug}",
                name=repo,
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                    scan_on_push=True
                ),
                encryption_configurations=[
                    aws.ecr.RepositoryEncryptionConfigurationArgs(
                        encryption_type="KMS", kms_key=args.kms_key_arn
                    )
                ],
                force_delete=args.force_delete,
                tags=site.tags_for(repo),
                opts=site.stateful(self),
            )
            aws.ecr.LifecyclePolicy(
                f"{name}-{slug}-lifecycle",
                repository=repository.name,
                policy=_lifecycle(args.untagged_expire_days),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.repositories[repo] = repository
            self.urls[repo] = repository.repository_url
        self.register_outputs({"urls": self.urls})
