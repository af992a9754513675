"""The Feast feature repository of the card-risk use case and its per-environment store configs.

- `schema`: feature names, types and the defaults for customers without history (no Feast
  import, so every workload can share it cheaply).
- `definitions`: the Feast objects (entity, batch and stream feature views, push source,
  feature service).
- `store_config`: renders `feature_store.yaml` for the local platform or, from the tenant
  contract, for the cluster.
- `atomic_file_store`: the local offline store (Feast's file store, with crash-safe writes).
- `vectors`: turns a transaction and its customer features into the model's input vector.
- `repository`: applies the definitions and loads the batch sources
  (`python -m workloads.features`).
"""
