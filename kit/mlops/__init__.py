"""ML lifecycle steps that pipeline tasks call: data checks, selection, registry, promotion."""
