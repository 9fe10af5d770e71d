"""Exporter interface; concrete formats ship as plugins (e.g. ``zsl-onnx``)."""

from zsl_toolkit.export.base import Exporter, IOSpec, io_spec

__all__ = ["Exporter", "IOSpec", "io_spec"]
