"""The only package that talks to the database (SQLAlchemy 2 Core)."""
