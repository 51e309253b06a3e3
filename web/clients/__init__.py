"""Your clients, finding a client, adding one."""
