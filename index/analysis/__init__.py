"""Analysis: analyzers, language detection and spelling shared by texts and questions."""
