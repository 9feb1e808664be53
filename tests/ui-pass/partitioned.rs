use scope::partition::{PartitionedVariable, Partitioner};
use scope::{model, variable_scope, Model, Registry};

#[variable_scope("emb", vocab: usize, split: Partitioner)]
pub struct Emb {
    #[var(shape = [vocab, 2], partitioner = fixed_size(3, 0))]
    pub table: PartitionedVariable,
    #[var(shape = [vocab, 2], partitioner = split.clone())]
    pub other: PartitionedVariable,
    #[var(shape = [vocab, 2], partitioner = Partitioner::min_max(2, 1, 1))]
    pub third: PartitionedVariable,
}

model! {
    pub struct Wide("wide", vocab: usize) {
        #[var(partitioner = variable_axis_size(64))]
        w: [vocab, 4] = zeros,
        #[model(args(vocab, Partitioner::fixed_size(2, 0)))]
        emb: model Emb,
    }
}

fn main() -> scope::Result<()> {
    let reg = Registry::new();
    let wide = Wide::new(&reg, 7)?;
    let _: &PartitionedVariable = &wide.w;
    assert_eq!(wide.emb.table.parts().len(), 3);
    assert_eq!(Wide::manifest()[0].1.partitioner, Some("variable_axis_size(64)"));
    Ok(())
}
