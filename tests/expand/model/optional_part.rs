use scope::model;

/// ALBERT's sizes, reduced.
pub struct Sizes {
    pub vocab: usize,
    pub embedding: usize,
    pub hidden: usize,
}

model! {
    /// A dense layer.
    pub struct Dense("dense", inputs: usize, units: usize) {
        kernel: [inputs, units],
    }

    /// ALBERT's factorized embedding: `embedding_hidden_mapping_in` exists only when E != H.
    pub struct Embeddings("embeddings", cfg: Sizes) {
        #[keep]
        cfg,
        word_embeddings: [cfg.vocab, cfg.embedding],
        #[model(when = cfg.embedding != cfg.hidden, scope = "embedding_hidden_mapping_in")]
        mapping: model Dense(cfg.embedding, cfg.hidden),
    }
}

fn main() {}
