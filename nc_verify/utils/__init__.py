"""Layer 0: argument validation, JSON serialisation, progress reporting and report states (reports).

Nothing here knows about problem (4); every other layer may import from it.
"""
