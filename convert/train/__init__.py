"""Training of the shipped models (`fer-train`): architectures, a resumable fit loop, the two tasks."""
