"""The installable app shell: manifest, service worker, offline page, icons."""
