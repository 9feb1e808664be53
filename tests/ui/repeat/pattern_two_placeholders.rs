use scope::model;

model! {
    pub struct Block("block", width: usize) {
        w: [width],
    }

    pub struct Gpt2("model", n: usize) {
        #[model(repeat = n, scope = "h{i}_{i}")]
        h: model Block(4),
    }
}

fn main() {}
