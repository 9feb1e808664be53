use scope::{model, variable_scope};

model! {
    pub struct Layer("layer", width: usize) {
        w: [width],
    }
}

#[variable_scope("encoder", n: usize)]
pub struct Encoder {
    #[model(repeat = n, args(4))]
    pub layer: Layer,
}

fn main() {}
