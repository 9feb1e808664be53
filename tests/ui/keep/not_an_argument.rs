use scope::model;

pub struct Config {
    pub width: usize,
}

model! {
    pub struct Layer("layer", cfg: Config) {
        #[keep]
        config,
        w: [cfg.width],
    }
}

fn main() {}
