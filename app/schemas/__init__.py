"""Pydantic request and response models: the only validation in the app."""
