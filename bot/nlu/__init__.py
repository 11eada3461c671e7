"""Vietnamese text handling for the Rasa pipeline (custom components named in config.yml)."""
