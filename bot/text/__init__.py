"""Text normalisation, Markdown, sanitised HTML and PII redaction, shared by every layer."""
