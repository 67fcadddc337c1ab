"""Layer 4: runs -- the paper's feature-model experiments and parameter sweeps."""
