use scope::model;

model! {
    pub struct Block("block", width: usize) {
        w: [width],
    }

    pub struct Gpt2("model", n: usize) {
        #[model(repeat = n, scope = "h{i}")]
        h: model Block(4),
        // `h10` is element 10 of `h{i}` and element 0 of `h1{i}`.
        #[model(repeat = n, scope = "h1{i}")]
        g: model Block(4),
    }
}

fn main() {}
