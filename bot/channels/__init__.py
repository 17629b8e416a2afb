"""Channel adapters: thin layers that turn a channel's messages into ChatService turns."""
