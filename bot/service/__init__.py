"""A chat turn end to end over the store: hand-offs, curation, missed topics, GDPR."""
