"""NiceGUI pages of the customer portal; importing a module registers its routes."""
