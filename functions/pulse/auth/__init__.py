"""Passwords, tokens and the login rate limit."""
