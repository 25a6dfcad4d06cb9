"""Accounts, argon2id hashing, roles and the Supabase Auth adapter."""
