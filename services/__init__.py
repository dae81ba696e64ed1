"""Domain logic of the portal. Pages, components and API routes call only this package."""
