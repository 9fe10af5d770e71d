"""Exporter interface; concrete formats ship as plugins (e.g. ``zsl-onnx``)."""

from zsl_toolkit.export.base import Exporter, ExporterOption, IOSpec, io_spec

__all__ = ["Exporter", "ExporterOption", "IOSpec", "io_spec"]
