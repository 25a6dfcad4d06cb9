"""KPIs, cohorts, churn features and model: pure functions on DataFrames; plotly figures."""
