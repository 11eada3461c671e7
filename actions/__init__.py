"""rasa_sdk custom actions. The service runs them in-process; `rasa run actions` works too."""
