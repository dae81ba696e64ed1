"""HTTP routes beside the NiceGUI pages: sign-in and sign-out, the session guard, branding."""
