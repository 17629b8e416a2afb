"""Instagram Direct, through the Messenger Platform: a second instance of the Messenger channel."""
