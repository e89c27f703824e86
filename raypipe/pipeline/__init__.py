"""The Ray Data extraction pipeline: stages, their resources, and the shard writer."""
