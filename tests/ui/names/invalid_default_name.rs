use scope::model;

model! {
    pub struct Dense("dense", width: usize) {
        kernel: [width, width],
    }

    pub struct Attention("attention") {
        #[model(default_name = "query:0")]
        query: model Dense(2),
    }
}

fn main() {}
