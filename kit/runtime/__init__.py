"""Code that generated DAGs call at run time (kept small: imported inside task functions)."""
