"""The rules, one module per policy-id prefix: `UAE-<PREFIX>-NNN` lives in the module that
`policies.registry.RULE_MODULES[PREFIX]` names (RES residency, LOG logging, KEY keys,
ENC encryption, NET network, IAM identity, K8S kubernetes, GOV governance, BCP continuity,
CMP compute, CHG change, SUP supply_chain). Each module exports `POLICIES`, in catalogue order.
"""
