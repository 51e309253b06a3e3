"""The demo deployment's fabricated organisations, practitioners and clients.

Imported only by the command line (`python -m web demo`, `load-demo`) and tests: never by the
app's routes.
"""
