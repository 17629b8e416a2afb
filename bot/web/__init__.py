"""The web adapter: app factory, middleware, rate limits, chat API, staff console and admin API."""
