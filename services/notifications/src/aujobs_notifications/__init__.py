"""Australia Jobs notifications service: the email channel (DESIGN.md §1)."""
