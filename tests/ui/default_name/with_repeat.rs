use scope::model;

model! {
    pub struct Dense("dense", width: usize) {
        kernel: [width, width],
    }

    pub struct Tower("tower", n: usize) {
        #[model(default_name, repeat = n)]
        layers: model Dense(4),
    }
}

fn main() {}
