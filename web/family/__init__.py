"""The family's side: the card a member shared, opened without signing in."""
