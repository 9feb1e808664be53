use scope::model;

model! {
    /// A GPT-2 block, reduced to one variable.
    pub struct Block("block", width: usize) {
        w: [1, width, width],
    }

    /// GPT-2's `model/h0 .. model/h{n-1}` and the default `layer_{i}`.
    pub struct Gpt2("model", n: usize, width: usize) {
        #[model(repeat = n, scope = "h{i}")]
        h: model Block(width),
        #[model(repeat = n)]
        layer: model Block(width),
    }
}

fn main() {}
