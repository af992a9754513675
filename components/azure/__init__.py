"""Azure building blocks for the `azure` target (pulumi_azure_native v3).

| module | components | what they own |
|---|---|---|
| `identity` | `ManagedIdentity` | user-assigned identity, federation, scoped role grants |
| `network` | `Network` | VNet, subnets, NSGs, private DNS; `private_endpoint()` |
| `monitoring` | `LogAnalytics`, `VnetFlowLog`, | workspace (queried privately only), Activity |
| | `MonitorPrivateLink` | Log, diagnostics, flow logs; its Private Link Scope |
| `keyvault` | `KeyVault` | Key Vault Premium (RBAC, private), rotated HSM keys |
| `storage` | `StorageAccount` | StorageV2 with CMK, private endpoints, WORM audit |
| `databases` | `PostgresFlexible`, `RedisCache` | PostgreSQL Flexible, Azure Cache for Redis |
| `eventhubs` | `EventHubsKafka` | Event Hubs Premium (Kafka endpoint, CMK), tenant hubs |
| `registry` | `ContainerRegistry` | ACR Premium (CMK, private, no admin user) |
| `aks` | `DiskEncryptionSet`, `AksCluster` | private AKS, system + GPU agent pools |

Every component takes explicit locations (nothing falls back to a provider default) and tags;
the stack passes the region-pinned `azure_native.Provider` through `opts`, and children inherit
it through `parent=self`.
"""
