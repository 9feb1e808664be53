use scope::model;

model! {
    pub struct Embeddings("embeddings", type_vocab_size: usize) {
        #[var(when = type_vocab_size)]
        token_type_embeddings: [type_vocab_size, 4],
    }
}

fn main() {}
