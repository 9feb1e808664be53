use scope::model;

model! {
    /// A wide model whose tables are split in parts, as TF1's `partitioner=` splits them.
    pub struct Wide("wide", vocab: usize, dim: usize) {
        #[var(partitioner = fixed_size(2))]
        embedding: [vocab, dim] = random_normal(0.0, 0.1),
        linear {
            #[var(partitioner = min_max(8, 0, 256))]
            weights: f64[vocab, 1] = zeros,
        }
        bias: [1] = zeros,
    }
}

fn main() {}
