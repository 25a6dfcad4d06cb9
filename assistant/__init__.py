"""Recommendations: OpenAI client with structured output, and the rule-based fallback."""
