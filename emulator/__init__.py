"""The emulator server and the command-line interface."""
