"""Prophet demand models, baselines, backtests, peak-time tables and staffing suggestions."""
