use scope::partition::{PartitionedVariable, Partitioner};
use scope::variable_scope;

/// Embedding tables created in parts (`name/part_k`), as TF1's `partitioner=` makes them.
#[variable_scope("input", vocab: usize, dim: usize, split: Partitioner)]
pub struct Embeddings {
    /// Three parts along the rows; the first `vocab % 3` get one more row.
    #[var(shape = [vocab, dim], init = zeros, partitioner = fixed_size(3, 0))]
    pub word: PartitionedVariable,
    /// At most 4 parts of at most 1 KiB each; TF's defaults for the rest.
    #[var(shape = [vocab, dim], partitioner = variable_axis_size(1024, 0, 4))]
    pub position: PartitionedVariable,
    /// A partitioner given as a value.
    #[var(shape = [vocab, dim], partitioner = &split, when = dim > 1)]
    pub extra: Option<PartitionedVariable>,
}

fn main() {}
