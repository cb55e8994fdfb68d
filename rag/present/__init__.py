"""Presenting answers: terminal text and JSON (``render``) and the browser chat (``chat``)."""
