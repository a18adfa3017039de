"""Content: load and validate the texts into documents, sections and passages."""
