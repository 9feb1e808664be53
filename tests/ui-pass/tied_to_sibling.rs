//! `tied = ..` naming the model's own earlier parts: a sibling variable (by value or by
//! reference) and a nested model's variable. The owner is borrowed, so the model still holds
//! the part it tied to.

use scope::{model, Model, Registry};

model! {
    pub struct Embeddings("embeddings") {
        table: [4, 2],
    }

    pub struct Heads("heads") {
        table: [4, 2],
        #[var(tied = table)]
        output_weights: [4, 2],
        #[var(tied = &table)]
        by_ref: [4, 2],
        emb: model Embeddings,
        #[var(tied = emb.table)]
        decoder: [4, 2],
    }
}

fn main() {
    let reg = Registry::new();
    let heads = Heads::new(&reg).unwrap();
    assert!(heads.output_weights.ptr_eq(&heads.table));
    assert!(heads.by_ref.ptr_eq(&heads.table));
    assert!(heads.decoder.ptr_eq(&heads.emb.table));
    assert_eq!(heads.variables().len(), 2);
}
