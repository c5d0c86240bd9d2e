"""Data sources: database URLs and their connections, and folders of dummy tables."""
