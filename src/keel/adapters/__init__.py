"""Engine adapters: one per engine behind one interface, chosen by a registry."""
