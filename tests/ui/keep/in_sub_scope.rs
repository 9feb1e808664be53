use scope::model;

pub struct Config {
    pub width: usize,
}

model! {
    pub struct Layer("layer", cfg: Config) {
        inner {
            #[keep]
            cfg,
            w: [cfg.width],
        }
    }
}

fn main() {}
