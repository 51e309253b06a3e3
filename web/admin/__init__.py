"""Administration: what local and state administrators see and manage in their areas.

Aggregates by council area (`dashboard`), organisations, practitioners and their bulk
onboarding, and the audit log. Every route is `@administrator` (`rules`): a local
administrator's areas bound everything they see and change, a state administrator's are the
whole deployment, and neither sees a client's team unless they are on it. Every change needs
a recent sign-in and writes an `admin.changed` audit event.
"""
