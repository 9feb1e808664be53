use scope::model;

/// A config the model keeps.
#[derive(Debug)]
pub struct Config {
    pub width: usize,
}

model! {
    /// A layer that keeps its config: its forward pass needs no other.
    pub struct Layer("layer", cfg: Config) {
        #[keep]
        cfg,
        w: [cfg.width],
    }
}

fn main() {}
