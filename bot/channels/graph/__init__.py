"""What Meta's channels share: the Graph API client and its errors, webhook signatures, the
durable outbox's sender, and the per-customer workers that answer webhook events in order."""
