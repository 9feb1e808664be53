use scope::model;

model! {
    pub struct Layer("layer", width: usize) {
        w: [width],
    }

    pub struct Encoder("encoder", deep: bool) {
        #[model(repeat = deep)]
        layer: model Layer(4),
    }
}

fn main() {}
