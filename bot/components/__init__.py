"""Custom Rasa NLU components (issue 3, NLU side). Importing this package does no work."""
