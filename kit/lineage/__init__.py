"""Which code made a model: the chain from a registered model version to the commit, notebook
and parameters that produced it (``kit lineage``, the run view)."""
