use scope::{variable_scope, Variable};

#[variable_scope("embeddings", use_token_type: bool)]
pub struct Embeddings {
    #[var(when = use_token_type, shape = [2, 4])]
    pub token_type_embeddings: Variable,
}

fn main() {}
