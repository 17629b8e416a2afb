"""The knowledge base: articles loaded, validated and written back."""
