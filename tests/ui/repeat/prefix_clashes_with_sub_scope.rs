use scope::model;

model! {
    pub struct Layer("layer", width: usize) {
        w: [width],
    }

    pub struct Encoder("encoder", n: usize) {
        #[model(repeat = n)]
        layer: model Layer(4),
        layer_0 { extra: [1] }
    }
}

fn main() {}
