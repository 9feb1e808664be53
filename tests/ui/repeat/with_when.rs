use scope::model;

model! {
    pub struct Layer("layer", width: usize) {
        w: [width],
    }

    pub struct Encoder("encoder", n: usize, deep: bool) {
        #[model(repeat = n, when = deep)]
        layer: model Layer(4),
    }
}

fn main() {}
