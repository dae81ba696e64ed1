"""Payment gateways behind one protocol: the in-process sandbox and Stripe."""
