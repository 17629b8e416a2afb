"""Evaluation sets, metrics, threshold calibration and public benchmarks."""
