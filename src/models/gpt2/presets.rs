//! Checkpoint name mappings for GPT-2 (filled in below).
