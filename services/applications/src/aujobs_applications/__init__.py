"""Australia Jobs applications service."""
