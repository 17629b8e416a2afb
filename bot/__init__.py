"""faqbot: an FAQ chatbot and self-service retrieval engine."""

__version__ = "0.1.0"
