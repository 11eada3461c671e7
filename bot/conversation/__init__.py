"""From a recorded webhook event to its replies: the worker, per-citizen queues, rate limits,
the worker processes."""
