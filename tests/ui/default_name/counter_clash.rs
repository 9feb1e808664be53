use scope::model;

model! {
    pub struct Dense("dense", width: usize) {
        kernel: [width, width],
    }

    pub struct Heads("heads", width: usize) {
        #[model(default_name = "dense")]
        first: model Dense(width),
        #[model(default_name = "dense")]
        second: model Dense(width),
        // `second` took `dense_1` from the counters: opening it again would clash.
        #[model(scope = "dense_1")]
        third: model Dense(width),
    }
}

fn main() {}
