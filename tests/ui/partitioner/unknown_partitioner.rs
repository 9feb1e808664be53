use scope::partition::PartitionedVariable;
use scope::{model, variable_scope};

#[variable_scope("m", n: usize)]
pub struct M {
    #[var(shape = [n, 2], partitioner = fixed_size_partitioner(4))]
    pub a: PartitionedVariable,
    #[var(shape = [n, 2], partitioner = fixed_size(4, 0, 1))]
    pub b: PartitionedVariable,
    #[var(shape = [n, 2], partitioner = min_max(-1))]
    pub c: PartitionedVariable,
    #[var(shape = [n, 2], partitioner = fixed_size(4.0))]
    pub d: PartitionedVariable,
    #[var(shape = [n, 2], partitioner = 4)]
    pub e: PartitionedVariable,
}

model! {
    pub struct D("d") {
        #[var(partitioner = fixed(2))]
        w: [4, 2],
    }
}

fn main() {}
