"""The one place for Streamlit glue: cached engine and settings, the signed-in actor, role gates."""
