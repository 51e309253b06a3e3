"""What every feature uses, and the rules that protect people.

Plumbing: settings, the database, the one clock, rendering, input checks, error pages, the
security headers and CSRF, sessions and the guards on every route (auth), audit, rate limits,
the outbox. Rules: who may see what (access), who vouches for whom (vouching), who is told
(alerts), the client search index. Nothing here imports a feature package.
"""
