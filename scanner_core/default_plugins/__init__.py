"""Built-in extension plugins, registered through the same hooks as installed ones."""
