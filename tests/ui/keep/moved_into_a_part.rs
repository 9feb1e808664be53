use scope::model;

#[derive(Debug)]
pub struct Config {
    pub width: usize,
}

model! {
    pub struct Inner("inner", cfg: Config) {
        w: [cfg.width],
    }

    pub struct Outer("outer", cfg: Config) {
        #[keep]
        cfg,
        // Moves `cfg`, which the model keeps: pass a copy or the parts it needs.
        #[model(args = (cfg,))]
        inner: model Inner,
    }
}

fn main() {}
