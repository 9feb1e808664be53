use scope::model;

model! {
    pub struct Rnn("rnn") {
        input { layer_w: [2] }
        input_layer { w: [2] }
    }
}

fn main() {}
