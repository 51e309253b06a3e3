"""Delivering and reading alerts: the notifications page, web push, email, the worker."""
