"""The `hotline` command: one entry point, sub-commands loaded only when used."""
