use scope::model;

model! {
    pub struct Dense("dense", width: usize) {
        kernel: [width, width],
    }

    pub struct Attention("attention", width: usize) {
        #[model(default_name, scope = "query")]
        query: model Dense(width),
    }
}

fn main() {}
