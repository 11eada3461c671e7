"""The Zalo OA adapter: webhook (input), output channel, API client, and a local sandbox."""
