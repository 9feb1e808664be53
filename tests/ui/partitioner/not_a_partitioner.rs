use scope::partition::PartitionedVariable;
use scope::variable_scope;

#[variable_scope("m", n: usize)]
pub struct M {
    #[var(shape = [n, 2], partitioner = n)]
    pub a: PartitionedVariable,
}

fn main() {}
