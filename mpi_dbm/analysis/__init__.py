"""Offline analysis of results files: ensembles per (α, |B|) point, clusters, RMT statistics,
linear scaling and universality tests (physics.md §5–6). Public entry points re-exported here."""

from .data import Dataset, PointData, load
from .expect import Cluster, Expectation, expectation_for
from .pipeline import Analysis, AnalysisParameters, analyze, write_summary

__all__ = [
    "Analysis",
    "AnalysisParameters",
    "Cluster",
    "Dataset",
    "Expectation",
    "PointData",
    "analyze",
    "expectation_for",
    "load",
    "write_summary",
]
