"""Dossier status: ingest from the one-stop system, owner verification, notifications."""
