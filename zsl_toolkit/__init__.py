"""zsl-toolkit: generalized zero-shot learning with pluggable datasets, methods, evaluators
and exporters."""

__version__ = "0.1.0"
