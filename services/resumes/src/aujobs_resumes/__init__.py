"""Australia Jobs resumes service."""
