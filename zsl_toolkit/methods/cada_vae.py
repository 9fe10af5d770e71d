"""CADA-VAE (Schonfeld et al., CVPR 2019): the built-in method's entry point.

The implementation is :mod:`zsl_toolkit.methods.vae.cada`, beside the building blocks it shares
with the methods that extend it.
"""

from zsl_toolkit.methods.vae.cada import CADAVAE

__all__ = ["CADAVAE"]
