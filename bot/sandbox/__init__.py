"""The local Zalo sandbox: a server speaking the OA API's shapes, and the chat page."""
