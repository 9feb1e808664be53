use scope::partition::PartitionedVariable;
use scope::{model, variable_scope, Variable};

#[variable_scope("m", n: usize, table: Variable)]
pub struct M {
    /// A scalar cannot be split.
    #[var(shape = [], partitioner = fixed_size(2))]
    pub scalar: PartitionedVariable,
    /// Axis 2 of a rank-2 shape.
    #[var(shape = [n, 4], partitioner = fixed_size(2, 2))]
    pub axis: PartitionedVariable,
    /// A tied variable creates nothing.
    #[var(tied = table, shape = [n, 4], partitioner = fixed_size(2))]
    pub tied: Variable,
    /// The field holds parts.
    #[var(shape = [n, 4], partitioner = fixed_size(2))]
    pub plain: Variable,
    /// Parts without a partitioner.
    #[var(shape = [n, 4])]
    pub parts: PartitionedVariable,
    /// A nested model is not partitioned.
    #[model(partitioner = fixed_size(2))]
    pub nested: D,
}

model! {
    pub struct D("d") {
        #[var(partitioner = fixed_size(2))]
        w: [],
    }
}

fn main() {}
