use scope::model;

pub struct Config {
    pub width: usize,
}

model! {
    pub struct Layer("layer", cfg: Config) {
        #[keep]
        cfg: Config,
        w: [cfg.width],
    }
}

fn main() {}
