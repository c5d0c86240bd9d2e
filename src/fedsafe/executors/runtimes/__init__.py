"""The runtimes an action can run in, and what each needs on the machine."""
