"""Bring a team's FAQ in (`faqbot import`: spreadsheets, JSON, help-center exports, folders of
pages) and take it out (`faqbot export`)."""
