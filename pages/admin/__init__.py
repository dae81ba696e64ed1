"""The business's back office under /admin: its own sign-in, session cookie and frame."""
