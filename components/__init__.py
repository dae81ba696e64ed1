"""Reusable NiceGUI pieces: the page frame, money labels, cards."""
