"""Pages of the identity app, one module per area; urls.py imports the modules directly."""
