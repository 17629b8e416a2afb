"""The Facebook Messenger channel: webhook, Send API, Handover Protocol, Page settings."""
