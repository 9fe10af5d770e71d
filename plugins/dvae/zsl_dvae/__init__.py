"""Disentangled-VAE (Li, Xu, Wei and Deng, AAAI 2021) as a zsl-toolkit method plugin.

Installed as the ``dvae`` entry of the ``zsl_toolkit.methods`` group; it uses only the
toolkit's public API (:mod:`zsl_toolkit.methods`, :mod:`zsl_toolkit.methods.vae`), so it is a
template for third-party method plugins.
"""

from zsl_dvae.method import DisentangledVAE

__all__ = ["DisentangledVAE"]
