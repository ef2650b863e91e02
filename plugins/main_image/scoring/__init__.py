"""Data scientists' scoring tools: training the learned scoring version (v3)."""
