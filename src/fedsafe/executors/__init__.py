"""Running one action in isolation: its runtime, its scratch folder, its confinement."""
