use scope::model;

model! {
    pub struct Block("block", width: usize) {
        w: [width],
    }

    pub struct Gpt2("model", n: usize) {
        #[model(repeat = n, scope = "h{i}")]
        h: model Block(4),
        h3 { extra: [1] }
    }
}

fn main() {}
