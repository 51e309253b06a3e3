"""Joining Patchwork: signup's steps, and the walkthrough and help that follow it."""
