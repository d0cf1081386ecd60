"""Benchmark tools: the grids, the reference and checkpoint writers, the speed and GPU checks.

Run from the repository root as modules, e.g. ``python -m benchmarks.paired_grid --help``; they import each
other as ``benchmarks.<tool>``. ``benchmarks/results/`` holds records, not tools (its README is the index).
"""
