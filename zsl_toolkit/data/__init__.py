"""Datasets: the ZSLData container, loaders, generators and preprocessing."""

from zsl_toolkit.data.base import Dataset
from zsl_toolkit.data.container import ZSLData

__all__ = ["Dataset", "ZSLData"]
