"""Signing in: emailed links, passkeys, single sign-on through an organisation's provider."""
