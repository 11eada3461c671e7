"""Rasa in-process: the agent, the actions it runs without an action server, training,
evaluation."""
