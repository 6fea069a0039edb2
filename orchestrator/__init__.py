"""What runs on the host: runners, the pipe, state store, history, the CLI, the acceptance suite."""
